"""Every form the app answers, walked with a NUL (U+0000) in each of its fields: never a 500,
on either database (PostgreSQL refuses a NUL in text; SQLite would store it). The walk is
built from the app's routes, so a new form is walked as soon as it exists. Each form is sent
as its page shows it (the values its GET page fills in), one field at a time holding a NUL;
a POST with no page of its own gets every field name the templates use."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import Route

from app import create_app
from scheduling.models import Leave
from telehealth.kernel.config import Settings
from tests.builders import make_appointment, make_clinic, make_patient, make_user, next_weekday
from tests.builders_journey import booking_path
from tests.builders_manage import manage_path
from tests.builders_referrals import make_referral
from tests.telehealth.video.test_clinic_pages import sign_in

LONDON = ZoneInfo("Europe/London")
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
INPUT = re.compile(r"<(?:input|textarea|select)\b[^>]*>", re.S)
ATTRIBUTE = re.compile(r'\b(name|value|type|checked)(?:="([^"]*)")?')
# The date inputs' boxes, named by the macro from the date's own name.
DATE_BOXES = [
    f"{date}{box}"
    for date in ("start", "end", "on", "from", "until", "dob", "see_by", "date_of_birth")
    for box in ("-day", "-month", "-year", "[day]", "[month]", "[year]")
]
# Streams never end, and the API has its own walk (tests/test_access.py, the schemathesis
# run): only the pages' forms here.
NOT_FORMS = ("/api/",)
# What a person would type in a form's free-text boxes.
TYPICAL = {
    "reason": "Training",
    "reason-other": "Moving away",
    "message": "The clinician is running 10 minutes late",
    "more": "Mornings only",
    "notes": "Follow-up",
    "interpreter_language": "Polish",
    "accessible_information": "Large print",
    "email": "walk@example.com",
    "start_time": "09:00",
    "end_time": "10:00",
    "name": "Walked",
}


def _vocabulary() -> list[str]:
    """Every field name any template gives a form field."""
    names: set[str] = set(DATE_BOXES)
    for page in TEMPLATES.rglob("*.html"):
        text = page.read_text()
        names |= set(re.findall(r'"name": "([^"{]+)"', text))
        names |= set(re.findall(r'\bname="([^"{]+)"', text))
    return sorted(names - {"viewport", "csrf"})


def _form_of(page: str) -> dict[str, str]:
    """The values a page's form would send as shown: text as filled in, the checked radio
    (or the first), a select's first option is left out (its value is not in the tag)."""
    values: dict[str, str] = {}
    for tag in INPUT.findall(page):
        found = {k: html.unescape(v or "") for k, v in ATTRIBUTE.findall(tag)}
        name = found.get("name")
        if not name or name == "csrf":
            continue
        if found.get("type") in ("radio", "checkbox") and name in values:
            if "checked" in found:
                values[name] = found.get("value", "")
            continue
        values[name] = found.get("value", "")
    return values


def _filled(names: Iterable[str], form: dict[str, str]) -> dict[str, str]:
    """The form with its empty boxes filled in as someone would, so that a NUL gets past the
    page's other checks to wherever it would be stored."""
    later = date.today() + timedelta(days=60)
    typical = {"day": str(later.day), "month": str(later.month), "year": str(later.year)}
    filled = dict(form)
    for name in names:
        if filled.get(name):
            continue
        box = next((v for k, v in typical.items() if name.endswith((f"-{k}", f"[{k}]"))), None)
        if box is not None:
            filled[name] = box
        elif name in TYPICAL:
            filled[name] = TYPICAL[name]
    return filled


def _nul_in_each(form: dict[str, str], fallback: list[str]) -> Iterator[tuple[str, dict[str, str]]]:
    names = list(form or fallback)
    filled = _filled(names, form)
    for name in names:
        yield name, {**filled, name: filled.get(name, "") + "\x00"}


