"""Calendar files: the patient's invite (signed link and its route) and clinicians' feeds."""
