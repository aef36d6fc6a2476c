"""The patient's own pages, with no login: the front door (`/`), the booking journey from a
referral's invitation (`/book/{token}`), managing an appointment (`/manage/{token}`) and
finding a lost link (`/find-appointment`). Links are `telehealth.messaging.patient_links`."""
