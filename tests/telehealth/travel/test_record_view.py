"""One appointment's travel record: the API, who may read it, and the navigator's pages
(both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, Patient
from telehealth.travel import records
from telehealth.travel.maths import KM_PER_MILE
from tests.builders import Clinic, make_appointment, make_clinic, make_patient, make_user
from tests.builders_journey import HOSPITAL, HUB, with_travel
from tests.builders_navpatients import audited, signed_in_as

START = datetime(2030, 6, 4, 9, tzinfo=UTC)


async def _recorded(
    session: AsyncSession, mode: str = "video_site", *, nhs_number: str | None = None
) -> tuple[Clinic, Appointment]:
    c = await make_clinic(session)
    patient = await make_patient(session, nhs_number=nhs_number)
    await with_travel(session, c, patient)
    a = await make_appointment(session, c, start=START, mode=mode, patient=patient)
    await records.compute(session, a.id)
    return c, a


def _path(a: Appointment) -> str:
    return f"/api/v1/appointments/{a.id}/travel"


async def test_the_record_says_where_each_figure_came_from(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c, a = await _recorded(session)
    _, headers = await make_user(session, role="navigator")
    got = await client.get(_path(a), headers=headers)
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["appointment_id"], body["reference"], body["mode"]) == (
        a.id,
        a.reference,
        "video_site",
    )
    baseline, actual, avoided = body["baseline"], body["actual"], body["avoided"]
    assert (baseline["site_id"], baseline["site_name"]) == (c.hospital.id, c.hospital.name)
    assert (actual["site_id"], actual["site_name"]) == (c.hub.id, c.hub.name)
    assert Decimal(avoided["km"]) == Decimal(baseline["km"]) - Decimal(actual["km"]) != 0
    assert Decimal(baseline["miles"]) == (Decimal(baseline["km"]) / KM_PER_MILE).quantize(
        Decimal("0.01")
    )
    assert Decimal(avoided["minutes"]) == Decimal(baseline["minutes"]) - Decimal(actual["minutes"])
    assert (body["method"], body["confidence"]) == ("land", "medium")
    factors = body["factors"]
    assert (factors["version"], factors["valid_from"]) == ("2026.1", "2026-04-06")
    # The money follows from the miles and the factor set's rate, to the penny.
    assert Decimal(avoided["cost_gbp"]) == (
        Decimal(avoided["miles"]) * Decimal(factors["cost_per_mile"])
    ).quantize(Decimal("0.01"))
    assert body["computed_at"] and body["note"] is None


async def test_from_home_or_by_telephone_nobody_travelled(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, home = await _recorded(session, mode="video_home")
    _, headers = await make_user(session, role="admin")
    body = (await client.get(_path(home), headers=headers)).json()
    assert body["actual"] == {
        "site_id": None,
        "site_name": None,
        "km": "0.00",
        "miles": "0.00",
        "minutes": "0.0",
    }
    assert body["avoided"]["km"] == body["baseline"]["km"]
    _, hub = await _recorded(session, mode="video_site")
    hub.medium = "telephone"
    await session.flush()
    await records.compute(session, hub.id)
    body = (await client.get(_path(hub), headers=headers)).json()
    assert body["seen_by_telephone"] is True
    assert (body["actual"]["site_id"], body["actual"]["km"]) == (None, "0.00")


async def test_no_record_yet_is_a_404_that_says_so(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c = await make_clinic(session)
    a = await make_appointment(session, c, start=START)  # queued, not yet computed
    _, headers = await make_user(session, role="admin")
    got = await client.get(_path(a), headers=headers)
    assert got.status_code == 404
    assert got.json()["error"]["code"] == "no_travel_record"
    assert "no travel record yet" in got.json()["error"]["message"]
    missing = await client.get(f"/api/v1/appointments/{a.id + 1000}/travel", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


async def test_each_role_reads_the_records_it_may(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c, at_hub = await _recorded(session, mode="video_site")
    home = await make_appointment(
        session, c, start=START + timedelta(hours=1), patient=await _patient_of(session, at_hub)
    )
    await records.compute(session, home.id)
    other_clinic = await make_clinic(session)
    readers = {
        "own clinician": await make_user(session, role="clinician", clinician=c.clinician),
        "other clinician": await make_user(
            session, role="clinician", clinician=other_clinic.clinician
        ),
        "reception at the hub": await make_user(session, role="reception", hubs=[c.hub]),
        "reception elsewhere": await make_user(session, role="reception", hubs=[other_clinic.hub]),
        "analyst": await make_user(session, role="analyst"),
    }
    seen = {}
    for who, (_, headers) in readers.items():
        seen[who] = [
            (await client.get(_path(a), headers=headers)).status_code for a in (at_hub, home)
        ]
    assert seen == {
        "own clinician": [200, 200],
        "other clinician": [404, 404],
        "reception at the hub": [200, 404],  # the home appointment is at no hub of theirs
        "reception elsewhere": [404, 404],
        "analyst": [200, 200],
    }


async def _patient_of(session: AsyncSession, a: Appointment) -> Patient:
    patient = await session.get(Patient, a.patient_id)
    assert patient is not None
    return patient


async def test_an_analyst_reads_figures_without_identities_and_is_audited(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, a = await _recorded(session, nhs_number="9434765919")
    patient = await _patient_of(session, a)
    analyst, headers = await make_user(session, role="analyst")
    got = await client.get(_path(a), headers=headers)
    assert got.status_code == 200
    for identity in (
        patient.given_name,
        patient.family_name,
        "9434765919",
        patient.date_of_birth.isoformat(),
        HUB[0],
        HOSPITAL[0],
        "patient_id",
    ):
        assert identity not in got.text
    events = await audited(session, analyst, "appointment.travel")
    assert [(e.entity_type, e.entity_id) for e in events] == [("appointment", a.id)]
    assert "patient_id" not in (events[0].detail or {})


async def test_the_operation_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"]["/api/v1/appointments/{appointment_id}/travel"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(operation["responses"]) >= {"200", "401", "403", "404"}
    properties = schema["properties"]
    assert {"baseline", "actual", "avoided", "method", "confidence", "factors"} <= set(properties)
    assert properties["factors"] == {"$ref": "#/components/schemas/TravelFactorSet"}
    assert "cost_per_mile" in document["components"]["schemas"]["TravelFactorSet"]["properties"]


async def test_the_navigators_appointment_pages_show_the_record(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c, a = await _recorded(session)
    await signed_in_as(client, session, "navigator")
    page = await client.get(f"/staff/appointments/{a.id}/cancel")
    assert page.status_code == 200, page.text
    assert ">Travel</h2>" in page.text and 'id="travel-record"' in page.text
    assert f"there and back to {c.hospital.name}" in page.text
    assert f"there and back to {c.hub.name}" in page.text
    assert "Path over land, round the bay&#39;s water (medium confidence)" in page.text
    assert "2026.1, from" in page.text
    pending = await make_appointment(session, c, start=START + timedelta(hours=2))
    page = await client.get(f"/staff/appointments/{pending.id}/cancel")
    assert "The travel record is not worked out yet" in page.text
