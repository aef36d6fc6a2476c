"""A booking whose one write is its INSERT runs on PostgreSQL with each statement committing by
itself (no BEGIN, no COMMIT: two round trips of four); every other booking, and any booking
on SQLite or through the tests' shared connection, in a transaction. Against a database of its
own, with real commits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from datetime import time as clock
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app import create_app
from scheduling.endpoints.appointments import _books_with_one_write
from scheduling.models import Appointment, Patient
from scheduling.slots import london_datetime
from telehealth.kernel.audit import AuditEvent
from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.builders import Clinic, make_clinic, make_patient, make_user, next_weekday
from tests.conftest import TEST_SETTINGS


@pytest.fixture
async def own_engine(fresh_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(fresh_database)
    yield engine
    await engine.dispose()


class _Statements:
    """The statements the engine runs, each with whether its connection commits by itself."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.seen: list[tuple[str, bool]] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        self.seen.append((statement.split(None, 1)[0].upper(), autocommit))

    def take(self) -> list[tuple[str, bool]]:
        seen, self.seen = self.seen, []
        return seen


async def _setup(engine: AsyncEngine) -> tuple[Clinic, dict[str, str], list[int]]:
    async with make_sessionmaker(engine)() as session, session.begin():
        clinic = await make_clinic(session)
        _, headers = await make_user(session, role="navigator")
        patients = [(await make_patient(session)).id for _ in range(3)]
    return clinic, headers, patients


async def _counts(engine: AsyncEngine) -> tuple[int, int, int]:
    async with make_sessionmaker(engine)() as session:
        return (
            await session.scalar(select(func.count()).select_from(Appointment)) or 0,
            await session.scalar(select(func.count()).select_from(Patient)) or 0,
            await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "appointment.book")
            )
            or 0,
        )


async def test_a_booking_by_patient_id_commits_its_insert_alone_on_postgresql(
    own_engine: AsyncEngine,
) -> None:
    clinic, headers, patients = await _setup(own_engine)
    app = create_app(TEST_SETTINGS, sessionmaker=make_sessionmaker(own_engine))
    statements = _Statements(own_engine)
    start = london_datetime(next_weekday(1, weeks=2), clock(9))
    body = {
        "service_id": clinic.service.id,
        "clinician_id": clinic.clinician.id,
        "start": start.isoformat(),
        "mode": "video_home",
        "patient": patients[0],
    }
    postgres = own_engine.dialect.name == "postgresql"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
    ) as client:
        booked = await client.post("/api/v1/appointments", json=body)
        assert booked.status_code == 201, booked.text
        seen = statements.take()
        assert seen and all(autocommit == postgres for _, autocommit in seen), seen
        assert await _counts(own_engine) == (1, 3, 1)  # committed, and audited

        # The same time for another patient: refused, and nothing of it is left.
        statements.take()  # not the counts'
        taken = await client.post("/api/v1/appointments", json={**body, "patient": patients[1]})
        assert taken.status_code == 409, taken.text
        assert all(autocommit == postgres for _, autocommit in statements.take())
        assert await _counts(own_engine) == (1, 3, 1)

        # Off the slot grid: a 422 from the reads alone.
        off = start + timedelta(minutes=20, seconds=1)
        wrong = await client.post(
            "/api/v1/appointments", json={**body, "start": off.isoformat(), "patient": 2}
        )
        assert wrong.status_code == 422, wrong.text
        assert await _counts(own_engine) == (1, 3, 1)
        assert datetime.fromisoformat(booked.json()["start"]) == start


async def test_bookings_with_other_writes_keep_their_transaction(
    own_engine: AsyncEngine,
) -> None:
    clinic, headers, patients = await _setup(own_engine)
    app = create_app(TEST_SETTINGS, sessionmaker=make_sessionmaker(own_engine))
    statements = _Statements(own_engine)
    day = next_weekday(1, weeks=2)

    def body(hour: int, **fields: object) -> dict[str, object]:
        start = london_datetime(day, clock(hour))
        return {
            "service_id": clinic.service.id,
            "clinician_id": clinic.clinician.id,
            "start": start.isoformat(),
            "mode": "video_home",
            "patient": patients[0],
            **fields,
        }

    new_patient = {
        "given_name": "Ada",
        "family_name": "Commit",
        "date_of_birth": "1950-03-03",
        "email": "ada.commit@example.com",
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
    ) as client:
        for request in (
            client.post("/api/v1/appointments", json=body(9, patient=new_patient)),
            client.post(
                "/api/v1/appointments", json=body(10), headers={"Idempotency-Key": "once-only"}
            ),
            client.post(
                "/api/v1/appointments", json=body(11, mode="video_site", site_id=clinic.hub.id)
            ),
        ):
            response = await request
            assert response.status_code == 201, response.text
            seen = statements.take()
            assert seen and not any(autocommit for _, autocommit in seen), seen
    assert await _counts(own_engine) == (3, 4, 3)


async def test_the_tests_shared_connection_keeps_its_transaction(
    client: httpx.AsyncClient, session: Any
) -> None:
    """Through the `client` fixture (sessions joined to the test's transaction) a single-write
    booking still runs in that transaction, which the test rolls back."""
    async with session.begin_nested():
        clinic = await make_clinic(session)
        _, headers = await make_user(session, role="navigator")
        patient = await make_patient(session)
    start = london_datetime(next_weekday(1, weeks=2), clock(9))
    engine = session.bind.engine
    statements = _Statements(engine)
    response = await client.post(
        "/api/v1/appointments",
        headers=headers,
        json={
            "service_id": clinic.service.id,
            "clinician_id": clinic.clinician.id,
            "start": start.isoformat(),
            "mode": "video_home",
            "patient": patient.id,
        },
    )
    event.remove(engine.sync_engine, "before_cursor_execute", statements._record)
    assert response.status_code == 201, response.text
    assert statements.seen and not any(autocommit for _, autocommit in statements.seen)


@pytest.mark.parametrize(
    ("body", "single"),
    [
        ({"patient": 5, "mode": "video_home"}, True),
        ({"patient": 5, "mode": "in_person", "site_id": 2}, True),
        ({"patient": 5, "mode": "video_site", "site_id": 2}, False),
        ({"patient": {"given_name": "A"}, "mode": "video_home"}, False),
        ({"patient": "5", "mode": "video_home"}, False),
        ({"patient": True, "mode": "video_home"}, False),
        ({"patient": 5, "mode": " video_site"}, False),
        ({"patient": 5}, False),
        ([{"patient": 5, "mode": "video_home"}], False),
        (None, False),
    ],
)
def test_only_a_patient_by_id_in_a_mode_without_a_room_is_one_write(
    body: object, single: bool
) -> None:
    assert _books_with_one_write(body) is single
