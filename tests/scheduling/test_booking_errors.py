"""Booking, rescheduling and cancelling requests that must fail: the status, the stable code,
the field named in `fields`, and nothing half-written afterwards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import holidays
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, Leave, Patient
from scheduling.slots import london_datetime
from tests.builders import (
    NEW_PATIENT,
    Clinic,
    make_appointment,
    make_clinic,
    make_clinician,
    make_patient,
    make_session,
    make_user,
    next_weekday,
)

MISSING = 999_999


def _tuesday(weeks: int = 2, at: time = time(9)) -> datetime:
    """A Tuesday clinic time (make_clinic's weekly session), as an aware UTC instant."""
    return london_datetime(next_weekday(1, weeks=weeks), at)


def _body(clinic: Clinic, start: datetime | str, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "service_id": clinic.service.id,
        "clinician_id": clinic.clinician.id,
        "start": start if isinstance(start, str) else start.isoformat(),
        "mode": "video_home",
        "patient": NEW_PATIENT,
    }
    body.update(changes)
    return body


def _patient(**changes: object) -> dict[str, object]:
    return NEW_PATIENT | changes


async def _book(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, object]
) -> httpx.Response:
    return await client.post("/api/v1/appointments", json=body, headers=headers)


async def _counts(session: AsyncSession) -> tuple[int, int]:
    appointments = await session.scalar(select(func.count()).select_from(Appointment))
    patients = await session.scalar(select(func.count()).select_from(Patient))
    return appointments or 0, patients or 0


def _assert_error(response: httpx.Response, status: int, code: str, field: str | None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    if field is not None:
        assert field in error["fields"], error
        assert error["fields"][field], "each bad field carries a message"


@dataclass(frozen=True)
class BadBooking:
    """A booking request that must be refused, and the answer expected."""

    changes: Callable[[Clinic], dict[str, object]]
    field: str
    code: str = "invalid_input"
    status: int = 422


BAD_BOOKINGS = [
    pytest.param(
        BadBooking(lambda c: {"start": "next Tuesday at nine"}, "start"),
        id="start-not-iso",
    ),
    pytest.param(
        BadBooking(lambda c: {"start": _tuesday().replace(tzinfo=None).isoformat()}, "start"),
        id="start-naive",
    ),
    pytest.param(
        BadBooking(lambda c: {"start": "2026-02-30T09:00:00+00:00"}, "start"),
        id="start-impossible-date",
    ),
    pytest.param(
        BadBooking(
            lambda c: {"patient": _patient(nhs_number="943 476 5918")}, "patient.nhs_number"
        ),
        id="nhs-number-check-digit",
    ),
    pytest.param(
        BadBooking(lambda c: {"patient": _patient(postcode="LA4 5CJ")}, "patient.postcode"),
        id="postcode-malformed",
    ),
    pytest.param(
        BadBooking(
            lambda c: {"patient": _patient(date_of_birth="1948-02-30")}, "patient.date_of_birth"
        ),
        id="date-of-birth-impossible",
    ),
    pytest.param(
        BadBooking(
            lambda c: {"patient": _patient(date_of_birth=str(date.today() + timedelta(days=1)))},
            "patient.date_of_birth",
        ),
        id="date-of-birth-future",
    ),
    pytest.param(
        BadBooking(lambda c: {"start": _tuesday(at=time(9, 5)).isoformat()}, "start", "not_a_slot"),
        id="start-off-grid",
    ),
    pytest.param(
        BadBooking(
            lambda c: {"start": london_datetime(next_weekday(1, weeks=-1), time(9)).isoformat()},
            "start",
            "start_in_past",
        ),
        id="start-in-past",
    ),
    pytest.param(
        BadBooking(lambda c: {"mode": "video_site", "site_id": c.hospital.id}, "site_id"),
        id="video-site-at-a-hospital",
    ),
    pytest.param(
        BadBooking(lambda c: {"site_id": c.hub.id}, "site_id"),
        id="site-for-video-home",
    ),
    pytest.param(
        BadBooking(lambda c: {"mode": "in_person"}, "site_id"),
        id="in-person-without-site",
    ),
    pytest.param(
        BadBooking(lambda c: {"mode": "telepathy"}, "mode"),
        id="mode-unknown",
    ),
    pytest.param(
        BadBooking(lambda c: {"service_id": MISSING}, "service_id"),
        id="service-unknown",
    ),
    pytest.param(
        BadBooking(lambda c: {"clinician_id": MISSING}, "clinician_id"),
        id="clinician-unknown",
    ),
    pytest.param(
        BadBooking(lambda c: {"patient": MISSING}, "patient"),
        id="patient-unknown",
    ),
    pytest.param(
        BadBooking(lambda c: {"site_id": MISSING, "mode": "in_person"}, "site_id"),
        id="site-unknown",
    ),
    pytest.param(
        BadBooking(lambda c: {"colour": "blue"}, "colour"),
        id="unknown-field",
    ),
    pytest.param(
        BadBooking(lambda c: {"patient": _patient(colour="blue")}, "patient.colour"),
        id="unknown-patient-field",
    ),
]


@pytest.mark.parametrize("bad", BAD_BOOKINGS)
async def test_bad_booking_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, bad: BadBooking
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    before = await _counts(session)
    response = await _book(client, headers, _body(clinic, _tuesday()) | bad.changes(clinic))
    _assert_error(response, bad.status, bad.code, bad.field)
    assert await _counts(session) == before
    # The same request without the fault books: the refusal was for the fault alone.
    assert (await _book(client, headers, _body(clinic, _tuesday()))).status_code == 201


async def test_beyond_the_horizon_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session, horizon_days=14)
    _, headers = await make_user(session, role="navigator")
    before = await _counts(session)
    response = await _book(client, headers, _body(clinic, _tuesday(weeks=3)))
    _assert_error(response, 422, "invalid_input", "start")
    assert "horizon" in response.json()["error"]["fields"]["start"]
    assert await _counts(session) == before
    assert (await _book(client, headers, _body(clinic, _tuesday(weeks=1)))).status_code == 201


