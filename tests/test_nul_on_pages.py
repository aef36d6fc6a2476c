"""The forms the new-user walk found answering a NUL with a 500 (PostgreSQL) or a bare page:
each now shows the same form again, the field named in its own words, the rest kept; and
pydantic's wording, where it showed, in plain sentences."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Leave
from telehealth.kernel.config import Settings
from tests.builders import make_appointment, make_clinic, make_user, next_weekday, tuesday_at
from tests.builders_manage import csrf_of, make_managed, make_managed_clinic, manage_path
from tests.telehealth.video.test_clinic_pages import error_summary, sign_in
from tests.telehealth.video.test_join_pages import soon

HIDDEN = "contains a hidden character (NUL) that cannot be saved: type it again"
DAY = next_weekday(1, weeks=2)


def _date(name: str, day: date) -> dict[str, str]:
    return {f"{name}[{box}]": str(getattr(day, box)) for box in ("day", "month", "year")}


async def _clinician(session: AsyncSession, client: httpx.AsyncClient) -> str:
    clinic = await make_clinic(session)
    user, _ = await make_user(session, role="clinician", clinician=clinic.clinician)
    return await sign_in(client, user.email)


async def test_leave_with_a_nul_in_its_reason_is_the_same_form_again(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    csrf = await _clinician(session, client)
    sent = {"csrf": csrf, **_date("start", DAY), "reason": "Train\x00ing"}
    page = await client.post("/staff/availability/leave", data=sent)
    assert page.status_code == 422
    assert error_summary(page.text) == {"reason": f"Reason {HIDDEN}"}
    assert f'value="{DAY.day}"' in page.text and 'value="Training"' in page.text
    assert await session.scalar(select(func.count()).select_from(Leave)) == 0


async def test_a_long_leave_reason_is_said_plainly(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    csrf = await _clinician(session, client)
    sent = {"csrf": csrf, **_date("start", DAY), "reason": "x" * 201}
    page = await client.post("/staff/availability/leave", data=sent)
    assert page.status_code == 422
    assert error_summary(page.text) == {"reason": "Reason must be 200 characters or fewer"}


async def test_a_nul_in_the_sign_in_email_is_named_and_the_rest_kept(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/staff/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    sent = {"csrf": csrf, "email": "a@nhs.net\x00", "password": "secret", "next": "/staff\x00"}
    refused = await client.post("/staff/login", data=sent)
    assert refused.status_code == 422
    assert error_summary(refused.text) == {"email": f"Email address {HIDDEN}"}
    assert 'value="a@nhs.net"' in refused.text and "/staff\x00" not in refused.text


async def test_the_waiting_patients_message_refuses_a_nul_and_says_empty_plainly(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    user, _ = await make_user(session, role="clinician", clinician=clinic.clinician)
    a = await make_appointment(session, clinic, start=soon())
    csrf = await sign_in(client, user.email)
    path = f"/staff/appointments/{a.id}/message"
    for text, said in (
        ("Running\x00 late", f"The message {HIDDEN}"),
        ("   ", "Enter a message"),
        ("x" * 281, "Message must be 280 characters or fewer"),
    ):
        sent = await client.post(
            path, data={"csrf": csrf, "message": text, "back": "/staff/clinic"}
        )
        assert sent.status_code == 303
        page = await client.get("/staff/clinic")
        assert error_summary(page.text) == {f"message-{a.id}": said}


async def test_cancelling_online_with_a_nul_keeps_the_form(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    clinic = await make_managed_clinic(session)
    a = await make_managed(session, clinic, start=tuesday_at(9, weeks=3))
    path = manage_path(settings, a.id) + "/cancel"
    csrf = await csrf_of(client, path)
    sent = {"csrf": csrf, "reason": "other", "reason-other": "Moving\x00 away"}
    page = await client.post(path, data=sent)
    assert page.status_code == 422 and "Why are you cancelling" in page.text
    assert error_summary(page.text) == {"reason-other": f"Reason {HIDDEN}"}
    assert "Moving away" in page.text and "Reason-other:" not in page.text


async def test_finding_an_appointment_with_a_nul_keeps_the_form(
    client: httpx.AsyncClient,
) -> None:
    csrf = await csrf_of(client, "/find-appointment")
    sent = {
        "csrf": csrf,
        "reference": "QR9GAEKX",
        "dob-day": "1",
        "dob-month": "2",
        "dob-year": "1960",
        "postcode": "LA4\x00 5RJ",
    }
    page = await client.post("/find-appointment", data=sent)
    assert page.status_code == 422 and "Find your appointment" in page.text
    assert error_summary(page.text) == {"postcode": f"Postcode {HIDDEN}"}
    assert 'value="QR9GAEKX"' in page.text and "Family_name:" not in page.text


def test_a_journey_cookie_never_keeps_an_answer_holding_a_nul(settings: Settings) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

    from telehealth.kernel.errors import InvalidInput
    from telehealth.patients import journey

    app = Starlette()
    app.state.settings = settings
    scope = {"type": "http", "app": app, "headers": [], "path": "/book/t"}
    with pytest.raises(InvalidInput):
        journey.save(Response(), Request(scope), key="k", path="/", answers={"x": "a\x00"})
    # A cookie written before the forms refused a NUL: that answer is asked again.
    old = journey._serializer(settings).dumps(
        {"key": "k", "answers": {"mode": "video_home", "details": {"interpreter_language": "\x00"}}}
    )
    cookie = [(b"cookie", f"{journey.COOKIE}={old}".encode())]
    assert journey.read(Request({**scope, "headers": cookie}), key="k") == {"mode": "video_home"}
