"""Booking core: organisations, sites, clinicians, services, patients, availability,
appointments, staff accounts, tokens, idempotency keys and the audit trail.

The overlap rules are written by hand (autogenerate cannot see them): on PostgreSQL, exclusion
constraints over half-open tstzrange; on SQLite, triggers raising the same constraint names.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ACTIVE = "status NOT IN ('cancelled', 'entered-in-error')"

# name -> (column, end column): the clinician is busy until the end of the service's buffer;
# the patient and the video room only for the appointment itself.
OVERLAP_RULES = {
    "ex_appointments_clinician_busy": ("clinician_id", "busy_until"),
    "ex_appointments_patient_busy": ("patient_id", "ends_at"),
    "ex_appointments_room_busy": ("room_id", "ends_at"),
}


def create_overlap_rules() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for name, (column, end) in OVERLAP_RULES.items():
            op.execute(
                f"ALTER TABLE appointments ADD CONSTRAINT {name} EXCLUDE USING gist "
                f"({column} WITH =, tstzrange(starts_at, {end}, '[)') WITH &&) WHERE ({ACTIVE})"
            )
        return
    for event in ("insert", "update"):
        checks = "\n".join(
            f"""  SELECT RAISE(ABORT, '{name}') WHERE NEW.{column} IS NOT NULL AND EXISTS (
    SELECT 1 FROM appointments a WHERE a.{column} = NEW.{column}
      AND a.{ACTIVE} AND a.starts_at < NEW.{end} AND NEW.starts_at < a.{end}
      {"AND a.id <> NEW.id" if event == "update" else ""});"""
            for name, (column, end) in OVERLAP_RULES.items()
        )
        op.execute(
            f"CREATE TRIGGER trg_appointments_no_overlap_{event} BEFORE {event.upper()} "
            f"ON appointments WHEN NEW.{ACTIVE}\nBEGIN\n{checks}\nEND"
        )


def drop_overlap_rules() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in OVERLAP_RULES:
            op.execute(f"ALTER TABLE appointments DROP CONSTRAINT {name}")
        return
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER trg_appointments_no_overlap_{event}")


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ods_code", sa.String(length=10), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
        sa.UniqueConstraint("ods_code", name=op.f("uq_organisations_ods_code")),
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("mobile", sa.String(length=20), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("contact_preference", sa.String(length=10), nullable=False),
        sa.Column("interpreter_language", sa.String(length=50), nullable=True),
        sa.Column("access_needs", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "contact_preference IN ('email', 'sms', 'both')", name=op.f("ck_patients_contact")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("nhs_number", name=op.f("uq_patients_nhs_number")),
    )
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'clinician', 'navigator', 'reception', 'analyst')",
            name=op.f("ck_staff_users_role_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_api_tokens_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity_type", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["staff_users.id"],
            name=op.f("fk_audit_events_actor_user_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])

    op.create_table(
        "clinicians",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("profession", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_clinicians_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_clinicians_user_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinicians")),
        sa.UniqueConstraint("email", name=op.f("uq_clinicians_email")),
        sa.UniqueConstraint("user_id", name=op.f("uq_clinicians_user_id")),
    )
    op.create_index("ix_clinicians_organisation_id", "clinicians", ["organisation_id"])

    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_idempotency_keys_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("icc", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('hospital', 'community_hub', 'gp_practice')", name=op.f("ck_sites_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_sites_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("name", name=op.f("uq_sites_name")),
    )
    op.create_index("ix_sites_organisation_id", "sites", ["organisation_id"])

    op.create_table(
        "clinician_leave",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_clinician_leave_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["clinicians.id"],
            name=op.f("fk_clinician_leave_clinician_id_clinicians"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinician_leave")),
    )
    op.create_index("ix_clinician_leave_clinician_id", "clinician_leave", ["clinician_id"])

    op.create_table(
        "clinician_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("bank_holidays", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "end_time > start_time", name=op.f("ck_clinician_sessions_ends_after_start")
        ),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_until >= valid_from",
            name=op.f("ck_clinician_sessions_valid_range"),
        ),
        sa.CheckConstraint(
            "weekday BETWEEN 0 AND 6", name=op.f("ck_clinician_sessions_weekday_range")
        ),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["clinicians.id"],
            name=op.f("fk_clinician_sessions_clinician_id_clinicians"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_clinician_sessions_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinician_sessions")),
    )
    op.create_index("ix_clinician_sessions_clinician_id", "clinician_sessions", ["clinician_id"])

    op.create_table(
        "services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("specialty", sa.String(length=100), nullable=False),
        sa.Column("length_minutes", sa.Integer(), nullable=False),
        sa.Column("modes", sa.JSON(), nullable=False),
        sa.Column("usual_site_id", sa.Integer(), nullable=False),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("buffer_minutes >= 0", name=op.f("ck_services_buffer_not_negative")),
        sa.CheckConstraint("horizon_days > 0", name=op.f("ck_services_horizon_positive")),
        sa.CheckConstraint("length_minutes > 0", name=op.f("ck_services_length_positive")),
        sa.CheckConstraint("min_notice_minutes >= 0", name=op.f("ck_services_notice_not_negative")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_services_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["usual_site_id"], ["sites.id"], name=op.f("fk_services_usual_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("name", name=op.f("uq_services_name")),
    )
    op.create_index("ix_services_organisation_id", "services", ["organisation_id"])

    op.create_table(
        "video_rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_video_rooms_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_rooms")),
        sa.UniqueConstraint("site_id", "name", name=op.f("uq_video_rooms_site_id_name")),
    )
    op.create_index("ix_video_rooms_site_id", "video_rooms", ["site_id"])

    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=12), nullable=False),
        sa.Column("uid", sa.String(length=100), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("clinician_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("busy_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("booked_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(mode = 'video_home') = (site_id IS NULL)",
            name=op.f("ck_appointments_site_matches_mode"),
        ),
        sa.CheckConstraint(
            "(mode = 'video_site') = (room_id IS NOT NULL)",
            name=op.f("ck_appointments_room_matches_mode"),
        ),
        sa.CheckConstraint(
            "mode IN ('video_home', 'video_site', 'in_person')",
            name=op.f("ck_appointments_mode_known"),
        ),
        sa.CheckConstraint(
            "status IN ('booked', 'checked-in', 'arrived', 'fulfilled', 'cancelled', 'noshow', 'entered-in-error')",
            name=op.f("ck_appointments_status_known"),
        ),
        sa.CheckConstraint(
            "busy_until >= ends_at", name=op.f("ck_appointments_busy_covers_appointment")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_appointments_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["booked_by_user_id"],
            ["staff_users.id"],
            name=op.f("fk_appointments_booked_by_user_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["clinician_id"],
            ["clinicians.id"],
            name=op.f("fk_appointments_clinician_id_clinicians"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_appointments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["video_rooms.id"], name=op.f("fk_appointments_room_id_video_rooms")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_appointments_service_id_services")
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_appointments_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("reference", name=op.f("uq_appointments_reference")),
        sa.UniqueConstraint("uid", name=op.f("uq_appointments_uid")),
    )
    op.create_index(
        "ix_appointments_clinician_start", "appointments", ["clinician_id", "starts_at"]
    )
    op.create_index("ix_appointments_patient_start", "appointments", ["patient_id", "starts_at"])
    op.create_index("ix_appointments_room_start", "appointments", ["room_id", "starts_at"])
    op.create_index("ix_appointments_start", "appointments", ["starts_at"])

    op.create_table(
        "session_hubs",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["clinician_sessions.id"],
            name=op.f("fk_session_hubs_session_id_clinician_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_session_hubs_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "site_id", name=op.f("pk_session_hubs")),
    )
    op.create_table(
        "session_services",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_session_services_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["clinician_sessions.id"],
            name=op.f("fk_session_services_session_id_clinician_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "service_id", name=op.f("pk_session_services")),
    )
    op.create_index("ix_session_services_service_id", "session_services", ["service_id"])
    create_overlap_rules()


def downgrade() -> None:
    drop_overlap_rules()
    op.drop_index("ix_session_services_service_id", table_name="session_services")

    op.drop_table("session_services")
    op.drop_table("session_hubs")
    op.drop_index("ix_appointments_start", table_name="appointments")
    op.drop_index("ix_appointments_room_start", table_name="appointments")
    op.drop_index("ix_appointments_patient_start", table_name="appointments")
    op.drop_index("ix_appointments_clinician_start", table_name="appointments")

    op.drop_table("appointments")
    op.drop_index("ix_video_rooms_site_id", table_name="video_rooms")

    op.drop_table("video_rooms")
    op.drop_index("ix_services_organisation_id", table_name="services")

    op.drop_table("services")
    op.drop_index("ix_clinician_sessions_clinician_id", table_name="clinician_sessions")

    op.drop_table("clinician_sessions")
    op.drop_index("ix_clinician_leave_clinician_id", table_name="clinician_leave")

    op.drop_table("clinician_leave")
    op.drop_index("ix_sites_organisation_id", table_name="sites")

    op.drop_table("sites")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_clinicians_organisation_id", table_name="clinicians")

    op.drop_table("clinicians")
    op.drop_index("ix_audit_events_at", table_name="audit_events")

    op.drop_table("audit_events")
    op.drop_index("ix_api_tokens_user_id", table_name="api_tokens")

    op.drop_table("api_tokens")
    op.drop_table("staff_users")
    op.drop_table("patients")
    op.drop_table("organisations")
