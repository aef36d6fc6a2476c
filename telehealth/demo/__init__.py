"""The demo: a Morecambe Bay partnership with clinics, bookings and travel records."""
