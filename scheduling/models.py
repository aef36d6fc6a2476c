"""The scheduling domain's tables. FHIR mapping: Clinician+Service sessions -> Schedule,
expanded free time -> Slot (computed, never stored), Appointment -> Appointment."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any, TypeAlias

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    SQLColumnExpression,
    String,
    Text,
    Time,
    UniqueConstraint,
    bindparam,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Mapped, mapped_column

# Foreign keys point at staff_users: its table must be registered whenever these are.
from telehealth.kernel.auth import models as _auth_models  # noqa: F401
from telehealth.kernel.db import Base, UTCDateTime, utcnow


class SiteKind(enum.StrEnum):
    HOSPITAL = "hospital"
    COMMUNITY_HUB = "community_hub"
    GP_PRACTICE = "gp_practice"


class Mode(enum.StrEnum):
    VIDEO_HOME = "video_home"
    VIDEO_SITE = "video_site"
    IN_PERSON = "in_person"


class Status(enum.StrEnum):
    """FHIR R4 Appointment.status values this service uses."""

    BOOKED = "booked"
    CHECKED_IN = "checked-in"
    ARRIVED = "arrived"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"
    NOSHOW = "noshow"
    ENTERED_IN_ERROR = "entered-in-error"


class ContactPreference(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    BOTH = "both"


# An active appointment holds its time: its clinician, patient and room cannot be booked over
# it (the exclusion constraints and SQLite triggers of migration 0001 say the same). A finished
# or missed one still held its time; only a cancelled one, or one entered in error, gave it up.
INACTIVE_STATUSES = frozenset({Status.CANCELLED, Status.ENTERED_IN_ERROR})
ACTIVE_STATUSES = frozenset(Status) - INACTIVE_STATUSES
# Still to happen or happening: the statuses a clinic can still act on (check in, finish...).
OPEN_STATUSES = frozenset({Status.BOOKED, Status.ARRIVED, Status.CHECKED_IN})


def is_active(status: SQLColumnExpression[str]) -> ColumnElement[bool]:
    """`status` is one of `ACTIVE_STATUSES`, as SQL. The values are written into the statement
    rather than sent as parameters: PostgreSQL uses the exclusion constraints' partial GiST
    indexes (`WHERE status NOT IN ('cancelled', 'entered-in-error')`) only when it can see
    that a query's filter implies theirs, and a parameter's value is not known when a prepared
    statement is planned."""
    return status.not_in(
        bindparam(
            None, sorted(INACTIVE_STATUSES), type_=String, expanding=True, literal_execute=True
        )
    )


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v.value}'" for v in values) + ")"


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    ods_code: Mapped[str | None] = mapped_column(String(10), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Site(Base):
    __tablename__ = "sites"
    __table_args__ = (CheckConstraint(_in("kind", SiteKind), name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str] = mapped_column(Text, default="")
    postcode: Mapped[str] = mapped_column(String(8))
    icc: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # What messages tell a patient coming here: how to get there and where to go inside
    # (entrance, desk, floor); the room itself is the booked video room's name.
    directions: Mapped[str | None] = mapped_column(Text)
    # The site's own desk (reception at a hub), as people dial it: "0113 496 0000".
    phone: Mapped[str | None] = mapped_column(String(20))


class VideoRoom(Base):
    __tablename__ = "video_rooms"
    __table_args__ = (UniqueConstraint("site_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Clinician(Base):
    __tablename__ = "clinicians"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), unique=True
    )
    name: Mapped[str] = mapped_column(String(200))
    profession: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Service(Base):
    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("length_minutes > 0", name="length_positive"),
        CheckConstraint("buffer_minutes >= 0", name="buffer_not_negative"),
        CheckConstraint("min_notice_minutes >= 0", name="notice_not_negative"),
        CheckConstraint("horizon_days > 0", name="horizon_positive"),
        CheckConstraint("change_notice_minutes >= 0", name="change_notice_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    specialty: Mapped[str] = mapped_column(String(100))
    length_minutes: Mapped[int] = mapped_column(Integer)
    modes: Mapped[list[str]] = mapped_column(JSON)
    usual_site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=0)
    horizon_days: Mapped[int] = mapped_column(Integer, default=56)
    buffer_minutes: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The number patients call about an appointment (to change or cancel it); messages fall
    # back to the site's phone when a service has none.
    phone: Mapped[str | None] = mapped_column(String(20))
    # Patients may change or cancel online until this long before the start; later, the
    # manage page tells them whom to phone.
    change_notice_minutes: Mapped[int] = mapped_column(Integer, default=0)


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint(_in("contact_preference", ContactPreference), name="contact"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    nhs_number: Mapped[str | None] = mapped_column(String(10), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    mobile: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(8))
    contact_preference: Mapped[str] = mapped_column(String(10), default=ContactPreference.EMAIL)
    interpreter_language: Mapped[str | None] = mapped_column(String(50))
    access_needs: Mapped[str | None] = mapped_column(Text)
    # How information must reach them (Accessible Information Standard): "large print",
    # "easy read", "BSL interpreter", ...
    accessible_information: Mapped[str | None] = mapped_column(String(200))
    # Someone comes with them (a carer, a relative): a hub's room must seat two.
    companion: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClinicianSession(Base):
    """Weekly recurring availability in Europe/London wall-clock time; a one-off extra session
    is a row whose valid_from equals valid_until."""

    __tablename__ = "clinician_sessions"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="valid_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinician_id: Mapped[int] = mapped_column(
        ForeignKey("clinicians.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    modes: Mapped[list[str]] = mapped_column(JSON)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    bank_holidays: Mapped[bool] = mapped_column(Boolean, default=False)


class SessionService(Base):
    __tablename__ = "session_services"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("clinician_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class SessionHub(Base):
    """Community hubs a session offers for video_site work; none listed means every hub."""

    __tablename__ = "session_hubs"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("clinician_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )


class StaffSite(Base):
    """The community hubs a reception login works at: reception sees those hubs' day lists
    and no others (`scheduling.access`)."""

    __tablename__ = "staff_sites"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Leave(Base):
    """An availability exception removing time: leave, training, a part day off."""

    __tablename__ = "clinician_leave"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinician_id: Mapped[int] = mapped_column(
        ForeignKey("clinicians.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")


class Appointment(Base):
    """Overlap rules live in the database: see migration 0001 for the PostgreSQL exclusion
    constraints and the SQLite triggers (names ex_appointments_*_busy).

    Writing a row has side effects, done by the database on every writer's behalf:
    - every insert and update queues the appointment's travel record in `travel_queue`
      (trigger trg_appointments_queue_travel, migration 0006), for the travel worker;
    - an insert with status booked, and an update that changes `sequence` (a move or a
      cancellation bumps it), add a row to `appointment_changes` with a copy of the
      appointment (triggers trg_appointments_record_change_*, migration 0007): the messaging
      worker turns it into the patient's confirmation, change or cancellation message.
    So whoever changes a time, mode, site or status a patient must hear of bumps `sequence`.

    Booking reads a new appointment back as an `AppointmentRow`: these columns, not an entity."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint(_in("mode", Mode), name="mode_known"),
        CheckConstraint(_in("status", Status), name="status_known"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("busy_until >= ends_at", name="busy_covers_appointment"),
        CheckConstraint("(mode = 'video_home') = (site_id IS NULL)", name="site_matches_mode"),
        CheckConstraint("(mode = 'video_site') = (room_id IS NOT NULL)", name="room_matches_mode"),
        Index("ix_appointments_clinician_start", "clinician_id", "starts_at"),
        Index("ix_appointments_patient_start", "patient_id", "starts_at"),
        Index("ix_appointments_room_start", "room_id", "starts_at"),
        Index("ix_appointments_start", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    uid: Mapped[str] = mapped_column(String(100), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    clinician_id: Mapped[int] = mapped_column(ForeignKey("clinicians.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    mode: Mapped[str] = mapped_column(String(20))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("video_rooms.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # ends_at plus the service's buffer: the clinician is busy until then.
    busy_until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=Status.BOOKED)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # iCalendar SEQUENCE: bumped on every change a calendar must see (reschedule, cancel).
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    booked_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The video room's name at the provider: unguessable, one per appointment, never reused.
    video_room: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # How the consultation actually happened; reports count telephone ones honestly.
    medium: Mapped[str | None] = mapped_column(String(20))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    call_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# What booking's INSERT ... RETURNING gives back: every column of `appointments`, by name
# (`row.starts_at`), with no entity built (building one for every booking cost a tenth of the
# request). The table above is its only description, so a new column needs nothing here.
AppointmentRow: TypeAlias = Row[Any]


class AppointmentEvent(Base):
    """Every status change and clinic message, with who and when."""

    __tablename__ = "appointment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    actor: Mapped[str] = mapped_column(String(20))  # staff, patient or system
    message: Mapped[str | None] = mapped_column(Text)


class AppointmentChange(Base):
    """The change feed: a booking, move or cancellation with a copy of the appointment as it
    then was. Written only by the database (triggers trg_appointments_record_change_*, migration
    0007); the worker turns each into messages in order and deletes it."""

    __tablename__ = "appointment_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), index=True
    )
    change: Mapped[str] = mapped_column(String(20))  # booked, rescheduled or cancelled
    sequence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(20))
    site_id: Mapped[int | None] = mapped_column(Integer)
    clinician_id: Mapped[int] = mapped_column(Integer)
    patient_id: Mapped[int] = mapped_column(Integer)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoomClosure(Base):
    """A video room out of service for a period: its slots disappear while it lasts."""

    __tablename__ = "video_room_closures"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(
        ForeignKey("video_rooms.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
