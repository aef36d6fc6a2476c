"""The care navigator's pages: recording referrals, the worklist of patients who have not
booked, finding a patient and booking on their behalf."""
