"""The move page's ways of being seen: those with free time for the patient in the coming
weeks (the appointment's own first, hubs nearest first, as the patient's journey lists them),
and what each means in travel for them."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import wording
from scheduling.models import Appointment, Mode, Service, Site
from scheduling.slot_inputs import ForPatient
from telehealth.navigators.free_times import LOOKAHEAD, free_slots, how_value, read_how, today
from telehealth.navigators.travel_lines import Travel


def for_patient(appointment: Appointment) -> ForPatient:
    """The free times of a move are the patient's: their other appointments are in the way,
    this one (moved in place) is not."""
    return ForPatient(appointment.patient_id, appointment.id)


async def ways(
    session: AsyncSession, appointment: Appointment, service: Service, travel: Travel
) -> dict[str, str]:
    """The ways of being seen (and where) that have free time in the coming weeks, with the
    appointment's own first, then by way and, for the hubs, nearest first (as the patient's
    own journey lists them): each radio's value and label."""
    start = today()
    free = await free_slots(
        session, service, start=start, end=start + LOOKAHEAD, patient=for_patient(appointment)
    )
    found = {(s.mode, s.site_id) for s in free} | {(appointment.mode, appointment.site_id)}
    site_ids = {site_id for _, site_id in found if site_id is not None}
    names = {site_id: (await session.get(Site, site_id)) for site_id in site_ids}
    order = {m.value: n for n, m in enumerate(Mode)}
    current = (appointment.mode, appointment.site_id)

    def label(mode: str, site_id: int | None) -> str:
        site = names.get(site_id) if site_id is not None else None
        return wording.how(mode, place=site.name if site else None)

    def distance(site_id: int | None) -> tuple[int, Decimal, str]:
        """Nearest first by the patient's travel; sites without a distance after, by name."""
        place = travel.found.get(site_id) if site_id is not None else None
        if place is not None:
            return place.sort_key
        site = names.get(site_id) if site_id is not None else None
        return (1, Decimal(0), site.name if site else "")

    ranked = sorted(found, key=lambda w: (w != current, order.get(w[0], 9), distance(w[1])))
    return {how_value(mode, site_id): label(mode, site_id) for mode, site_id in ranked}


async def sites_of(session: AsyncSession, offered: dict[str, str]) -> dict[int, Site]:
    found = {}
    for value in offered:
        chosen = read_how(value)
        if chosen is not None and chosen[1] is not None:
            site = await session.get(Site, chosen[1])
            if site is not None:
                found[site.id] = site
    return found


def travel_lines(
    offered: dict[str, str], travel: Travel, *, names: dict[int, Site]
) -> dict[str, str]:
    """Each way's travel for the patient, as their own booking journey says it."""
    lines = {}
    for value in offered:
        chosen = read_how(value)
        if chosen is not None:
            mode, site_id = chosen
            lines[value] = travel.of_way(mode, names.get(site_id) if site_id else None)
    return lines
