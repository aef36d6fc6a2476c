"""The columns the bench dataset fills in each table, in the order its rows hold them."""

from __future__ import annotations

COLUMNS: dict[str, tuple[str, ...]] = {
    "organisations": ("id", "name", "ods_code", "created_at"),
    "sites": ("id", "organisation_id", "kind", "name", "address", "postcode", "icc", "active"),
    "video_rooms": ("id", "site_id", "name", "active"),
    "clinicians": ("id", "organisation_id", "name", "profession", "email", "active"),
    "services": (
        "id", "organisation_id", "name", "specialty", "length_minutes", "modes",
        "usual_site_id", "min_notice_minutes", "horizon_days", "buffer_minutes", "active",
    ),
    "patients": (
        "id", "given_name", "family_name", "date_of_birth", "nhs_number", "email",
        "postcode", "contact_preference", "created_at",
    ),
    "clinician_sessions": (
        "id", "clinician_id", "weekday", "start_time", "end_time", "valid_from",
        "valid_until", "modes", "site_id", "bank_holidays",
    ),
    "session_services": ("session_id", "service_id"),
    "session_hubs": ("session_id", "site_id"),
    "clinician_leave": ("id", "clinician_id", "starts_at", "ends_at", "reason"),
    "appointments": (
        "id", "reference", "uid", "service_id", "clinician_id", "patient_id", "mode",
        "site_id", "room_id", "starts_at", "ends_at", "busy_until", "status", "cancel_reason",
        "sequence", "created_at", "updated_at", "video_room", "medium", "finished_at",
    ),
}  # fmt: skip
Row = tuple[object, ...]
