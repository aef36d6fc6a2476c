"""The appointments to rebook: booked ones that no longer fit their clinic (leave over them, a
room closed, a session removed, ...), as GET /api/v1/appointments/to-rebook lists them, each
with why and up to three other free times of the same service, in the same way and place
(none the patient's other appointments overlap), offered as one-click "Move to ..." buttons
(posted to the move page's confirm, which says so when a time has been taken meanwhile)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduling import rebooking, slots
from scheduling.access import Access
from scheduling.models import Appointment, Service
from scheduling.slot_inputs import local_window, patients_busy
from telehealth.kernel.errors import NotFound
from telehealth.kernel.transactions import transactional
from telehealth.kernel.web.staff import roles_for, signed_in
from telehealth.navigators.appointment_pages import Described, describe
from telehealth.navigators.free_times import (
    LOOKAHEAD,
    firsts,
    free_slots,
    how_value,
    slot_label,
    slot_value,
    today,
)
from telehealth.navigators.pages import render

PATH = "/staff/to-rebook"
ROLES = roles_for(PATH)
ALTERNATIVES = 3
# The page lists this many (the soonest first): each is a phone call to make.
SHOWN = 100


@dataclass(frozen=True, slots=True)
class Alternative:
    label: str
    slot: str
    day: str


@dataclass(frozen=True, slots=True)
class Entry:
    d: Described
    reasons: list[str]
    how: str
    alternatives: list[Alternative]


async def _alternatives(
    session: AsyncSession, appointments: list[Appointment]
) -> dict[int, list[Alternative]]:
    """Up to three free times for each appointment, in its service, way and place; those
    offered for one appointment are not offered again for the next of the same kind, so
    each button can be taken."""
    groups: dict[tuple[int, str, int | None], list[Appointment]] = defaultdict(list)
    for a in appointments:
        groups[(a.service_id, a.mode, a.site_id)].append(a)
    start = today()
    busy = await patients_busy(
        session, {a.patient_id for a in appointments}, local_window(start, start + LOOKAHEAD)
    )
    found: dict[int, list[Alternative]] = {}
    for (service_id, mode, site_id), members in groups.items():
        service = await session.get(Service, service_id)
        assert service is not None
        free = firsts(
            await free_slots(
                session, service, start=start, end=start + LOOKAHEAD, mode=mode, site_id=site_id
            )
        )
        offered: set[datetime] = set()
        for a in members:
            own = slots.Interval(a.starts_at, a.ends_at)
            # The patient's other appointments are in the way; this one (moved in place) is
            # not. No other active appointment of theirs has its interval: the database
            # refuses a patient two overlapping ones.
            others = [b for b in busy.get(a.patient_id, ()) if b != own]
            free_for_them = slots.clear_of(free, others)
            chosen = [s for s in free_for_them if s.start not in offered][:ALTERNATIVES]
            offered.update(s.start for s in chosen)
            found[a.id] = [
                Alternative(
                    label=slot_label(s.start),
                    slot=slot_value(s),
                    day=slots.to_london(s.start).date().isoformat(),
                )
                for s in chosen
            ]
    return found


async def _moved(access: Access, text: str) -> Described | None:
    """The appointment just moved from this page, for its confirmation line."""
    if not text.isdigit() or not 1 <= int(text) <= 2**31 - 1:
        return None
    try:
        appointment = await access.appointment(int(text), action="appointment.read")
    except NotFound:
        return None
    return await describe(access.session, appointment)


@transactional
async def to_rebook_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    access = Access(session, user)
    found = (await rebooking.to_rebook(session, among=await access.appointments_where()))[:SHOWN]
    await access.audit(
        "appointment.list",
        "appointment",
        None,
        {"to_rebook": [item.appointment.id for item in found]},
    )
    alternatives = await _alternatives(session, [item.appointment for item in found])
    entries = [
        Entry(
            d=await describe(session, item.appointment),
            reasons=[c.message[:1].upper() + c.message[1:] for c in item.clashes],
            how=how_value(item.appointment.mode, item.appointment.site_id),
            alternatives=alternatives.get(item.appointment.id, []),
        )
        for item in found
    ]
    return render(
        request,
        user,
        "to_rebook.html",
        "To rebook",
        entries=entries,
        moved=await _moved(access, request.query_params.get("moved", "")),
    )


def routes() -> list[Route]:
    return [Route(PATH, to_rebook_page, methods=["GET"])]
