"""The travel record from the clinic and reception screens: each row links to a page of its
own with the appointment's record, open to those `scheduling.access` lets see it, every read
audited (both databases)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment
from telehealth.travel import records
from telehealth.travel.record_view import view_of
from tests.builders import Clinic, make_appointment, make_clinic, make_patient, make_user
from tests.builders_journey import with_travel
from tests.builders_navpatients import audited
from tests.telehealth.video.test_clinic_pages import sign_in
from tests.telehealth.video.test_join_pages import soon


async def _today(session: AsyncSession, mode: str = "video_site") -> tuple[Clinic, Appointment]:
    """An appointment in a few minutes, with its travel record worked out."""
    c = await make_clinic(session)
    patient = await make_patient(session)
    await with_travel(session, c, patient)
    a = await make_appointment(session, c, start=soon(), mode=mode, patient=patient)
    await records.compute(session, a.id)
    return c, a


def _link(page: str, a: Appointment) -> str:
    found = re.search(rf'href="(/staff/appointments/{a.id}/travel\?[^"]*)" data-travel', page)
    assert found, "the row links to its travel record"
    return unescape(found.group(1))


async def test_a_clinician_follows_a_row_of_their_clinic_to_its_travel_record(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c, a = await _today(session)
    user, _ = await make_user(session, role="clinician", clinician=c.clinician)
    await sign_in(client, user.email)
    clinic = await client.get("/staff/clinic?status=not_arrived")
    assert clinic.status_code == 200, clinic.text
    link = _link(clinic.text, a)
    # The table the screen re-fetches on each live change keeps the same link.
    table = await client.get("/staff/clinic/table?status=not_arrived")
    assert _link(table.text, a) == link
    # Back to the screen as it was: its day and its filter.
    back = parse_qs(urlsplit(link).query)["back"][0]
    assert back.startswith("/staff/clinic?") and "status=not_arrived" in back
    page = await client.get(link)
    assert page.status_code == 200, page.text
    record = await view_of(session, a)
    assert record is not None
    text = unescape(page.text)
    assert 'id="travel-record"' in page.text and "Alex Testpatient" in text
    for shown in (
        f"{record.baseline.miles} miles ({record.baseline.km} km)",  # the trip it replaced
        f"there and back to {c.hub.name}",  # the trip made
        f"{record.avoided.miles} miles ({record.avoided.km} km)",
        f"({record.confidence} confidence)",
        f"{record.factors.version}, from",
        a.reference,
    ):
        assert shown in text, shown
    assert f'href="{back}"' in text, "the back link returns to the clinic"
    assert [e.entity_id for e in await audited(session, user, "appointment.travel")] == [a.id]


async def test_reception_reads_the_records_of_their_hubs_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c, a = await _today(session)
    _, elsewhere = await _today(session)
    user, _ = await make_user(session, role="reception", hubs=[c.hub])
    await sign_in(client, user.email)
    screen = await client.get(f"/staff/reception?site_id={c.hub.id}")
    page = await client.get(_link(screen.text, a))
    assert page.status_code == 200 and 'id="travel-record"' in page.text
    refused = await client.get(f"/staff/appointments/{elsewhere.id}/travel")
    assert refused.status_code == 404 and elsewhere.reference not in refused.text
    assert [e.entity_id for e in await audited(session, user, "appointment.travel")] == [a.id]


async def test_another_clinicians_appointment_is_not_found_and_analysts_use_the_report(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    mine, _ = await _today(session)
    _, theirs = await _today(session)
    clinician, _ = await make_user(session, role="clinician", clinician=mine.clinician)
    await sign_in(client, clinician.email)
    got = await client.get(f"/staff/appointments/{theirs.id}/travel")
    assert got.status_code == 404 and theirs.reference not in got.text
    assert (await client.get("/staff/appointments/0/travel")).status_code == 404
    analyst, _ = await make_user(session, role="analyst")
    await sign_in(client, analyst.email)
    assert (await client.get(f"/staff/appointments/{theirs.id}/travel")).status_code == 403


async def test_a_record_not_yet_worked_out_says_so_and_back_stays_on_staff_pages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c = await make_clinic(session)
    a = await make_appointment(session, c, start=soon())  # queued, not computed
    user, _ = await make_user(session, role="navigator")
    await sign_in(client, user.email)
    page = await client.get(
        f"/staff/appointments/{a.id}/travel", params={"back": "https://elsewhere.example/"}
    )
    assert page.status_code == 200
    assert "The travel record is not worked out yet" in page.text
    assert 'href="https://elsewhere.example/"' not in page.text
    assert 'class="nhsuk-back-link"' in page.text and 'href="/staff/worklist"' in page.text
