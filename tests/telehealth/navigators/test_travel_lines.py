"""The travel line for each way of being seen: the patient's own journey's words where their
travel is known, and where it is not, what the patient would be told (a hub's address, "Travel
to the clinic"), never a guessed distance."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from telehealth.navigators.travel_lines import travel_for
from telehealth.patients.journey_options import mode_travel
from tests.builders import make_clinic, make_patient, make_site
from tests.builders_journey import with_travel


async def test_known_travel_is_the_patients_own_line_for_each_way(session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    patient = await make_patient(session)
    await with_travel(session, clinic, patient)
    travel = await travel_for(session, patient, clinic.service)
    assert travel.known and [p.site.id for p in travel.hubs] == [clinic.hub.id]
    for mode in ("video_home", "video_site", "in_person"):
        assert travel.of_mode(mode) == mode_travel(
            mode, clinic.service, travel.found, [clinic.hub.id]
        )
    assert travel.of_way("video_home", None) == "No travel"
    assert re.fullmatch(
        rf"\d+ miles to {clinic.hub.name}, about .+", travel.of_way("video_site", clinic.hub)
    )
    assert travel.of_way("in_person", clinic.hospital) == travel.of_mode("in_person")
    # A clinic elsewhere, not among the sites travel is worked out for: its address.
    elsewhere = await make_site(session, organisation=clinic.organisation)
    assert travel.of_way("in_person", elsewhere) == "1 Test Street"


async def test_unknown_travel_says_where_without_a_distance(session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    patient = await make_patient(session)
    patient.postcode = None
    travel = await travel_for(session, patient, clinic.service)
    assert not travel.known
    assert travel.of_mode("video_site") == "Travel to a community hub near you"
    assert travel.of_way("video_site", clinic.hub) == clinic.hub.address
    assert travel.of_way("in_person", clinic.hospital) == "Travel to the clinic"
