"""The free times a navigator may move an appointment to: the slot search's, as GET
/api/v1/slots finds them (`load_availability` and `expand_slots`), in the appointment's own
service; and each choice as a form carries it (a way of being seen and where, "video_site:12";
a time, "start|clinician|site") and as a person reads it ("Tuesday 3 March, 9:30am")."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import slots
from scheduling.models import Mode, Service
from scheduling.slot_inputs import ForPatient, load_availability, patient_busy, service_rules
from telehealth.kernel import timefmt
from telehealth.kernel.db import utcnow

# The ways of being seen are offered when they have free time this far ahead, and the
# to-rebook page looks this far for other times.
LOOKAHEAD = timedelta(weeks=12)


def today() -> date:
    return slots.to_london(utcnow()).date()


async def free_slots(
    session: AsyncSession,
    service: Service,
    *,
    start: date,
    end: date,
    mode: str | None = None,
    site_id: int | None = None,
    patient: ForPatient | None = None,
) -> list[slots.Slot]:
    """The service's free slots in local dates [start, end], as GET /api/v1/slots finds them;
    for a `patient`, without the times their other appointments overlap."""
    found = slots.expand_slots(
        await load_availability(session, service_id=service.id, start_date=start, end_date=end),
        service_rules(service),
        start_date=start,
        end_date=end,
        now=utcnow(),
        mode=mode,
        site_id=site_id,
    )
    if patient is None:
        return found
    return slots.clear_of(found, await patient_busy(session, patient, start, end))


def how_value(mode: str, site_id: int | None) -> str:
    """One radio's value for a way of being seen and where: "video_home", "video_site:12"."""
    return mode if site_id is None else f"{mode}:{site_id}"


def read_how(text: str) -> tuple[str, int | None] | None:
    mode, _, site = text.partition(":")
    if mode not in {m.value for m in Mode}:
        return None
    if mode == Mode.VIDEO_HOME:
        return (mode, None) if not site else None
    if not site.isdigit() or not 1 <= int(site) <= 2**31 - 1:
        return None
    return mode, int(site)


def slot_value(s: slots.Slot) -> str:
    return f"{s.start.isoformat()}|{s.clinician_id}|{s.site_id or ''}"


def read_slot(text: str) -> tuple[datetime, int] | None:
    """A time's radio value read back: its start and clinician (the how says where)."""
    parts = text.split("|")
    if len(parts) != 3 or not parts[1].isdigit() or not 1 <= int(parts[1]) <= 2**31 - 1:
        return None
    try:
        start = datetime.fromisoformat(parts[0])
    except ValueError:
        return None
    return (start, int(parts[1])) if start.tzinfo is not None else None


def slot_label(start: datetime) -> str:
    """Tuesday 3 March, 9:30am: a time's label, read whole by a screen reader."""
    day = slots.to_london(start).date()
    return f"{day:%A} {day.day} {day:%B}, {timefmt.clock(start)}"


def firsts(found: list[slots.Slot]) -> list[slots.Slot]:
    """One slot per start time (the first clinician free then), in time order."""
    by_start: dict[datetime, slots.Slot] = {}
    for s in found:
        by_start.setdefault(s.start, s)
    return list(by_start.values())
