"""The bounds every input is held to (telehealth/kernel/inputs.py), and NUL refused through the API
on both databases (PostgreSQL refused it with a 500; SQLite stored it)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import httpx
import pydantic
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Patient
from scheduling.slots import london_datetime
from telehealth.kernel.errors import InvalidInput
from telehealth.kernel.inputs import (
    EARLIEST,
    LATEST,
    MAX_ID,
    NUL_RULE,
    Date,
    Id,
    Instant,
    refuse_nul,
)
from tests.builders import NEW_PATIENT, make_clinic, make_user, next_weekday


@pytest.mark.parametrize("value", [1, 2, MAX_ID])
def test_ids_the_columns_hold_are_accepted(value: int) -> None:
    assert pydantic.TypeAdapter(Id).validate_python(value) == value


@pytest.mark.parametrize("value", [0, -1, MAX_ID + 1, 2**63, 10**20, True])
def test_other_ids_are_refused_in_plain_words(value: int) -> None:
    with pytest.raises(pydantic.ValidationError, match="whole number from 1 to 2147483647"):
        pydantic.TypeAdapter(Id).validate_python(value)


def test_dates_hold_a_day_of_room_either_side_of_the_bounds() -> None:
    adapter = pydantic.TypeAdapter(Date)
    assert adapter.validate_python(EARLIEST) == EARLIEST
    assert adapter.validate_python(LATEST) == LATEST
    assert LATEST + timedelta(days=366) < date.max and EARLIEST - timedelta(days=366) > date.min
    for outside in (date.min, date.max, EARLIEST - timedelta(days=1), LATEST + timedelta(1)):
        with pytest.raises(pydantic.ValidationError, match="between 1 January 1900"):
            adapter.validate_python(outside)


@pytest.mark.parametrize(
    "value",
    [
        datetime.max.replace(tzinfo=UTC),
        datetime(9999, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5))),
        datetime.min.replace(tzinfo=UTC),
        datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=5))),
    ],
)
def test_instants_at_the_edge_of_the_calendar_are_refused_not_overflowed(
    value: datetime,
) -> None:
    with pytest.raises(pydantic.ValidationError, match="between 1 January 1900"):
        pydantic.TypeAdapter(Instant).validate_python(value)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"family_name": "a\x00b"}, "family_name"),
        ({"patient": {"given_name": "Ann", "family_name": "\x00"}}, "patient.family_name"),
        ({"tags": ["ok", "n\x00"]}, "tags.1"),
        ({"na\x00me": "x"}, "na\\u0000me"),
    ],
)
def test_nul_is_refused_naming_where_it_is(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        refuse_nul(data)
    assert list(raised.value.fields) == [field]


def test_text_without_nul_passes() -> None:
    refuse_nul({"a": "plain", "b": ["é", "✓"], "c": {"d": 1, "e": None}})


async def _patients(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Patient)) or 0)


async def test_nul_in_a_body_is_a_422_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, headers = await make_user(session, role="navigator")
    before = await _patients(session)
    response = await client.post(
        "/api/v1/patients", json={**NEW_PATIENT, "given_name": "Ma\x00ry"}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"] == {"given_name": NUL_RULE}
    assert await _patients(session) == before


async def test_nul_in_a_new_patient_inside_a_booking_names_the_nested_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    before = await _patients(session)
    body = {
        "service_id": clinic.service.id,
        "clinician_id": clinic.clinician.id,
        "start": london_datetime(next_weekday(1, weeks=2), time(9)).isoformat(),
        "mode": "video_home",
        "patient": {**NEW_PATIENT, "family_name": "Atkin\x00son"},
    }
    response = await client.post("/api/v1/appointments", json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert list(response.json()["error"]["fields"]) == ["patient.family_name"]
    assert await _patients(session) == before


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("family_name=a%00b&date_of_birth=1948-02-29", "family_name"),
        ("nhs_number=943%00476", "nhs_number"),
    ],
)
async def test_nul_in_a_query_is_a_422_naming_the_parameter(
    client: httpx.AsyncClient, session: AsyncSession, query: str, field: str
) -> None:
    _, headers = await make_user(session, role="navigator")
    response = await client.get(f"/api/v1/patients?{query}", headers=headers)
    assert response.status_code == 422, response.text
    assert list(response.json()["error"]["fields"]) == [field]


@pytest.mark.parametrize(
    "start_time",
    [
        pytest.param("09:00:00Z", id="with-an-offset"),  # compared with a naive end: TypeError
        pytest.param(32400, id="seconds"),
        pytest.param("9am", id="words"),
    ],
)
async def test_session_hours_are_wall_clock_times_or_a_422(
    client: httpx.AsyncClient, session: AsyncSession, start_time: object
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="admin")
    body = {
        "weekday": 2,
        "valid_from": next_weekday(2).isoformat(),
        "start_time": start_time,
        "end_time": "12:00",
        "modes": ["video_home"],
        "service_ids": [clinic.service.id],
    }
    response = await client.post(
        f"/api/v1/clinicians/{clinic.clinician.id}/sessions", json=body, headers=headers
    )
    assert response.status_code == 422, response.text
    assert list(response.json()["error"]["fields"]) == ["start_time"]


@pytest.mark.parametrize("value", [0, 0.0, "0", "20270302", "1700000000", True])
def test_a_date_is_written_as_a_date_never_a_count_of_seconds(value: object) -> None:
    # Lax pydantic reads 0 (or "0") as 1 January 1970; the document says YYYY-MM-DD.
    with pytest.raises(pydantic.ValidationError, match="YYYY-MM-DD"):
        pydantic.TypeAdapter(Date).validate_python(value)
    assert pydantic.TypeAdapter(Date).validate_python("2027-03-02") == date(2027, 3, 2)


@pytest.mark.parametrize("value", [0, 1700000000, "1700000000", "2027-03-02"])
def test_an_instant_is_a_written_date_and_time_never_a_count_of_seconds(value: object) -> None:
    with pytest.raises(pydantic.ValidationError, match="date and time"):
        pydantic.TypeAdapter(Instant).validate_python(value)
    written = pydantic.TypeAdapter(Instant).validate_python("2027-03-02T09:30:00+00:00")
    assert written == datetime(2027, 3, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", ["0", "0.0", "1700000000"])
async def test_a_number_for_a_date_in_a_query_is_a_422_naming_it(
    client: httpx.AsyncClient, session: AsyncSession, value: str
) -> None:
    # Found by schemathesis: ?date=0 listed appointments for 1 January 1970.
    _, headers = await make_user(session, role="navigator")
    response = await client.get(f"/api/v1/appointments?date={value}", headers=headers)
    assert response.status_code == 422, response.text
    assert list(response.json()["error"]["fields"]) == ["date"]