async def _clients(
    session: AsyncSession, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[dict[str, str], list[tuple[httpx.AsyncClient, str]]]:
    """The ids the paths take, and a signed-in client (with its CSRF token) per role that
    owns some form: the clinic's clinician, a navigator and an admin."""
    clinic = await make_clinic(session)
    patient = await make_patient(session)
    start = datetime.combine(next_weekday(1), clock(9, 0), LONDON).astimezone(UTC)
    appointment = await make_appointment(
        session, clinic, start=start, mode="video_home", patient=patient
    )
    referral = await make_referral(session, patient=patient, service=clinic.service)
    leave = Leave(
        clinician_id=clinic.clinician.id,
        starts_at=start + timedelta(days=30),
        ends_at=start + timedelta(days=31),
    )
    session.add(leave)
    await session.flush()
    # The narrowest role first: a clinician's own pages act on their own clinic whatever
    # the form names, which an admin's need a clinician chosen for.
    users = [
        await make_user(session, role="clinician", clinician=clinic.clinician),
        await make_user(session, role="navigator"),
        await make_user(session, role="admin"),
    ]
    ids = {
        "token": "",
        "id": str(appointment.id),
        "appointment_id": str(appointment.id),
        "patient_id": str(patient.id),
        "clinician_id": str(clinic.clinician.id),
        "site_id": str(clinic.hub.id),
        "room_id": "1",
        "session_id": str(clinic.session.id),
        "leave_id": str(leave.id),
        "service_id": str(clinic.service.id),
        "user_id": str(users[1][0].id),
        "booking": booking_path(settings, referral),
        "manage": manage_path(settings, appointment.id),
    }
    clients = []
    for user, _ in users:
        app = create_app(settings, sessionmaker=sessionmaker)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        clients.append((client, await sign_in(client, user.email)))
    return ids, clients


def _path(template: str, ids: dict[str, str]) -> str:
    for prefix in ("booking", "manage"):
        start = "/book/{token}" if prefix == "booking" else "/manage/{token}"
        if template.startswith(start):
            template = ids[prefix] + template.removeprefix(start)
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: ids[m.group(1)], template)


async def _walk_route(
    clients: list[tuple[httpx.AsyncClient, str]], path: str, fields: list[str]
) -> int:
    """Post the form at `path` with a NUL in each field, as the first role its page lets in;
    the number of requests sent."""
    sent = 0
    for client, csrf in clients:
        page = await client.get(path)
        allowed = page.status_code not in (401, 403)
        form = _form_of(page.text) if page.status_code == 200 else {}
        for name, data in _nul_in_each(form, fields):
            response = await client.post(path, data={"csrf": csrf, **data})
            sent += 1
            assert response.status_code < 500, f"POST {path} NUL in {name!r}: {response.text}"
            allowed = allowed or response.status_code not in (401, 403)
        if allowed:
            return sent
    return sent


async def test_no_form_answers_a_nul_with_a_500(
    session: AsyncSession, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    ids, clients = await _clients(session, settings, sessionmaker)
    routes = [
        route.path
        for route in cast(list[Route], create_app(settings).routes)
        if "POST" in (getattr(route, "methods", None) or ())
        and not route.path.startswith(NOT_FORMS)
        and route.path != "/staff/logout"  # walked last: it signs the client out
    ]
    fields = _vocabulary()
    sent = 0
    try:
        for template in [*routes, "/staff/logout"]:
            sent += await _walk_route(clients, _path(template, ids), fields)
    finally:
        for client, _ in clients:
            await client.aclose()
    # Every form route walked, every field of each: not a walk that stopped early.
    assert len(routes) > 40 and sent > len(routes) * 3, (len(routes), sent)


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ('<input name="a" value="1"><textarea name="b"></textarea>', {"a": "1", "b": ""}),
        (
            '<input type="radio" name="r" value="x">'
            '<input type="radio" name="r" value="y" checked>',
            {"r": "y"},
        ),
        ('<input name="csrf" value="t"><input name="q" value="&amp;">', {"q": "&"}),
    ],
)
def test_the_walk_sends_a_form_as_its_page_shows_it(page: str, expected: dict[str, str]) -> None:
    assert _form_of(page) == expected
