"""The navigator's pages: record a referral end to end, errors re-render naming the field."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Patient
from scheduling.referral_models import Referral
from telehealth.kernel.db import utcnow
from tests.builders import make_clinic, make_patient, make_service, make_user
from tests.builders_referrals import make_referral
from tests.telehealth.video.test_clinic_pages import sign_in

SEE_BY = date.today() + timedelta(days=30)


def _see_by(when: date = SEE_BY) -> dict[str, str]:
    return {
        "see_by[day]": str(when.day),
        "see_by[month]": str(when.month),
        "see_by[year]": str(when.year),
    }


def _referral_form(service_id: int, **extra: str) -> dict[str, str]:
    return {
        "service_id": str(service_id),
        "priority": "urgent",
        **_see_by(),
        "notes": "Chest pain on exertion",
        "video_suitable": "yes",
        "interpreter": "yes",
        "interpreter_language": "Polish",
        "accessible_information": "Large print",
        "companion": "no",
        "contact_preference": "email",
        "email": "dobson@example.com",
        "mobile": "",
        **extra,
    }


def _hidden(page: str) -> dict[str, str]:
    """The last form's fields (the check page's 'Record referral' form)."""
    form = page.rsplit("<form", 1)[1]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


async def test_a_navigator_records_a_referral_for_a_patient_found_by_nhs_number(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    patient = await make_patient(session, nhs_number="9434765870", family_name="Dobson")
    service = await make_service(session)
    navigator, _ = await make_user(session, role="navigator")
    csrf = await sign_in(client, navigator.email)
    home = await client.get("/staff/worklist")
    assert home.status_code == 200 and 'href="/staff/referrals/new"' in home.text
    start = await client.get("/staff/referrals/new")
    assert "<title>Find the patient \u2013 Bay Telehealth \u2013 NHS</title>" in start.text
    found = await client.post(
        "/staff/referrals/new/find", data={"csrf": csrf, "nhs_number": "943 476 5870"}
    )
    assert found.status_code == 200 and "Alex Dobson" in found.text
    assert f'value="{patient.id}"' in found.text
    details = await client.post(
        "/staff/referrals/new/details",
        data={"csrf": csrf, "nhs_number": "943 476 5870", "patient_id": str(patient.id)},
    )
    assert details.status_code == 200 and service.name in details.text
    form = {"csrf": csrf, "patient_id": str(patient.id), **_referral_form(service.id)}
    check = await client.post("/staff/referrals/new/check", data=form)
    assert check.status_code == 200, check.text
    assert "Check the referral before recording it" in check.text and "Polish" in check.text
    recorded = await client.post("/staff/referrals/new/record", data=_hidden(check.text))
    assert recorded.status_code == 303, recorded.text
    confirmation = await client.get(recorded.headers["location"])
    referral = await session.scalar(select(Referral).where(Referral.patient_id == patient.id))
    assert referral is not None
    assert (referral.priority, referral.see_by, referral.source) == ("urgent", SEE_BY, "navigator")
    assert referral.reference in confirmation.text and "by email" in confirmation.text
    await session.refresh(patient)
    assert (patient.interpreter_language, patient.accessible_information) == (
        "Polish",
        "Large print",
    )
    page = await client.get(f"/staff/referrals/{referral.id}")
    assert "Not sent yet" in page.text and "Chest pain on exertion" in page.text


async def test_a_new_patient_is_registered_with_the_referral(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    service = await make_service(session)
    navigator, _ = await make_user(session, role="admin")
    csrf = await sign_in(client, navigator.email)
    none = await client.post(
        "/staff/referrals/new/find",
        data={
            "csrf": csrf,
            "family_name": "Nobody",
            "date_of_birth[day]": "1",
            "date_of_birth[month]": "2",
            "date_of_birth[year]": "1950",
        },
    )
    assert "No patient matches" in none.text and 'value="new"' in none.text
    form = {
        "csrf": csrf,
        "patient_id": "new",
        "given_name": "Nora",
        "family_name": "Nobody",
        "date_of_birth[day]": "1",
        "date_of_birth[month]": "2",
        "date_of_birth[year]": "1950",
        "postcode": "la4 5rj",
        **_referral_form(service.id, interpreter="no", interpreter_language=""),
    }
    check = await client.post("/staff/referrals/new/check", data=form)
    assert check.status_code == 200, check.text
    recorded = await client.post("/staff/referrals/new/record", data=_hidden(check.text))
    assert recorded.status_code == 303, recorded.text
    nora = await session.scalar(select(Patient).where(Patient.family_name == "Nobody"))
    assert nora is not None and nora.postcode == "LA4 5RJ" and nora.interpreter_language is None


async def test_errors_re_render_with_each_field_linked_and_what_was_typed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    patient = await make_patient(session)
    service = await make_service(session)
    navigator, _ = await make_user(session, role="navigator")
    csrf = await sign_in(client, navigator.email)
    bad = await client.post("/staff/referrals/new/find", data={"csrf": csrf, "nhs_number": "12"})
    assert bad.status_code == 422 and 'href="#nhs_number"' in bad.text
    assert "<title>Error: Find the patient" in bad.text
    nothing = await client.post("/staff/referrals/new/find", data={"csrf": csrf})
    assert 'href="#family_name"' in nothing.text and 'href="#date_of_birth-day"' in nothing.text
    past = date.today() - timedelta(days=3)
    form = {
        "csrf": csrf,
        "patient_id": str(patient.id),
        **_referral_form(service.id, **_see_by(past), email="not-an-email", priority=""),
    }
    page = await client.post("/staff/referrals/new/check", data=form)
    assert page.status_code == 422
    assert 'href="#priority"' in page.text
    empty = await client.post(
        "/staff/referrals/new/check", data={"csrf": csrf, "patient_id": str(patient.id)}
    )
    summary = empty.text.split("nhsuk-error-summary", 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'href="#([^"]+)"', summary) == [
        "service_id",
        "priority",
        "see_by-day",
        "video_suitable",
        "interpreter",
        "companion",
        "contact_preference",
    ]
    assert "Error: Referral details" in page.text and 'value="Chest pain' not in page.text
    assert "Chest pain on exertion" in page.text  # kept as typed
    fixed = await client.post("/staff/referrals/new/check", data={**form, "priority": "routine"})
    assert fixed.status_code == 422
    assert 'href="#see_by-day"' in fixed.text and 'href="#email"' in fixed.text
    no_csrf = await client.post("/staff/referrals/new/check", data={**form, "csrf": "x"})
    assert no_csrf.status_code == 403


async def test_the_worklist_shows_why_and_links_each_referral(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    waiting = await make_referral(
        session, help_requested_at=utcnow(), help_reason="No internet at home"
    )
    quiet = await make_referral(session)
    navigator, _ = await make_user(session, role="navigator")
    await sign_in(client, navigator.email)
    page = await client.get("/staff/worklist")
    assert "Could not book online: No internet at home" in page.text
    assert f'href="/staff/referrals/{waiting.id}"' in page.text
    assert f'href="/staff/referrals/{quiet.id}"' not in page.text
    clinician, _ = await make_user(session, role="clinician")
    other = httpx.AsyncClient(transport=client._transport, base_url="http://test")
    await sign_in(other, clinician.email)
    assert (await other.get("/staff/worklist")).status_code == 403
    await other.aclose()


async def test_a_navigator_closes_a_referral_with_a_reason(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    referral = await make_referral(session)
    navigator, _ = await make_user(session, role="navigator")
    csrf = await sign_in(client, navigator.email)
    path = f"/staff/referrals/{referral.id}/close"
    empty = await client.post(path, data={"csrf": csrf, "reason": " "})
    assert empty.status_code == 422 and 'href="#reason"' in empty.text
    closed = await client.post(path, data={"csrf": csrf, "reason": "Seen at A&E"})
    assert closed.status_code == 303
    await session.refresh(referral)
    assert referral.status == "closed"
    page = await client.get(f"/staff/referrals/{referral.id}")
    assert "Closed" in page.text and "Close this referral" not in page.text
    again = await client.post(path, data={"csrf": csrf, "reason": "Again"})
    assert again.status_code == 422 and "is closed, not open" in again.text


async def test_a_referral_links_its_patient_and_books_for_its_service(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    patient = await make_patient(session, family_name="O'Hara")
    referral = await make_referral(session, clinic=clinic, patient=patient)
    navigator, _ = await make_user(session, role="navigator")
    await sign_in(client, navigator.email)
    page = await client.get(f"/staff/referrals/{referral.id}")
    assert page.status_code == 200, page.text
    assert f'<a href="/staff/patients/{patient.id}">Alex O&#39;Hara</a>' in page.text
    book = re.search(r'href="([^"]+)"[^>]*>\s*Book an appointment\s*</a>', page.text)
    assert book is not None, page.text
    href = html.unescape(book.group(1))
    assert href == f"/staff/patients/{patient.id}/book?service={clinic.service.id}"
    # It opens the navigator's booking at the next question: the service is already chosen.
    journey = await client.get(href)
    assert journey.status_code == 200, journey.text
    assert "How will they be seen?" in journey.text
    assert f'name="service" value="{clinic.service.id}"' in journey.text
    # Once closed, nothing is booked from it.
    referral.status = "closed"
    await session.flush()
    closed = await client.get(f"/staff/referrals/{referral.id}")
    assert "Book an appointment" not in closed.text
    assert f'href="/staff/patients/{patient.id}"' in closed.text
