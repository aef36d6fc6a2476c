"""The admin's pages: the directory the booking rules run on (services first; sites, rooms,
clinicians and users follow), each change validated and audited by the scheduling domain."""
