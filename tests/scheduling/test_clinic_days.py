"""The per-process cache of clinic days that booking checks a start against: a cached day
skips the look-up (the patient taken on trust, the insert's foreign key answering for a
missing one), and on PostgreSQL a change to a clinic reaches every server process."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import booking
from scheduling.models import ClinicianSession, Leave
from scheduling.placement import ClinicDays, place
from scheduling.slots import london_datetime
from telehealth.kernel.db import create_engine, make_sessionmaker
from telehealth.kernel.errors import InvalidInput
from tests.builders import Clinic, make_clinic, make_patient, make_user, next_weekday
from tests.servers import running_servers, wait_for

MISSING = 987_654


def _live() -> ClinicDays:
    cache = ClinicDays()
    cache.live_when(lambda: True)
    return cache


async def _place(session: AsyncSession, clinic: Clinic, start: datetime, **kw: Any) -> Any:
    return await place(
        session,
        service_id=clinic.service.id,
        clinician_id=clinic.clinician.id,
        mode="video_home",
        site_id=None,
        start=start,
        **kw,
    )


async def test_a_cached_clinic_day_is_checked_without_a_look_up(session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    patient = await make_patient(session)
    day = next_weekday(1, weeks=2)
    cache = _live()
    first = await _place(session, clinic, london_datetime(day, time(9)), clinic_days=cache)
    assert first.patient_id is None and len(cache) == 1

    statements: list[str] = []
    sync_engine = session.get_bind()

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        again = await _place(
            session, clinic, london_datetime(day, time(9, 20)), clinic_days=cache,
            patient_id=patient.id,
        )  # fmt: skip
        with pytest.raises(InvalidInput) as off_grid:
            await _place(session, clinic, london_datetime(day, time(9, 5)), clinic_days=cache)
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)
    assert statements == []
    assert again.patient_id == patient.id  # taken as asked: the insert checks it
    assert off_grid.value.fields == {"start": off_grid.value.fields["start"]}


# The cache is live on PostgreSQL only (SQLite has no notifications), and SQLite's error for a
# foreign key names none.
@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
async def test_a_missing_patient_taken_on_trust_is_refused_by_the_insert(
    session: AsyncSession,
) -> None:
    clinic = await make_clinic(session)
    cache = _live()
    day = next_weekday(1, weeks=2)
    await _place(session, clinic, london_datetime(day, time(9)), clinic_days=cache)
    placement = await _place(
        session, clinic, london_datetime(day, time(9, 40)), clinic_days=cache, patient_id=MISSING
    )
    assert placement.patient_id == MISSING
    with pytest.raises(InvalidInput) as refused:
        async with session.begin_nested():
            await booking.book(session, placement=placement, patient_id=MISSING, booked_by=None)
    assert refused.value.fields == {"patient": f"no patient with id {MISSING}"}


async def test_an_invalidated_or_dead_cache_looks_up_again(session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    day = next_weekday(1, weeks=2)
    cache = _live()
    await _place(session, clinic, london_datetime(day, time(9)), clinic_days=cache)
    cache.invalidate()
    assert len(cache) == 0
    dead = ClinicDays()  # never told that invalidations arrive: keeps nothing
    await _place(session, clinic, london_datetime(day, time(9)), clinic_days=dead)
    assert len(dead) == 0


def _book(base: str, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    return httpx.post(base + "/api/v1/appointments", json=body, headers=headers, timeout=10)


@pytest.mark.parametrize("fresh_database", ["postgresql"], indirect=True)
async def test_clinic_changes_reach_every_server_process(
    fresh_database: str, project_root: Path
) -> None:
    engine = create_engine(fresh_database)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session, session.begin():
        clinic = await make_clinic(session)
        _, headers = await make_user(session, role="admin")
        patients = [(await make_patient(session)).id for _ in range(4)]
    day = next_weekday(1, weeks=2)

    def body(hour: int, minute: int, patient: int) -> dict[str, Any]:
        start = london_datetime(day, time(hour, minute))
        return {
            "service_id": clinic.service.id,
            "clinician_id": clinic.clinician.id,
            "start": start.isoformat(),
            "mode": "video_home",
            "patient": patient,
        }

    def refused_field(base: str, hour: int, minute: int) -> str:
        """Which field a booking for a patient who does not exist is refused on: `patient`
        when the start passes the clinic check, `start` when it does not."""
        answer = _book(base, headers, body(hour, minute, MISSING))
        assert answer.status_code == 422, answer.text
        return str(next(iter(answer.json()["error"]["fields"])))

    with running_servers(fresh_database, project_root) as bases:
        for i, base in enumerate(bases):  # each process now has that Tuesday's clinic
            assert _book(base, headers, body(9, 20 * i, patients[i])).status_code == 201
        # Proof that they check against their caches: with the notification switched off,
        # the session's shortening goes unseen...
        async with sessionmaker() as session, session.begin():
            await session.execute(text("ALTER TABLE clinician_sessions DISABLE TRIGGER USER"))
            await session.execute(
                update(ClinicianSession)
                .where(ClinicianSession.id == clinic.session.id)
                .values(end_time=time(10))
            )
        assert all(refused_field(base, 11, 0) == "patient" for base in bases)
        async with sessionmaker() as session, session.begin():
            await session.execute(text("ALTER TABLE clinician_sessions ENABLE TRIGGER USER"))

        # ...and with it on, as deployed, every process hears of the next change at once:
        # leave that morning, and the session's end (read afresh with it).
        async with sessionmaker() as session, session.begin():
            session.add(
                Leave(
                    clinician_id=clinic.clinician.id,
                    starts_at=london_datetime(day, time(9, 40)),
                    ends_at=london_datetime(day, time(10)),
                )
            )
        wait_for(lambda: all(refused_field(base, 9, 40) == "start" for base in bases))
        assert all(refused_field(base, 11, 0) == "start" for base in bases)
        assert _book(bases[0], headers, body(9, 0, patients[3])).status_code == 409  # taken
    await engine.dispose()
