"""Referrals: a request that a patient be seen by a service, recorded by a navigator or sent by
a system (the Referral Support System, a GP system). FHIR mapping: Referral -> ServiceRequest
(its `priority`, `occurrence` as the see-by date, `note`), booked into an Appointment whose
`basedOn` is the referral."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from scheduling import models as _models  # noqa: F401  (patients, services, appointments)
from telehealth.kernel.db import Base, UTCDateTime, utcnow


class Priority(enum.StrEnum):
    """The NHS e-Referral Service's priorities."""

    ROUTINE = "routine"
    URGENT = "urgent"
    TWO_WEEK_WAIT = "two_week_wait"


class ReferralStatus(enum.StrEnum):
    # Waiting for the patient (or a navigator) to book.
    OPEN = "open"
    # Booked: `appointment_id` is the appointment; the booking link now leads to "manage".
    BOOKED = "booked"
    # Withdrawn or no longer needed: nothing more is sent and nothing can be booked from it.
    CLOSED = "closed"


class Source(enum.StrEnum):
    NAVIGATOR = "navigator"  # recorded on the navigator's page
    API = "api"  # created by a system through POST /api/v1/referrals


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v.value}'" for v in values) + ")"


class Referral(Base):
    """One referral. Booked at most once: `appointment_id` is unique and set by a conditional
    UPDATE (`... WHERE appointment_id IS NULL`) in the booking's own transaction, so a double
    submit or two tabs cannot book two appointments from one referral."""

    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(_in("priority", Priority), name="priority_known"),
        CheckConstraint(_in("status", ReferralStatus), name="status_known"),
        CheckConstraint(_in("source", Source), name="source_known"),
        CheckConstraint(
            "status <> 'booked' OR appointment_id IS NOT NULL", name="booked_has_appointment"
        ),
        # A system's own id for its referral: sending it twice finds the first, never a copy.
        UniqueConstraint("source_system", "source_reference", name="uq_referrals_source"),
        Index("ix_referrals_status_see_by", "status", "see_by"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What patients and staff quote, in the booking references' alphabet.
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    priority: Mapped[str] = mapped_column(String(20), default=Priority.ROUTINE)
    # The date by which the patient should be seen (the referral's target).
    see_by: Mapped[date] = mapped_column(Date)
    # For the clinician: why the patient is referred, what to look at. Never in a message.
    notes: Mapped[str | None] = mapped_column(Text)
    # Whether the referrer judged video suitable; when not, only in-person times are offered.
    video_suitable: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default=ReferralStatus.OPEN)
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), unique=True
    )
    # When the invitation (with the personal booking link) was queued: NULL until the
    # messaging worker has queued it.
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The patient said they could not book online (and why): the navigator's worklist shows it.
    help_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    help_reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20), default=Source.NAVIGATOR)
    source_system: Mapped[str | None] = mapped_column(String(100))
    source_reference: Mapped[str | None] = mapped_column(String(100))
    referred_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
