"""GET /api/v1/slots: what a navigator sees when offering a patient a time, on both databases."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import jsonschema
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Service
from scheduling.slots import bank_holidays_between, london_datetime, to_london
from telehealth.kernel.timefmt import LONDON
from tests.builders import (
    NEW_PATIENT,
    Clinic,
    book_via_api,
    make_clinic,
    make_clinician,
    make_service,
    make_session,
    make_user,
    next_weekday,
)

CLINIC_STARTS = [time(9, m) for m in (0, 20, 40)] + [
    time(h, m) for h in (10, 11) for m in (0, 20, 40)
]


def _tuesday(weeks: int = 2) -> date:
    """A Tuesday (make_clinic's weekly 09:00-12:00 session) safely ahead of today, and not a
    bank holiday (a substitute Boxing Day can fall on a Tuesday, as on 2027-12-28)."""
    day = next_weekday(1, weeks=weeks)
    while bank_holidays_between(day, day):
        day += timedelta(days=7)
    return day


def _ahead(find: Callable[[int], date]) -> date:
    """The first of `find(year)` for this year on that is more than a week away."""
    year = date.today().year
    while find(year) <= date.today() + timedelta(days=7):
        year += 1
    return find(year)


def _last_sunday(month: int) -> Callable[[int], date]:
    """Europe/London changes its clocks on the last Sunday of March and of October."""

    def find(year: int) -> date:
        last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - 6) % 7)

    return find


def _early_may_bank_holiday(year: int) -> date:
    first = date(year, 5, 1)
    return first + timedelta(days=-first.weekday() % 7)


def _iso(day: date, wall: time) -> str:
    """How the API writes local wall time `wall` on `day`: ISO 8601 with the London offset."""
    return to_london(london_datetime(day, wall)).isoformat()


async def _search(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    service_id: int,
    start: date,
    end: date | None = None,
    **filters: object,
) -> httpx.Response:
    params = {
        "service_id": str(service_id),
        "start": start.isoformat(),
        "end": (end or start).isoformat(),
    }
    return await client.get(
        "/api/v1/slots", params=params | {k: str(v) for k, v in filters.items()}, headers=headers
    )


async def _slots(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    service_id: int,
    start: date,
    end: date | None = None,
    **filters: object,
) -> list[dict[str, object]]:
    response = await _search(client, headers, service_id, start, end, **filters)
    assert response.status_code == 200, response.text
    found: list[dict[str, object]] = response.json()["slots"]
    return found


def _starts(found: list[dict[str, object]], mode: str | None = None) -> list[str]:
    return [str(s["start"]) for s in found if mode in (None, s["mode"])]


def _local_times(found: list[dict[str, object]], mode: str) -> list[time]:
    return [datetime.fromisoformat(str(s["start"])).time() for s in found if s["mode"] == mode]


def _local_dates(found: list[dict[str, object]]) -> set[date]:
    return {datetime.fromisoformat(str(s["start"])).date() for s in found}


async def _navigator(session: AsyncSession) -> dict[str, str]:
    _, headers = await make_user(session, role="navigator")
    return headers


async def _cancel(
    client: httpx.AsyncClient, headers: dict[str, str], booked: dict[str, object]
) -> None:
    response = await client.post(
        f"/api/v1/appointments/{booked['id']}/cancel",
        json={"reason": "Patient asked"},
        headers=headers,
    )
    assert response.status_code == 200, response.text


# --- what a slot looks like ------------------------------------------------------------------


async def test_slots_are_the_clinics_grid_in_london_time(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    headers = await _navigator(session)
    day = _tuesday()
    response = await _search(client, headers, clinic.service.id, day)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["service_id"] == clinic.service.id
    assert data["timezone"] == "Europe/London"
    places = [
        ("video_home", None),
        ("video_site", clinic.hub.id),
        ("in_person", clinic.hospital.id),
    ]
    expected = [
        {
            "start": _iso(day, wall),
            "end": _iso(day, (datetime.combine(day, wall) + timedelta(minutes=20)).time()),
            "clinician_id": clinic.clinician.id,
            "mode": mode,
            "site_id": site_id,
        }
        for wall in CLINIC_STARTS
        for mode, site_id in sorted(places)  # by start, clinician, then mode name
    ]
    assert data["slots"] == expected


async def test_slot_times_carry_the_local_offset_not_utc(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    headers = await _navigator(session)
    day = _tuesday()
    first = (await _slots(client, headers, clinic.service.id, day))[0]
    start = datetime.fromisoformat(str(first["start"]))
    # Written as local 09:00 with London's offset that day (never "Z", never naive).
    assert str(first["start"]).startswith(f"{day.isoformat()}T09:00:00")
    assert start.utcoffset() == datetime.combine(day, time(9), tzinfo=LONDON).utcoffset()
    assert datetime.fromisoformat(str(first["end"])) - start == timedelta(minutes=20)


# --- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """A query filter and the (mode, site) pairs it must leave at every start time."""

    params: Callable[[Clinic], dict[str, object]]
    places: Callable[[Clinic], set[tuple[str, int | None]]]


FILTERS = [
    pytest.param(
        Filter(lambda c: {"mode": "video_home"}, lambda c: {("video_home", None)}),
        id="mode-video-home",
    ),
    pytest.param(
        Filter(lambda c: {"mode": "video_site"}, lambda c: {("video_site", c.hub.id)}),
        id="mode-video-site",
    ),
    pytest.param(
        Filter(lambda c: {"mode": "in_person"}, lambda c: {("in_person", c.hospital.id)}),
        id="mode-in-person",
    ),
    pytest.param(
        Filter(lambda c: {"site_id": c.hub.id}, lambda c: {("video_site", c.hub.id)}),
        id="site-hub",
    ),
    pytest.param(
        Filter(lambda c: {"site_id": c.hospital.id}, lambda c: {("in_person", c.hospital.id)}),
        id="site-hospital",
    ),
    pytest.param(
        Filter(
            lambda c: {"mode": "video_site", "site_id": c.hospital.id},
            lambda c: set(),
        ),
        id="video-site-at-a-hospital",
    ),
]


@pytest.mark.parametrize("check", FILTERS)
async def test_mode_and_site_filters(
    client: httpx.AsyncClient, session: AsyncSession, check: Filter
) -> None:
    clinic = await make_clinic(session)
    headers = await _navigator(session)
    day = _tuesday()
    found = await _slots(client, headers, clinic.service.id, day, day, **check.params(clinic))
    assert {(s["mode"], s["site_id"]) for s in found} == check.places(clinic)
    expected_starts = CLINIC_STARTS if check.places(clinic) else []
    assert (
        sorted({datetime.fromisoformat(str(s["start"])).time() for s in found}) == expected_starts
    )


async def test_clinician_filter(client: httpx.AsyncClient, session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    other = await make_clinician(session, organisation=clinic.organisation)
    await make_session(
        session,
        clinician=other,
        services=[clinic.service],
        weekday=1,
        start=time(14),
        end=time(15),
        valid_from=date.today(),
        modes=("video_home",),
    )
    headers = await _navigator(session)
    day = _tuesday()
    everyone = await _slots(client, headers, clinic.service.id, day)
    assert {s["clinician_id"] for s in everyone} == {clinic.clinician.id, other.id}
    theirs = await _slots(client, headers, clinic.service.id, day, clinician_id=other.id)
    assert {s["clinician_id"] for s in theirs} == {other.id}
    assert _local_times(theirs, "video_home") == [time(14), time(14, 20), time(14, 40)]
    ours = await _slots(client, headers, clinic.service.id, day, clinician_id=clinic.clinician.id)
    assert {s["clinician_id"] for s in ours} == {clinic.clinician.id}
    assert len(ours) + len(theirs) == len(everyone)


def _date_time(value: object) -> bool:
    """RFC 3339 date-time as the API writes it: ISO 8601 with an offset (jsonschema has no
    checker of its own without an extra package)."""
    return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None


def _declared_validator(document: dict[str, Any], path: str) -> jsonschema.Draft202012Validator:
    """A validator for the 200 response the OpenAPI document declares for GET `path`. The
    component schemas are closed (pydantic leaves extra keys allowed), so a field the response
    has and the document does not declare fails too."""
    declared = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    closed = {
        name: schema | {"additionalProperties": False} if schema.get("type") == "object" else schema
        for name, schema in document["components"]["schemas"].items()
    }
    checker = jsonschema.FormatChecker()
    checker.checks("date-time", raises=ValueError)(_date_time)
    return jsonschema.Draft202012Validator(
        declared["schema"] | {"components": {"schemas": closed}}, format_checker=checker
    )


async def test_the_response_is_what_the_openapi_document_declares(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    headers = await _navigator(session)
    day = _tuesday()
    response = await _search(client, headers, clinic.service.id, day, day + timedelta(days=7))
    assert response.status_code == 200, response.text
    body = response.json()
    assert {s["mode"] for s in body["slots"]} == {"video_home", "video_site", "in_person"}
    validator = _declared_validator((await client.get("/openapi.json")).json(), "/api/v1/slots")

    validator.validate(body)
    # ... and it would notice: an undeclared field, a missing one, a time without its offset.
    first = body["slots"][0]
    for wrong in (
        first | {"room_id": 1},
        {k: v for k, v in first.items() if k != "site_id"},
        first | {"start": first["start"][:19]},
    ):
        assert not validator.is_valid(body | {"slots": [wrong]}), wrong


# --- bookings, buffers and rooms -------------------------------------------------------------


async def test_a_booked_slot_disappears_and_returns_after_cancel(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    headers = await _navigator(session)
    day = _tuesday()
    nine = _iso(day, time(9))
    assert nine in _starts(await _slots(client, headers, clinic.service.id, day))
    booked = await book_via_api(
        client, session, headers, clinic, london_datetime(day, time(9)), patient=NEW_PATIENT
    )
    after_booking = await _slots(client, headers, clinic.service.id, day)
    # The clinician is busy: 09:00 goes in every mode, and nothing else does.
    assert nine not in _starts(after_booking)
    assert len(after_booking) == 3 * (len(CLINIC_STARTS) - 1)
    await _cancel(client, headers, booked)
    after_cancel = await _slots(client, headers, clinic.service.id, day)
    assert _starts(after_cancel).count(nine) == 3
    assert len(after_cancel) == 3 * len(CLINIC_STARTS)


async def test_the_service_buffer_hides_the_neighbouring_slots(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session, buffer=10)
    headers = await _navigator(session)
    day = _tuesday()
    before = await _slots(client, headers, clinic.service.id, day, mode="video_home")
    assert _local_times(before, "video_home") == CLINIC_STARTS
    await book_via_api(
        client, session, headers, clinic, london_datetime(day, time(10)), patient=NEW_PATIENT
    )
    after = await _slots(client, headers, clinic.service.id, day, mode="video_home")
    # 09:40 would run (with its buffer) to 10:10; 10:20 starts inside 10:00 + 20 + 10.
    assert _local_times(after, "video_home") == [
        time(9),
        time(9, 20),
        time(10, 40),
        time(11),
        time(11, 20),
        time(11, 40),
    ]


async def test_video_site_slots_only_while_the_hub_has_a_free_room(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session, rooms=1)
    other = await make_clinician(session, organisation=clinic.organisation)
    await make_session(
        session,
        clinician=other,
        services=[clinic.service],
        weekday=1,
        valid_from=date.today(),
        modes=("video_home", "video_site"),
        hubs=[clinic.hub],
    )
    headers = await _navigator(session)
    day = _tuesday()
    theirs = await _slots(client, headers, clinic.service.id, day, clinician_id=other.id)
    assert time(9) in _local_times(theirs, "video_site")
    booked = await book_via_api(
        client,
        session,
        headers,
        clinic,
        london_datetime(day, time(9)),
        mode="video_site",
        site_id=clinic.hub.id,
        patient=NEW_PATIENT,
    )
    theirs = await _slots(client, headers, clinic.service.id, day, clinician_id=other.id)
    # The hub's only room is taken at 09:00: the other clinician may still see patients at
    # home then, but not at the hub.
    assert time(9) not in _local_times(theirs, "video_site")
    assert time(9, 20) in _local_times(theirs, "video_site")
    assert time(9) in _local_times(theirs, "video_home")
    await _cancel(client, headers, booked)
    theirs = await _slots(client, headers, clinic.service.id, day, clinician_id=other.id)
    assert time(9) in _local_times(theirs, "video_site")


# --- clock changes and bank holidays ---------------------------------------------------------


async def _far_clinic(
    session: AsyncSession, *, weekday: int, valid_from: date, bank_holidays: bool = False
) -> Service:
    """A video_home service bookable two years ahead, with one 09:00-10:00 weekly session."""
    service = await make_service(session, horizon_days=730, modes=("video_home",))
    clinician = await make_clinician(session)
    await make_session(
        session,
        clinician=clinician,
        services=[service],
        weekday=weekday,
        start=time(9),
        end=time(10),
        valid_from=valid_from,
        modes=("video_home",),
        bank_holidays=bank_holidays,
    )
    return service


@pytest.mark.parametrize(
    ("month", "offsets"),
    [
        pytest.param(3, ("+00:00", "+01:00"), id="spring-forward"),  # 2027-03-28 as written
        pytest.param(10, ("+01:00", "+00:00"), id="fall-back"),  # 2027-10-31 as written
    ],
)
async def test_a_nine_oclock_session_is_nine_local_across_clock_changes(
    client: httpx.AsyncClient, session: AsyncSession, month: int, offsets: tuple[str, str]
) -> None:
    change = _ahead(_last_sunday(month))
    before, after = change - timedelta(days=5), change + timedelta(days=2)  # the Tuesdays
    service = await _far_clinic(session, weekday=1, valid_from=before)
    headers = await _navigator(session)
    found = await _slots(client, headers, service.id, before, after)
    assert _starts(found) == [
        f"{before.isoformat()}T09:00:00{offsets[0]}",
        f"{before.isoformat()}T09:20:00{offsets[0]}",
        f"{before.isoformat()}T09:40:00{offsets[0]}",
        f"{after.isoformat()}T09:00:00{offsets[1]}",
        f"{after.isoformat()}T09:20:00{offsets[1]}",
        f"{after.isoformat()}T09:40:00{offsets[1]}",
    ]


@pytest.mark.parametrize("bank_holidays", [False, True], ids=["closed", "bank-holidays-true"])
async def test_early_may_bank_holiday_is_closed_unless_the_session_opts_in(
    client: httpx.AsyncClient, session: AsyncSession, bank_holidays: bool
) -> None:
    # The early May bank holiday (Monday 2027-05-03 as written); the Mondays either side are
    # ordinary working days.
    holiday = _ahead(_early_may_bank_holiday)
    assert bank_holidays_between(holiday, holiday) == {holiday}
    week = timedelta(days=7)
    service = await _far_clinic(
        session, weekday=0, valid_from=holiday - week, bank_holidays=bank_holidays
    )
    headers = await _navigator(session)
    found = await _slots(client, headers, service.id, holiday - week, holiday + week)
    ordinary = {holiday - week, holiday + week}
    assert _local_dates(found) == (ordinary | {holiday} if bank_holidays else ordinary)


# --- leave and extra sessions through the exceptions API -------------------------------------


async def _add_exception(
    client: httpx.AsyncClient, clinic: Clinic, body: Mapping[str, object], headers: dict[str, str]
) -> dict[str, object]:
    response = await client.post(
        f"/api/v1/clinicians/{clinic.clinician.id}/exceptions", json=body, headers=headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def test_whole_day_leave_closes_the_day_until_it_is_removed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, admin = await make_user(session, role="admin")
    headers = await _navigator(session)
    day, next_week = _tuesday(), _tuesday(weeks=3)
    leave = await _add_exception(
        client, clinic, {"kind": "leave", "start_date": day.isoformat(), "reason": "Annual"}, admin
    )
    found = await _slots(client, headers, clinic.service.id, day, next_week)
    assert _local_dates(found) == {next_week}
    removed = await client.delete(
        f"/api/v1/clinicians/{clinic.clinician.id}/exceptions/{leave['id']}", headers=admin
    )
    assert removed.status_code == 204, removed.text
    found = await _slots(client, headers, clinic.service.id, day, next_week)
    assert _local_dates(found) == {day, next_week}


async def test_part_day_leave_removes_only_the_slots_it_overlaps(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, admin = await make_user(session, role="admin")
    headers = await _navigator(session)
    day = _tuesday()
    body = {
        "kind": "leave",
        "start_date": day.isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        "reason": "Teaching",
    }
    await _add_exception(client, clinic, body, admin)
    found = await _slots(client, headers, clinic.service.id, day, mode="video_home")
    # 09:40-10:00 only touches the leave; 11:00 starts as it ends.
    assert _local_times(found, "video_home") == [
        time(9),
        time(9, 20),
        time(9, 40),
        time(11),
        time(11, 20),
        time(11, 40),
    ]


async def test_a_one_off_extra_session_adds_slots_on_its_date_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, admin = await make_user(session, role="admin")
    headers = await _navigator(session)
    thursday = _tuesday() + timedelta(days=2)
    following_thursday = thursday + timedelta(days=7)
    before = await _slots(client, headers, clinic.service.id, thursday, following_thursday)
    assert not [s for s in before if _local_dates([s]) & {thursday, following_thursday}]
    body = {
        "kind": "extra",
        "start_date": thursday.isoformat(),
        "start_time": "14:00",
        "end_time": "15:00",
        "modes": ["video_home"],
        "service_ids": [clinic.service.id],
    }
    await _add_exception(client, clinic, body, admin)
    found = await _slots(client, headers, clinic.service.id, thursday, following_thursday)
    extra = [s for s in found if _local_dates([s]) == {thursday}]
    assert _starts(extra) == [_iso(thursday, time(14, m)) for m in (0, 20, 40)]
    assert {(s["mode"], s["site_id"]) for s in extra} == {("video_home", None)}
    assert not [s for s in found if _local_dates([s]) == {following_thursday}]


# --- bad queries -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"start": "2027-01-12", "end": "2027-01-11"}, "end", id="end-before-start"),
        pytest.param({"start": "2027-01-01", "end": "2027-03-04"}, "end", id="63-days"),
        pytest.param({"start": "2027-02-30", "end": "2027-03-02"}, "start", id="impossible-date"),
        pytest.param({"start": "2027-01-12"}, "end", id="end-missing"),
        pytest.param(
            {"start": "2027-01-12", "end": "2027-01-12", "mode": "fax"}, "mode", id="mode"
        ),
        pytest.param(
            {"start": "2027-01-12", "end": "2027-01-12", "colour": "red"}, "colour", id="unknown"
        ),
    ],
)
async def test_a_bad_query_is_422_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession, params: dict[str, str], field: str
) -> None:
    clinic = await make_clinic(session)
    headers = await _navigator(session)
    response = await client.get(
        "/api/v1/slots", params={"service_id": str(clinic.service.id)} | params, headers=headers
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in error["fields"], error


async def test_a_range_of_62_days_is_allowed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    headers = await _navigator(session)
    start = _tuesday()
    end = start + timedelta(days=61)
    found = await _slots(client, headers, clinic.service.id, start, end)
    tuesdays = {start + timedelta(days=7 * n) for n in range(9)}  # nine in 62 days
    assert _local_dates(found) == tuesdays - bank_holidays_between(start, end)


async def test_an_unknown_service_is_422(client: httpx.AsyncClient, session: AsyncSession) -> None:
    headers = await _navigator(session)
    response = await _search(client, headers, 999_999, _tuesday())
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert "service_id" in error["fields"], error
