"""Placing an appointment: whether a requested time is one the service and the clinician's
clinic offer (422s naming the field when not: a start off the slot grid, in the past, beyond
the horizon, a mode the service does not offer). Whether it is still free is not asked here:
the database decides that at insert time (see `booking`).

What a start is checked against (the service's terms and the clinician's clinic that day) is
read in one round trip, and on PostgreSQL kept in a per-process `ClinicDays` cache until a
change to a table it was read from is announced (migration 0014's triggers NOTIFY
`CLINIC_CHANNEL`); a booking whose clinic day is cached reads nothing before its INSERT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Row, Select, bindparam, null, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import slots
from scheduling.directory import require_clinician, require_service, require_site
from scheduling.models import Clinician, Mode, Patient, Service, SiteKind
from scheduling.slot_inputs import (
    CLINIC_DAY,
    clinic_day_from,
    clinic_day_params,
    service_rules,
)
from telehealth.kernel.db import table_of, utcnow
from telehealth.kernel.errors import InvalidInput
from telehealth.kernel.notified_cache import NotifiedCache

# No service books further ahead (the API allows 730 days); refused before any look-up.
FURTHEST = timedelta(days=3660)


@dataclass(frozen=True, slots=True)
class Placement:
    """Where and when an appointment is to be: the parts booking and rescheduling share."""

    service_id: int
    clinician_id: int
    # The patient asked for by id, found along with the rest, or taken as asked when the
    # clinic day came from the cache: the INSERT's foreign key then answers for it (see
    # `booking.book`). None: not asked, or not found, which the caller's own look-up reports.
    patient_id: int | None
    mode: str
    site_id: int | None
    start: datetime
    end: datetime
    busy_until: datetime


class _Terms(NamedTuple):
    """What booking needs of a service (see `service_rules`)."""

    id: int
    active: bool
    length_minutes: int
    buffer_minutes: int
    min_notice_minutes: int
    horizon_days: int
    modes: list[str]


_services, _clinicians, _patients = table_of(Service), table_of(Clinician), table_of(Patient)


def _parties_statement(*, with_patient: bool) -> Select[Any]:
    # Plain columns, not entities: loading three entities cost a tenth of the request. The
    # labels keep clear of the clinic day's own column names.
    columns = [_services.c[name].label(f"service_{name}") for name in _Terms._fields]
    columns.append(_clinicians.c.active.label("clinician_active"))
    columns.append((_patients.c.id if with_patient else null()).label("found_patient_id"))
    statement = select(*columns, *CLINIC_DAY.c).join_from(
        _services, _clinicians, _clinicians.c.id == bindparam("clinician_id")
    )
    if with_patient:
        statement = statement.outerjoin(_patients, _patients.c.id == bindparam("patient_id"))
    return statement.outerjoin(CLINIC_DAY, true()).where(_services.c.id == bindparam("service_id"))


# What migration 0014's triggers NOTIFY on: a change to any table a clinic day is read from
# (services, clinicians, clinician_sessions, session_services, session_hubs,
# clinician_leave, sites, video_rooms).
CLINIC_CHANNEL = "telehealth_clinic"


@dataclass(frozen=True, slots=True)
class ClinicDay:
    """A service's terms and a clinician's clinic for it on one local day, bookings ignored."""

    service: _Terms
    shape: slots.Availability


class ClinicDays(NotifiedCache[tuple[int, int, date], ClinicDay]):
    """Clinic days by (service id, clinician id, local date), kept per process (see
    telehealth.kernel.notified_cache)."""


_PARTIES = _parties_statement(with_patient=False)
_PARTIES_AND_PATIENT = _parties_statement(with_patient=True)


@dataclass(frozen=True, slots=True)
class _Parties:
    service: _Terms
    patient_id: int | None  # the patient asked for, if given and found
    clinic_day: Sequence[Row[Any]]  # rows of CLINIC_DAY


async def _parties(
    session: AsyncSession, service_id: int, clinician_id: int, patient_id: int | None, day: date
) -> _Parties:
    """The service, the clinician, (given an id) the patient and the clinician's clinic that
    day in one round trip, as the booking path is hot. When the service or the clinician is
    missing or inactive the usual look-ups name it; a missing patient comes back as None, for
    its own look-up to name."""
    params = clinic_day_params(service_id=service_id, clinician_id=clinician_id, day=day)
    params["patient_id"] = patient_id
    statement = _PARTIES if patient_id is None else _PARTIES_AND_PATIENT
    rows = (await session.execute(statement, params)).all()
    first = rows[0] if rows else None
    if first is None or not (first.service_active and first.clinician_active):
        await require_service(session, service_id)
        await require_clinician(session, clinician_id)
        # Both were there a moment ago: changed in between, by a concurrent transaction.
        raise InvalidInput.field("service_id", "the service or its clinician just changed")
    terms = _Terms._make(first[: len(_Terms._fields)])
    return _Parties(terms, first.found_patient_id, rows)


async def _clinic_day(
    session: AsyncSession,
    service_id: int,
    clinician_id: int,
    patient_id: int | None,
    day: date,
    cache: ClinicDays | None,
) -> tuple[ClinicDay, int | None]:
    """The clinic day, from `cache` when it holds it, and the patient asked for: found along
    with it, or taken as asked when it came from the cache (see `Placement.patient_id`)."""
    key = (service_id, clinician_id, day)
    generation = 0
    if cache is not None:
        cached = cache.get(key)
        if cached is not None:
            return cached, patient_id
        generation = cache.generation
    parties = await _parties(session, service_id, clinician_id, patient_id, day)
    shape = await clinic_day_from(
        session, parties.clinic_day, service_id=service_id, clinician_id=clinician_id, day=day
    )
    found = ClinicDay(parties.service, shape)
    if cache is not None:
        cache.put(key, found, generation)
    return found, parties.patient_id


async def place(
    session: AsyncSession,
    *,
    service_id: int,
    clinician_id: int,
    mode: str,
    site_id: int | None,
    start: datetime,
    patient_id: int | None = None,
    now: datetime | None = None,
    clinic_days: ClinicDays | None = None,
) -> Placement:
    """Validate a requested slot against the service and the clinician's clinic (not against
    other bookings: the database decides those). `patient_id` only saves the caller a round
    trip: the patient comes along with the service and the clinician. `clinic_days`: the
    process's cache, where the caller has one."""
    start = start.astimezone(UTC)
    now = now or utcnow()
    # Before the look-up, which needs the start's local day: a start in year 1 or 9999 has
    # no day either side of it to look at.
    if start < now:
        raise InvalidInput.field("start", "is in the past", code="start_in_past")
    if start > now + FURTHEST:
        raise InvalidInput.field("start", "is beyond any service's booking horizon")
    day = slots.to_london(start).date()
    clinic_day, patient_id = await _clinic_day(
        session, service_id, clinician_id, patient_id, day, clinic_days
    )
    service = clinic_day.service
    if mode not in service.modes:
        raise InvalidInput.field("mode", f"the service offers {', '.join(service.modes)} only")
    site_id = await _check_site(session, mode, site_id)
    rules = service_rules(service)
    _check_notice(service, rules, start, now)
    wanted = slots.Slot(start, start + rules.length, clinician_id, mode, site_id)
    _check_offered(clinic_day.shape, rules, wanted, now)
    end = wanted.end
    return Placement(
        service.id, clinician_id, patient_id, mode, site_id, start, end, end + rules.buffer
    )