@pytest.mark.parametrize(
    ("start", "code"),
    [
        ("9999-12-31T23:00:00+00:00", "invalid_input"),
        ("2200-01-01T09:00:00Z", "invalid_input"),
        # Outside the years any instant may have (telehealth/inputs.py), before "in the past".
        ("0001-01-01T00:30:00+00:00", "invalid_input"),
    ],
)
async def test_a_start_at_the_ends_of_time_is_a_422(
    client: httpx.AsyncClient, session: AsyncSession, start: str, code: str
) -> None:
    """Not a 500: a start the calendar can hardly hold is refused before any look-up."""
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    before = await _counts(session)
    response = await _book(client, headers, _body(clinic, _tuesday()) | {"start": start})
    _assert_error(response, 422, code, "start")
    booked = await _book(client, headers, _body(clinic, _tuesday()))
    moved = await client.post(
        f"/api/v1/appointments/{booked.json()['id']}/reschedule",
        json={"start": start},
        headers=headers,
    )
    _assert_error(moved, 422, code, "start")
    assert await _counts(session) != before  # the one good booking, and nothing else


async def test_a_mode_the_service_does_not_offer_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    clinic.service.modes = ["video_home", "in_person"]
    await session.flush()
    _, headers = await make_user(session, role="navigator")
    before = await _counts(session)
    body = _body(clinic, _tuesday(), mode="video_site", site_id=clinic.hub.id)
    _assert_error(await _book(client, headers, body), 422, "invalid_input", "mode")
    assert await _counts(session) == before


def _next_bank_holiday_monday() -> date:
    """The next England bank holiday on a Monday, at least a week ahead."""
    first = date.today() + timedelta(days=7)
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=[first.year, first.year + 1])
    return min(day for day in calendar if day >= first and day.weekday() == 0)


