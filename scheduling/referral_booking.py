"""Booking from a referral: the patient's own booking journey (and anyone booking on its
behalf) ends here, and a referral books at most one appointment.

The invariant is the database's: `referrals.appointment_id` is UNIQUE, and the referral is
marked booked by a conditional UPDATE (`... WHERE status = 'open' AND appointment_id IS
NULL`) in the booking's own transaction. The referral row is locked first, so a second
submit (a refresh, another tab, a double click) waits for the first to commit and then finds
the referral booked; should it not wait (SQLite's writers are serialised anyway), the UPDATE
matching no row raises `AlreadyBooked`, and the caller's rollback takes its appointment with
it. Either way one referral, one appointment.

Actor None throughout: the patient named by the signed link is no staff user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import booking, patients
from scheduling.models import AppointmentRow, Mode
from scheduling.placement import place
from scheduling.referral_models import Referral, ReferralStatus
from telehealth.kernel import audit
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import Conflict, InvalidInput, NotFound

__all__ = [
    "AlreadyBooked",
    "Choice",
    "ReferralClosed",
    "book_from_referral",
    "meet_open_referral",
    "open_referral",
    "request_help",
]


class AlreadyBooked(Conflict):
    """The referral has its appointment already: nothing more is booked from it."""

    code = "referral_already_booked"

    def __init__(self, message: str, *, appointment_id: int | None) -> None:
        super().__init__(message)
        self.appointment_id = appointment_id


class ReferralClosed(Conflict):
    code = "referral_closed"


@dataclass(frozen=True, slots=True)
class Choice:
    """The slot the patient chose: as the slot search offered it."""

    clinician_id: int
    mode: str
    site_id: int | None
    start: datetime


async def open_referral(session: AsyncSession, referral_id: int, *, lock: bool) -> Referral:
    """The referral, still open (locked for booking when `lock`); else the typed refusal."""
    statement = select(Referral).where(Referral.id == referral_id)
    if lock:
        statement = statement.with_for_update()
    referral = await session.scalar(statement)
    if referral is None:
        raise NotFound(f"no referral with id {referral_id}")
    if referral.status == ReferralStatus.BOOKED or referral.appointment_id is not None:
        raise AlreadyBooked(
            "this referral is booked already", appointment_id=referral.appointment_id
        )
    if referral.status == ReferralStatus.CLOSED:
        raise ReferralClosed("this referral is closed: nothing can be booked from it")
    return referral


async def book_from_referral(
    session: AsyncSession,
    *,
    referral_id: int,
    choice: Choice,
    patient_changes: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> AppointmentRow:
    """Book the referral's patient into `choice` for the referral's service, save the
    patient's changed contact details and needs, and mark the referral booked. Raises
    AlreadyBooked or ReferralClosed (409), InvalidInput (422) for a choice the service does
    not offer, and booking's SlotUnavailable, NoRoomFree or PatientUnavailable (409) for a
    time taken meanwhile; the caller rolls back on any of them."""
    referral = await open_referral(session, referral_id, lock=True)
    if not referral.video_suitable and choice.mode != Mode.IN_PERSON:
        raise InvalidInput.field("mode", "this referral is for an appointment in person")
    placement = await place(
        session,
        service_id=referral.service_id,
        clinician_id=choice.clinician_id,
        mode=choice.mode,
        site_id=choice.site_id,
        start=choice.start,
        patient_id=referral.patient_id,
        now=now,
    )
    booked = await booking.book(
        session, placement=placement, patient_id=referral.patient_id, booked_by=None
    )
    marked = await session.execute(
        update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.status == ReferralStatus.OPEN.value,
            Referral.appointment_id.is_(None),
        )
        .values(appointment_id=booked.id, status=ReferralStatus.BOOKED.value, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyBooked("this referral was booked meanwhile", appointment_id=None)
    await session.refresh(referral)  # the UPDATE went round the ORM
    if patient_changes:
        await patients.update_patient(
            session, referral.patient_id, patient_changes, actor_user_id=None
        )
    await audit.record(
        session,
        actor_user_id=None,
        action="referral.book",
        entity_type="referral",
        entity_id=referral.id,
        detail={"appointment_id": booked.id, "patient_id": referral.patient_id},
    )
    return booked


async def meet_open_referral(
    session: AsyncSession,
    *,
    patient_id: int,
    service_id: int,
    appointment_id: int,
    actor_user_id: int | None,
) -> int | None:
    """An appointment booked for a patient some other way than from their referral (a
    navigator's booking on their behalf) meets the patient's oldest open referral to the same
    service: marked booked by it, so the worklist stops chasing it and its invitation's link
    leads to "manage" instead of booking a second appointment. Returns the referral's id, or
    None when there is none open (or the patient's own link booked it meanwhile)."""
    oldest = (
        select(Referral.id)
        .where(
            Referral.patient_id == patient_id,
            Referral.service_id == service_id,
            Referral.status == ReferralStatus.OPEN.value,
            Referral.appointment_id.is_(None),
        )
        .order_by(Referral.id)
        .limit(1)
        .scalar_subquery()
    )
    referral_id = await session.scalar(
        update(Referral)
        .where(
            Referral.id == oldest,
            Referral.status == ReferralStatus.OPEN.value,
            Referral.appointment_id.is_(None),
        )
        .values(
            appointment_id=appointment_id, status=ReferralStatus.BOOKED.value, updated_at=utcnow()
        )
        .returning(Referral.id)
        .execution_options(synchronize_session=False)
    )
    if referral_id is not None:
        await audit.record(
            session,
            actor_user_id=actor_user_id,
            action="referral.book",
            entity_type="referral",
            entity_id=referral_id,
            detail={"appointment_id": appointment_id, "patient_id": patient_id},
        )
    return referral_id


async def request_help(session: AsyncSession, referral_id: int, reason: str) -> Referral:
    """The patient cannot book online (or no time suits them): the navigator's worklist shows
    the referral with why, and a navigator contacts them."""
    referral = await open_referral(session, referral_id, lock=True)
    referral.help_requested_at = utcnow()
    referral.help_reason = reason.strip()[:2000]
    await session.flush()
    await audit.record(
        session,
        actor_user_id=None,
        action="referral.help_requested",
        entity_type="referral",
        entity_id=referral.id,
        detail={"patient_id": referral.patient_id},
    )
    return referral