def _check_notice(
    service: _Terms, rules: slots.ServiceRules, start: datetime, now: datetime
) -> None:
    if start < now + rules.min_notice:
        raise InvalidInput.field(
            "start", f"needs at least {service.min_notice_minutes} minutes' notice"
        )
    if start > now + rules.horizon:
        raise InvalidInput.field(
            "start", f"is beyond the booking horizon of {service.horizon_days} days"
        )


def _check_offered(
    shape: slots.Availability, rules: slots.ServiceRules, wanted: slots.Slot, now: datetime
) -> None:
    """Refuse a start that is not one of the slots the clinician's clinic offers that day."""
    if not slots.is_offered(shape, rules, wanted, now):
        raise InvalidInput.field(
            "start",
            "is not a slot this clinician offers for this service, mode and site "
            "(off the slot grid, outside their sessions, on leave or a bank holiday)",
            code="not_a_slot",
        )


async def _check_site(session: AsyncSession, mode: str, site_id: int | None) -> int | None:
    if mode == Mode.VIDEO_HOME:
        if site_id is not None:
            raise InvalidInput.field("site_id", "must be left out for video_home")
        return None
    if site_id is None:
        raise InvalidInput.field("site_id", f"is required for {mode}")
    kind = SiteKind.COMMUNITY_HUB if mode == Mode.VIDEO_SITE else None
    await require_site(session, site_id, kind=kind)
    return site_id
