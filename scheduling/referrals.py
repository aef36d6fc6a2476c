"""Referrals: recorded by a navigator or sent by a system, read, listed, closed, and the
navigators' worklist of those waiting on someone.

A system sending the same referral twice (the same `source_system` and `source_reference`)
gets the first back, never a copy; the same ids with different details are refused (409),
naming the details that differ. Reads and changes go through `scheduling.access.Access`,
which audits them. Services flush, never commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pydantic
from sqlalchemy import ColumnElement, Select, case, false, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import patients
from scheduling.access import Access, Viewer
from scheduling.models import Appointment, Patient, Service
from scheduling.referral_models import Priority, Referral, ReferralStatus, Source
from scheduling.referral_schemas import ReferralIn, ReferralQuery
from scheduling.schemas import PatientIn, PatientQuery
from telehealth.kernel.auth.models import Role
from telehealth.kernel.db import utcnow, violated_constraint
from telehealth.kernel.errors import Conflict, InvalidInput, NotFound
from telehealth.kernel.identifiers import new_reference
from telehealth.kernel.timefmt import LONDON
from telehealth.kernel.validation import validation_fields

# "Waiting too long": open, not booked, and to be seen within this many days (or overdue).
NEAR_SEE_BY = timedelta(days=7)
# "Invitation not taken up": invited this long ago and still not booked.
INVITATION_GRACE = timedelta(days=7)
_REFERENCE_ATTEMPTS = 5
_SOURCE_TAKEN = "uq_referrals_source"
_REFERENCE_TAKEN = "uq_referrals_reference"
# Most urgent first, as the worklist shows them.
URGENCY = (Priority.TWO_WEEK_WAIT, Priority.URGENT, Priority.ROUTINE)
# The details a repeat from a system must match, as the API names them.
_COMPARED = ("patient", "service_id", "priority", "see_by", "notes", "video_suitable")
_LOOKUP_KEYS = frozenset({"nhs_number", "family_name", "date_of_birth"})


# What closing a referral withdraws besides the referral itself: whatever a feature queued
# for it (its invitation: `telehealth.messaging.invitations.withdraw`). This domain imports no
# feature, so the composition root hands them in (`app.create_app`); each runs in the close's
# own transaction and answers how much it withdrew, which the close's audit row keeps.
Withdrawal = Callable[[AsyncSession, int], Awaitable[int]]
_WITHDRAWALS: list[Withdrawal] = []


def when_closed(withdrawal: Withdrawal) -> None:
    """Run `withdrawal` (with the referral's id) in every close from now on; telling it twice
    (a second app in one process) runs it once."""
    if withdrawal not in _WITHDRAWALS:
        _WITHDRAWALS.append(withdrawal)


class ReferralMismatch(Conflict):
    code = "referral_mismatch"


class ReferralNotOpen(Conflict):
    code = "referral_not_open"


@dataclass(frozen=True, slots=True)
class Recorded:
    referral: Referral
    created: bool


def today() -> date:
    return datetime.now(LONDON).date()


async def record(
    session: AsyncSession,
    data: ReferralIn,
    *,
    viewer: Viewer,
    source: Source = Source.API,
) -> Recorded:
    """A new open referral, or (for a repeat of a system's own ids) the one we already have."""
    access = Access(session, viewer)
    await _active_service(session, data.service_id)
    if data.source_system is not None:
        # Before the patient is looked for: a repeat must not register them again.
        existing = await _by_source(session, data.source_system, data.source_reference)
        if existing is not None:
            return await _repeat(access, existing, data)
    patient = await _patient_for(access, data.patient)
    referral = Referral(
        patient_id=patient.id,
        service_id=data.service_id,
        priority=data.priority.value,
        see_by=data.see_by,
        notes=data.notes or None,
        video_suitable=data.video_suitable,
        status=ReferralStatus.OPEN.value,
        source=source.value,
        source_system=data.source_system,
        source_reference=data.source_reference,
        referred_by_user_id=viewer.id,
    )
    for _ in range(_REFERENCE_ATTEMPTS):
        referral.reference = new_reference()
        try:
            async with session.begin_nested():
                session.add(referral)
                await session.flush()
        except IntegrityError as exc:
            taken = violated_constraint(exc)
            if taken == _REFERENCE_TAKEN:
                continue  # a clash of random references: draw another
            if taken != _SOURCE_TAKEN:
                raise
            # Sent twice at once: judged as if the other request had been first.
            existing = await _by_source(session, data.source_system, data.source_reference)
            if existing is None:
                raise
            return await _repeat(access, existing, data)
        await access.audit("referral.create", "referral", referral.id, {"patient_id": patient.id})
        return Recorded(referral, created=True)
    raise AssertionError("five random references in a row were taken")


async def _repeat(access: Access, existing: Referral, data: ReferralIn) -> Recorded:
    seen = await access.session.scalar(
        select(Referral.id).where(Referral.id == existing.id, await visible(access))
    )
    if seen is None:  # says no more than that the ids are taken
        raise ReferralMismatch(
            "a referral with this source_system and source_reference was received before, "
            "by someone else: check the source_reference"
        )
    sent: dict[str, Any] = {
        "patient": await _is_their_patient(access, existing, data.patient),
        "service_id": data.service_id,
        "priority": data.priority.value,
        "see_by": data.see_by,
        "notes": data.notes or None,
        "video_suitable": data.video_suitable,
    }
    stored = {name: getattr(existing, name) for name in _COMPARED if name != "patient"}
    stored["patient"] = True
    differ = [name for name in _COMPARED if sent[name] != stored[name]]
    if differ:
        raise ReferralMismatch(
            f"referral {existing.reference} from {existing.source_system} "
            f"({existing.source_reference}) was received before with a different "
            f"{', '.join(differ)}: nothing was changed",
            fields=dict.fromkeys(differ, "differs from the referral received before"),
        )
    await access.audit("referral.read", "referral", existing.id, {"repeat": True})
    return Recorded(existing, created=False)


async def _is_their_patient(
    access: Access, existing: Referral, patient: int | dict[str, object]
) -> bool:
    """Whether the patient sent again is the referral's: the same id, or details that match
    theirs (NHS number, family name, date of birth, as many as were sent)."""
    if isinstance(patient, int):
        return patient == existing.patient_id
    stored = await access.session.get(Patient, existing.patient_id)
    sent = {k: v for k, v in patient.items() if k in _LOOKUP_KEYS and v}
    try:
        query = PatientQuery.model_validate(sent)
    except pydantic.ValidationError:
        return False
    return stored is not None and (
        (query.nhs_number is None or query.nhs_number == stored.nhs_number)
        and (
            query.family_name is None
            or query.family_name.casefold() == stored.family_name.casefold()
        )
        and (query.date_of_birth is None or query.date_of_birth == stored.date_of_birth)
    )


async def _by_source(
    session: AsyncSession, system: str | None, reference: str | None
) -> Referral | None:
    return await session.scalar(
        select(Referral).where(
            Referral.source_system == system, Referral.source_reference == reference
        )
    )


async def _active_service(session: AsyncSession, service_id: int) -> Service:
    service = await session.get(Service, service_id)
    if service is None:
        raise InvalidInput.field("service_id", f"no service with id {service_id}")
    if not service.active:
        raise InvalidInput.field("service_id", f"{service.name} is not taking referrals")
    return service


async def _patient_for(access: Access, patient: int | dict[str, object]) -> Patient:
    """By id; found by NHS number, or family name and date of birth; else registered."""
    if isinstance(patient, int):
        return await access.patient(patient, action=None, field="patient")
    if patient and set(patient) <= _LOOKUP_KEYS:
        return await _found(access, patient)
    try:
        details = PatientIn.model_validate(patient)
    except pydantic.ValidationError as exc:
        fields = validation_fields(exc, prefix="patient.")
        raise InvalidInput(
            "; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields
        ) from None
    return (await patients.register(access.session, details)).patient


async def _found(access: Access, lookup: dict[str, object]) -> Patient:
    try:
        query = PatientQuery.model_validate({**lookup, "limit": 2})
    except pydantic.ValidationError as exc:
        fields = validation_fields(exc, prefix="patient.")
        raise InvalidInput(
            "; ".join(f"{k}: {v}" for k, v in fields.items()), fields=fields
        ) from None
    try:
        found = await patients.search_patients(
            access.session, query, among=await access.patients_where()
        )
    except InvalidInput as exc:
        fields = {f"patient.{k}": v for k, v in exc.fields.items()}
        raise InvalidInput(exc.message, fields=fields) from None
    if not found:
        raise InvalidInput.field("patient", "no patient matches these details")
    if len(found) > 1:
        raise InvalidInput.field(
            "patient", "more than one patient matches: give their NHS number or id"
        )
    return found[0]


async def visible(access: Access) -> ColumnElement[bool]:
    """A WHERE clause on `referrals`: navigators and admins see every referral; a clinician
    those they made and those for the services they work on; nobody else any."""
    if access.sees_everyone:
        return true()
    if access.viewer.role != Role.CLINICIAN:
        return false()
    scope = await access.scope()
    return (Referral.referred_by_user_id == access.actor_user_id) | Referral.service_id.in_(
        scope.service_ids
    )


async def get(
    session: AsyncSession,
    referral_id: int,
    *,
    viewer: Viewer,
    action: str = "referral.read",
    lock: bool = False,
) -> Referral:
    access = Access(session, viewer)
    statement = select(Referral).where(Referral.id == referral_id, await visible(access))
    if lock:
        statement = statement.with_for_update()
    found = await session.scalar(statement)
    if found is None:
        raise NotFound(f"no referral with id {referral_id}")
    await access.audit(action, "referral", found.id, {"patient_id": found.patient_id})
    return found


async def appointment_of(session: AsyncSession, referral: Referral) -> Appointment | None:
    if referral.appointment_id is None:
        return None
    return await session.get(Appointment, referral.appointment_id)


async def list_referrals(
    session: AsyncSession, query: ReferralQuery, *, viewer: Viewer
) -> list[Referral]:
    access = Access(session, viewer)
    statement = (
        select(Referral)
        .where(await visible(access))
        .order_by(Referral.id.desc())
        .limit(query.limit)
        .offset(query.offset)
    )
    if query.status is not None:
        statement = statement.where(Referral.status == query.status)
    if query.patient_id is not None:
        statement = statement.where(Referral.patient_id == query.patient_id)
    if query.service_id is not None:
        statement = statement.where(Referral.service_id == query.service_id)
    found = list(await session.scalars(statement))
    await access.audit("referral.list", "referral", None, {"ids": [r.id for r in found]})
    return found


async def close(
    session: AsyncSession, referral_id: int, *, reason: str, viewer: Viewer
) -> Referral:
    """Withdraw an open referral: nothing more is sent (an invitation not sent yet is
    withdrawn, `when_closed`), and nothing can be booked from it. The reason is kept in the
    audit trail."""
    referral = await get(session, referral_id, viewer=viewer, action="referral.view", lock=True)
    if referral.status != ReferralStatus.OPEN:
        raise ReferralNotOpen(f"referral {referral.reference} is {referral.status}, not open")
    referral.status = ReferralStatus.CLOSED.value
    await session.flush()
    withdrawn = sum([await withdraw(session, referral.id) for withdraw in _WITHDRAWALS])
    await Access(session, viewer).audit(
        "referral.close", "referral", referral.id, {"reason": reason, "withdrawn": withdrawn}
    )
    return referral


# The worklist


@dataclass(frozen=True, slots=True)
class WorklistEntry:
    referral: Referral
    patient_name: str
    service_name: str
    reasons: tuple[str, ...]


def reasons_for(referral: Referral, *, now: datetime, on: date) -> tuple[str, ...]:
    """Why an open, unbooked referral needs a navigator (none: it does not)."""
    found = []
    if referral.see_by <= on + NEAR_SEE_BY:
        found.append("Waiting too long")
    if referral.invited_at is not None and referral.invited_at < now - INVITATION_GRACE:
        found.append("Invitation not taken up")
    if referral.help_requested_at is not None:
        reason = (referral.help_reason or "").strip() or "no reason given"
        found.append(f"Could not book online: {reason}")
    return tuple(found)


def _worklist_query(now: datetime, on: date) -> Select[Referral, str, str, str]:
    urgency = case(
        *((Referral.priority == p.value, rank) for rank, p in enumerate(URGENCY)),
        else_=len(URGENCY),
    )
    return (
        select(Referral, Patient.given_name, Patient.family_name, Service.name)
        .join(Patient, Patient.id == Referral.patient_id)
        .join(Service, Service.id == Referral.service_id)
        .where(
            Referral.status == ReferralStatus.OPEN.value,
            Referral.appointment_id.is_(None),
            or_(
                Referral.see_by <= on + NEAR_SEE_BY,
                Referral.invited_at < now - INVITATION_GRACE,
                Referral.help_requested_at.is_not(None),
            ),
        )
        .order_by(urgency, Referral.see_by, Referral.id)
    )


async def worklist(
    session: AsyncSession, *, viewer: Viewer, limit: int = 500
) -> list[WorklistEntry]:
    """Open referrals waiting on a navigator, most urgent first (priority, then see-by), each
    with why."""
    access = Access(session, viewer)
    now, on = utcnow(), today()
    rows = (
        await session.execute(_worklist_query(now, on).where(await visible(access)).limit(limit))
    ).all()
    entries = [
        WorklistEntry(
            referral=r,
            patient_name=f"{given} {family}",
            service_name=service,
            reasons=reasons_for(r, now=now, on=on),
        )
        for r, given, family, service in rows
    ]
    await access.audit(
        "referral.worklist", "referral", None, {"ids": [e.referral.id for e in entries]}
    )
    return entries
