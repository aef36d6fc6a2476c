"""What each way of being seen means in travel for the patient, in the words their own booking
journey uses (`telehealth.patients.journey_options`): "No travel", "Nearest hub: 12 miles to
Ulverston Health Centre, about 20 minutes", a hub's own distance. The navigator reads these
out on the phone, so they must be the patient's words, not a second wording of the same fact."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Mode, Patient, Service, Site
from scheduling.slot_inputs import ForPatient
from telehealth.patients.journey_options import Place, hub_places, mode_travel, places


@dataclass(frozen=True, slots=True)
class Travel:
    """One patient's travel to one service's sites: their usual site and every hub."""

    service: Service
    found: dict[int, Place]  # each site with its travel from home (empty: postcode unknown)
    hubs: list[Place]  # the hubs with free time for the service, nearest first

    @property
    def known(self) -> bool:
        return bool(self.found)

    def of_mode(self, mode: str) -> str:
        """The line for a way of being seen before its place is chosen."""
        return mode_travel(mode, self.service, self.found, [p.site.id for p in self.hubs])

    def of_way(self, mode: str, site: Site | None) -> str:
        """The line for a way of being seen at a place: a hub's or a clinic's own distance,
        or, where it is not known, the site's address (as the patient's hub page says)."""
        if mode == Mode.VIDEO_HOME or site is None:
            return self.of_mode(mode)
        place = self.found.get(site.id)
        if place is not None and place.travel:
            return place.travel
        if mode == Mode.IN_PERSON and site.id == self.service.usual_site_id:
            return self.of_mode(mode)
        return site.address or self.of_mode(mode)


async def travel_for(
    session: AsyncSession, patient: Patient, service: Service, *, moving: int | None = None
) -> Travel:
    """The patient's travel, with the hubs free for them (`moving`: the appointment of theirs
    being moved, not in its own way)."""
    found = await places(session, patient, service)
    hubs = await hub_places(session, service, found, ForPatient(patient.id, moving))
    return Travel(service, found, hubs)