async def test_a_bank_holiday_is_not_a_slot(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    await make_session(
        session,
        clinician=clinic.clinician,
        services=[clinic.service],
        weekday=0,
        valid_from=date.today(),
        site=clinic.hospital,
        hubs=[clinic.hub],
    )
    _, headers = await make_user(session, role="navigator")
    holiday = _next_bank_holiday_monday()
    before = await _counts(session)
    response = await _book(client, headers, _body(clinic, london_datetime(holiday, time(9))))
    _assert_error(response, 422, "not_a_slot", "start")
    assert await _counts(session) == before
    ordinary_monday = london_datetime(holiday + timedelta(days=7), time(9))
    if ordinary_monday.date() not in holidays.country_holidays("GB", subdiv="ENG"):
        assert (await _book(client, headers, _body(clinic, ordinary_monday))).status_code == 201


async def test_a_start_during_leave_is_not_a_slot(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    start = _tuesday()
    session.add(
        Leave(
            clinician_id=clinic.clinician.id,
            starts_at=start - timedelta(hours=1),
            ends_at=start + timedelta(hours=1),
            reason="Study leave",
        )
    )
    await session.flush()
    _, headers = await make_user(session, role="navigator")
    before = await _counts(session)
    _assert_error(await _book(client, headers, _body(clinic, start)), 422, "not_a_slot", "start")
    assert await _counts(session) == before
    after_leave = start + timedelta(hours=1)
    assert (await _book(client, headers, _body(clinic, after_leave))).status_code == 201


async def test_a_patient_booked_elsewhere_at_that_time_is_409(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    other = await make_clinician(session, organisation=clinic.organisation)
    await make_session(
        session,
        clinician=other,
        services=[clinic.service],
        weekday=1,
        valid_from=date.today(),
        site=clinic.hospital,
        hubs=[clinic.hub],
    )
    patient = await make_patient(session)
    start = _tuesday()
    await make_appointment(session, clinic, start=start, patient=patient)
    _, headers = await make_user(session, role="navigator")
    before = await _counts(session)
    body = _body(clinic, start, clinician_id=other.id, patient=patient.id)
    _assert_error(await _book(client, headers, body), 409, "patient_unavailable", None)
    assert await _counts(session) == before
    later = _body(clinic, start + timedelta(minutes=20), clinician_id=other.id, patient=patient.id)
    assert (await _book(client, headers, later)).status_code == 201


async def test_a_new_patient_is_not_kept_when_the_slot_is_taken(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    start = _tuesday()
    await make_appointment(session, clinic, start=start)
    _, headers = await make_user(session, role="navigator")
    before = await _counts(session)
    response = await _book(client, headers, _body(clinic, start))
    _assert_error(response, 409, "slot_unavailable", None)
    assert await _counts(session) == before


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"service_id": 1,', id="truncated"),
        pytest.param(b"service_id=1", id="form-encoded"),
    ],
)
async def test_malformed_json_is_400(
    client: httpx.AsyncClient, session: AsyncSession, raw: bytes
) -> None:
    _, headers = await make_user(session, role="navigator")
    before = await _counts(session)
    response = await client.post(
        "/api/v1/appointments",
        content=raw,
        headers=headers | {"Content-Type": "application/json"},
    )
    _assert_error(response, 400, "invalid_json", None)
    assert await _counts(session) == before


async def test_a_body_that_is_not_an_object_is_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, headers = await make_user(session, role="navigator")
    response = await client.post("/api/v1/appointments", json=[1, 2], headers=headers)
    _assert_error(response, 422, "invalid_input", "body")


# --- an appointment that is missing, or cannot move -------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param("GET", "/api/v1/appointments/{id}", None, id="get"),
        pytest.param(
            "POST", "/api/v1/appointments/{id}/reschedule", {"start": "{start}"}, id="reschedule"
        ),
        pytest.param("POST", "/api/v1/appointments/{id}/cancel", {"reason": "x"}, id="cancel"),
    ],
)
async def test_a_missing_appointment_is_404(
    client: httpx.AsyncClient,
    session: AsyncSession,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    _, headers = await make_user(session, role="navigator")
    json = {k: v.replace("{start}", _tuesday().isoformat()) for k, v in (body or {}).items()}
    response = await client.request(
        method,
        path.format(id=MISSING),
        json=json if body is not None else None,
        headers=headers,
    )
    _assert_error(response, 404, "not_found", None)


async def test_a_non_numeric_appointment_id_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, headers = await make_user(session, role="navigator")
    response = await client.get("/api/v1/appointments/abc", headers=headers)
    _assert_error(response, 422, "invalid_input", "appointment_id")


async def _booked(
    client: httpx.AsyncClient, headers: dict[str, str], clinic: Clinic
) -> dict[str, object]:
    response = await _book(client, headers, _body(clinic, _tuesday()))
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


async def test_rescheduling_a_cancelled_appointment_is_409(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    booked = await _booked(client, headers, clinic)
    url = f"/api/v1/appointments/{booked['id']}"
    cancel = await client.post(f"{url}/cancel", json={"reason": "Patient asked"}, headers=headers)
    assert cancel.status_code == 200, cancel.text
    moved = await client.post(
        f"{url}/reschedule",
        json={"start": _tuesday(at=time(10)).isoformat()},
        headers=headers,
    )
    _assert_error(moved, 409, "invalid_status", None)
    after = (await client.get(url, headers=headers)).json()
    assert after["status"] == "cancelled"
    assert after["start"] == booked["start"]


BAD_RESCHEDULES = [
    pytest.param(lambda c: {"start": "tomorrow"}, "start", "invalid_input", id="start-not-iso"),
    pytest.param(
        lambda c: {"start": _tuesday(at=time(10)).replace(tzinfo=None).isoformat()},
        "start",
        "invalid_input",
        id="start-naive",
    ),
    pytest.param(
        lambda c: {"start": _tuesday(at=time(10, 5)).isoformat()},
        "start",
        "not_a_slot",
        id="start-off-grid",
    ),
    pytest.param(
        lambda c: {"start": london_datetime(next_weekday(1, weeks=-1), time(9)).isoformat()},
        "start",
        "start_in_past",
        id="start-in-past",
    ),
    pytest.param(
        lambda c: {"start": _tuesday(at=time(10)).isoformat(), "clinician_id": MISSING},
        "clinician_id",
        "invalid_input",
        id="clinician-unknown",
    ),
    pytest.param(
        lambda c: {"start": _tuesday(at=time(10)).isoformat(), "mode": "in_person"},
        "site_id",
        "invalid_input",
        id="in-person-without-site",
    ),
    pytest.param(
        lambda c: {
            "start": _tuesday(at=time(10)).isoformat(),
            "mode": "video_site",
            "site_id": c.hospital.id,
        },
        "site_id",
        "invalid_input",
        id="video-site-at-a-hospital",
    ),
    pytest.param(
        lambda c: {"start": _tuesday(at=time(10)).isoformat(), "reason": "x"},
        "reason",
        "invalid_input",
        id="unknown-field",
    ),
]


@pytest.mark.parametrize(("changes", "field", "code"), BAD_RESCHEDULES)
async def test_bad_reschedule_leaves_the_appointment_as_it_was(
    client: httpx.AsyncClient,
    session: AsyncSession,
    changes: Callable[[Clinic], dict[str, object]],
    field: str,
    code: str,
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    booked = await _booked(client, headers, clinic)
    url = f"/api/v1/appointments/{booked['id']}"
    response = await client.post(f"{url}/reschedule", json=changes(clinic), headers=headers)
    _assert_error(response, 422, code, field)
    assert (await client.get(url, headers=headers)).json() == booked


async def test_rescheduling_onto_a_taken_slot_is_409_and_keeps_the_old_time(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    booked = await _booked(client, headers, clinic)
    await make_appointment(session, clinic, start=_tuesday(at=time(10)))
    url = f"/api/v1/appointments/{booked['id']}"
    response = await client.post(
        f"{url}/reschedule", json={"start": _tuesday(at=time(10)).isoformat()}, headers=headers
    )
    _assert_error(response, 409, "slot_unavailable", None)
    assert (await client.get(url, headers=headers)).json() == booked


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"reason": ""}, "reason", id="empty-reason"),
        pytest.param({"reason": "x" * 501}, "reason", id="reason-too-long"),
        pytest.param({"reason": "ok", "notify": False}, "notify", id="unknown-field"),
    ],
)
async def test_bad_cancel_leaves_the_appointment_booked(
    client: httpx.AsyncClient, session: AsyncSession, body: dict[str, object], field: str
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    booked = await _booked(client, headers, clinic)
    url = f"/api/v1/appointments/{booked['id']}"
    response = await client.post(f"{url}/cancel", json=body, headers=headers)
    _assert_error(response, 422, "invalid_input", field)
    assert (await client.get(url, headers=headers)).json() == booked
