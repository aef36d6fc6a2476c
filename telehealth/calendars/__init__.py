"""Calendar feeds: each clinician's private subscription link, its file and its reset."""
