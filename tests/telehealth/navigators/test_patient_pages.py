"""The navigator's patient pages: find a patient (never by a last name alone), read their
details, appointments and referrals (every read audited), change their contact details and
needs (validated as a new patient, typed values kept on an error)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_clinic, make_patient, tuesday_at
from tests.builders_navpatients import audited, make_booked, signed_in_as
from tests.builders_referrals import make_referral

BORN = {"date_of_birth[day]": "17", "date_of_birth[month]": "5", "date_of_birth[year]": "1960"}


async def test_a_navigator_finds_a_patient_by_nhs_number_and_the_search_is_audited(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    await make_patient(session, nhs_number="9434765870", family_name="Atkinson")
    user, csrf = await signed_in_as(client, session)
    start = await client.get("/staff/patients")
    assert start.status_code == 200
    assert "<title>Find a patient \u2013 Bay Telehealth \u2013 NHS</title>" in start.text
    assert 'aria-current="page"' in start.text and ">Patients<" in start.text
    found = await client.post("/staff/patients", data={"csrf": csrf, "nhs_number": "943 476 5919"})
    assert found.status_code == 200
    assert "1 patient matches" in found.text
    assert f'href="/staff/patients/{booked.patient.id}"' in found.text
    assert "943 476 5919" in found.text and "943 476 5870" not in found.text
    [search] = await audited(session, user, "patient.search")
    assert search.detail == {"ids": [booked.patient.id]}


async def test_a_last_name_alone_is_never_searched(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    user, csrf = await signed_in_as(client, session)
    alone = await client.post("/staff/patients", data={"csrf": csrf, "family_name": "Atkinson"})
    assert alone.status_code == 422
    assert "<title>Error: Find a patient" in alone.text
    assert 'href="#date_of_birth-day"' in alone.text and "Enter the date of birth" in alone.text
    assert f"/staff/patients/{booked.patient.id}" not in alone.text
    assert 'value="Atkinson"' in alone.text  # typed values kept
    assert await audited(session, user, "patient.search") == []
    nothing = await client.post("/staff/patients", data={"csrf": csrf})
    assert nothing.status_code == 422 and 'href="#family_name"' in nothing.text
    bad = await client.post("/staff/patients", data={"csrf": csrf, "nhs_number": "1234567890"})
    assert bad.status_code == 422 and 'href="#nhs_number"' in bad.text
    both = await client.post(
        "/staff/patients", data={"csrf": csrf, "family_name": "atkinson", **BORN}
    )
    assert both.status_code == 200 and f"/staff/patients/{booked.patient.id}" in both.text
    nobody = await client.post(
        "/staff/patients", data={"csrf": csrf, "family_name": "Nobody", **BORN}
    )
    assert nobody.status_code == 200 and "No patient matches" in nobody.text


async def test_the_patient_page_shows_details_needs_every_appointment_and_referral(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    patient = booked.patient
    patient.interpreter_language, patient.access_needs = "Polish", "Uses a wheelchair"
    patient.accessible_information, patient.companion = "Large print", True
    other = await make_clinic(session)
    elsewhere = await make_booked(session, clinic=other, nhs_number=None, start=tuesday_at(10))
    elsewhere.appointment.patient_id = patient.id  # the same patient in another service
    referral = await make_referral(session, patient=patient, service=booked.clinic.service)
    await session.flush()
    user, _ = await signed_in_as(client, session)
    page = await client.get(f"/staff/patients/{patient.id}")
    assert page.status_code == 200, page.text
    text = page.text
    assert "<h1>Alex Atkinson</h1>" in text
    for shown in ("943 476 5919", "Polish", "Uses a wheelchair", "Large print", "Email"):
        assert shown in text
    assert patient.email is not None and patient.email in text
    for a in (booked.appointment, elsewhere.appointment):
        assert a.reference in text
        assert f'href="/staff/appointments/{a.id}/move"' in text
        assert f'href="/staff/appointments/{a.id}/cancel"' in text
    assert booked.clinic.service.name in text and other.service.name in text
    assert "Video call from home" in text and "Booked" in text
    assert f'href="/staff/referrals/{referral.id}"' in text and referral.reference in text
    [read] = await audited(session, user, "patient.read")
    assert read.entity_id == patient.id
    [listed] = await audited(session, user, "appointment.list")
    assert sorted(listed.detail["ids"]) == sorted([booked.appointment.id, elsewhere.appointment.id])
    missing = await client.get("/staff/patients/999999")
    assert missing.status_code == 404
    bad = await client.get("/staff/patients/x")
    assert bad.status_code == 422


def _edit_form(csrf: str, **changes: str) -> dict[str, str]:
    return {
        "csrf": csrf,
        "nhs_number": "943 476 5919",
        "postcode": "LA4 5RJ",
        "email": "alex@example.com",
        "mobile": "07700 900123",
        "contact_preference": "both",
        "interpreter": "yes",
        "interpreter_language": "Welsh",
        "access_needs": "Hearing loop",
        "accessible_information": "Easy read",
        "companion": "yes",
        **changes,
    }


async def test_a_navigator_changes_contact_details_and_needs_audited_by_field_name(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    patient = booked.patient
    user, csrf = await signed_in_as(client, session)
    edit = await client.get(f"/staff/patients/{patient.id}/edit")
    assert edit.status_code == 200
    assert 'value="943 476 5919"' not in edit.text and 'value="9434765919"' in edit.text
    saved = await client.post(f"/staff/patients/{patient.id}/edit", data=_edit_form(csrf))
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/staff/patients/{patient.id}?done=details"
    await session.refresh(patient)
    assert (patient.email, patient.mobile, patient.contact_preference) == (
        "alex@example.com",
        "+447700900123",
        "both",
    )
    assert (patient.interpreter_language, patient.access_needs) == ("Welsh", "Hearing loop")
    assert (patient.accessible_information, patient.companion) == ("Easy read", True)
    [change] = await audited(session, user, "patient.update")
    assert change.entity_id == patient.id
    assert sorted(change.detail["fields"]) == sorted(
        [
            "email",
            "mobile",
            "contact_preference",
            "interpreter_language",
            "access_needs",
            "accessible_information",
            "companion",
        ]
    )
    assert "alex@example.com" not in str(change.detail)  # field names, never values
    shown = await client.get(saved.headers["location"])
    assert "Their details have been changed." in shown.text and "Welsh" in shown.text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Email address is not an email address"),
        ({"mobile": "0113 496 0000"}, "mobile", "is not a UK mobile number"),
        ({"postcode": "NOT A POSTCODE"}, "postcode", "Postcode"),
        ({"nhs_number": "123 456 7890"}, "nhs_number", "NHS number"),
        ({"email": "", "contact_preference": "email"}, "email", "Enter an email address"),
        ({"interpreter_language": ""}, "interpreter_language", "Enter the language"),
        ({"companion": ""}, "companion", "Select yes if someone comes with them"),
    ],
)
async def test_bad_details_re_render_with_the_error_on_the_field_and_typed_values_kept(
    client: httpx.AsyncClient,
    session: AsyncSession,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    booked = await make_booked(session)
    patient = booked.patient
    stored = (patient.email, patient.mobile, patient.interpreter_language)
    user, csrf = await signed_in_as(client, session)
    form = _edit_form(csrf, **changes)
    page = await client.post(f"/staff/patients/{patient.id}/edit", data=form)
    assert page.status_code == 422, page.text
    assert "<title>Error: Change the patient" in page.text
    assert f'href="#{field}"' in page.text and message in page.text
    assert 'value="Hearing loop"' in page.text or "Hearing loop</textarea>" in page.text
    for name in ("email", "mobile", "interpreter_language"):
        if form[name]:
            assert f'value="{form[name]}"' in page.text
    await session.refresh(patient)
    assert (patient.email, patient.mobile, patient.interpreter_language) == stored
    assert await audited(session, user, "patient.update") == []
    [read] = await audited(session, user, "patient.read")  # the form shown again is a read
    assert read.entity_id == patient.id


async def test_an_nhs_number_held_by_another_patient_is_refused_on_the_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    booked = await make_booked(session)
    await make_patient(session, nhs_number="9434765870")
    _, csrf = await signed_in_as(client, session)
    page = await client.post(
        f"/staff/patients/{booked.patient.id}/edit",
        data=_edit_form(csrf, nhs_number="943 476 5870"),
    )
    assert page.status_code == 422 and 'href="#nhs_number"' in page.text
    await session.refresh(booked.patient)
    assert booked.patient.nhs_number == "9434765919"


@pytest.mark.parametrize("role", ["clinician", "reception", "analyst"])
async def test_other_roles_cannot_use_the_patient_pages(
    client: httpx.AsyncClient, session: AsyncSession, role: str
) -> None:
    booked = await make_booked(session)
    patient = booked.patient
    _, csrf = await signed_in_as(client, session, role)
    for path in ("/staff/patients", f"/staff/patients/{patient.id}"):
        assert (await client.get(path)).status_code == 403, path
    assert (await client.get(f"/staff/patients/{patient.id}/edit")).status_code == 403
    found = await client.post("/staff/patients", data={"csrf": csrf, "nhs_number": "9434765919"})
    assert found.status_code == 403 and "Atkinson" not in found.text
    changed = await client.post(
        f"/staff/patients/{patient.id}/edit", data=_edit_form(csrf, email="x@example.com")
    )
    assert changed.status_code == 403
    await session.refresh(patient)
    assert patient.email != "x@example.com"
