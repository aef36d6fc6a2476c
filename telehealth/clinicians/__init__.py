"""The clinician's own pages: their week of availability (weekly and one-off sessions, leave),
changed with a preview of what each change does to booked appointments, and their calendar
feed. Admins and navigators open any clinician's week."""
