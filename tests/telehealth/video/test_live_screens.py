"""Across processes: a patient checks in through one server, and the clinician's screen served
by another server hears about it at once (PostgreSQL LISTEN/NOTIFY; SQLite is one process)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx

from telehealth.kernel.db import create_engine, make_sessionmaker
from telehealth.video.join import make_token
from tests.builders import make_appointment, make_clinic, make_patient, make_user
from tests.servers import SECRET_KEY, running_servers
from tests.telehealth.video.test_join_pages import soon

PASSWORD = "correct horse battery"


async def _next_event(lines: object, name: str) -> dict[str, object]:
    event = None
    async for line in lines:  # type: ignore[attr-defined]
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == name:
            return json.loads(line.split(":", 1)[1])  # type: ignore[no-any-return]
    raise AssertionError(f"stream ended before a {name} event")


async def test_check_in_on_one_server_shows_on_the_clinic_screen_of_another(
    fresh_database: str, project_root: Path
) -> None:
    engine = create_engine(fresh_database)
    async with make_sessionmaker(engine)() as session, session.begin():
        user, _ = await make_user(session, role="clinician")
        c = await make_clinic(session)
        c.clinician.user_id = user.id
        a = await make_appointment(session, c, start=soon())
    await engine.dispose()
    token = make_token(SECRET_KEY, appointment_id=a.id, sequence=0)
    processes = 2 if fresh_database.startswith("postgresql") else 1
    with running_servers(fresh_database, project_root, count=processes) as bases:
        patient_side, clinic_side = bases[0], bases[-1]
        async with httpx.AsyncClient(base_url=clinic_side, timeout=10) as staff:
            login = await staff.get("/staff/login")
            csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
            done = await staff.post(
                "/staff/login", data={"csrf": csrf, "email": user.email, "password": PASSWORD}
            )
            assert done.status_code == 303
            query = f"/staff/clinic/events?clinician_id={c.clinician.id}"
            async with staff.stream("GET", query) as stream:
                assert stream.status_code == 200
                lines = stream.aiter_lines()
                await asyncio.wait_for(_next_event(lines, "ready"), timeout=10)
                async with httpx.AsyncClient(base_url=patient_side) as patient:
                    checked = await patient.post(f"/join/{token}/check-in")
                    assert checked.status_code == 303
                change = await asyncio.wait_for(_next_event(lines, "change"), timeout=10)
    assert change["appointment_id"] == a.id
    assert change["live"] == "waiting"


async def test_open_streams_end_cleanly_when_the_server_stops(
    fresh_database: str, project_root: Path
) -> None:
    engine = create_engine(fresh_database)
    async with make_sessionmaker(engine)() as session, session.begin():
        a = await make_appointment(session, await make_clinic(session), start=soon())
    await engine.dispose()
    token = make_token(SECRET_KEY, appointment_id=a.id, sequence=0)
    ended = False
    with running_servers(fresh_database, project_root, count=1) as bases:
        client = httpx.AsyncClient(base_url=bases[0], timeout=10)
        stream_cm = client.stream("GET", f"/join/{token}/events")
        stream = await stream_cm.__aenter__()
        lines = stream.aiter_lines()
        first = await asyncio.wait_for(_next_event(lines, "state"), timeout=10)
        assert first["live"] == "not_arrived"
    # Leaving the block terminated the server and waited for it (running_servers fails if
    # the process hangs on an open stream); the client sees the stream end, not hang.
    try:
        await asyncio.wait_for(_next_event(lines, "never"), timeout=10)
    except (AssertionError, httpx.HTTPError):
        ended = True
    finally:
        await stream_cm.__aexit__(None, None, None)
        await client.aclose()
    assert ended


async def test_telephone_instead_reaches_the_waiting_room_at_once(
    fresh_database: str, project_root: Path
) -> None:
    engine = create_engine(fresh_database)
    async with make_sessionmaker(engine)() as session, session.begin():
        user, _ = await make_user(session, role="clinician")
        c = await make_clinic(session)
        c.clinician.user_id = user.id
        patient = await make_patient(session)
        patient.mobile = "07700 900789"
        a = await make_appointment(session, c, start=soon(), patient=patient)
    await engine.dispose()
    token = make_token(SECRET_KEY, appointment_id=a.id, sequence=0)
    processes = 2 if fresh_database.startswith("postgresql") else 1
    with running_servers(fresh_database, project_root, count=processes) as bases:
        patient_side, clinic_side = bases[0], bases[-1]
        async with httpx.AsyncClient(base_url=patient_side, timeout=10) as browser:
            assert (await browser.post(f"/join/{token}/check-in")).status_code == 303
            waiting = await browser.get(f"/join/{token}/wait")
            # The page holds the number before anything is switched; the stream never does.
            assert "on the number ending 789" in waiting.text
            assert re.search(r'id="by-phone"\s+hidden', waiting.text)
            async with browser.stream("GET", f"/join/{token}/events") as stream:
                lines = stream.aiter_lines()
                first = await asyncio.wait_for(_next_event(lines, "state"), timeout=10)
                assert first["live"] == "waiting"
                async with httpx.AsyncClient(base_url=clinic_side, timeout=10) as staff:
                    csrf = await _signed_in(staff, user.email)
                    switched = await staff.post(
                        f"/staff/appointments/{a.id}/action",
                        data={"csrf": csrf, "action": "switch_to_phone"},
                    )
                    assert switched.status_code == 303
                status = await asyncio.wait_for(_next_event(lines, "status"), timeout=10)
            assert status["live"] == "by_phone"
            # No part of the number, wherever it might hide; an instant's digits are not one.
            without_times = re.sub(
                r"\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d)?", "", json.dumps(status)
            )
            assert "789" not in without_times
            after = await browser.get(f"/join/{token}/wait")
    assert "on the number ending 789" in after.text
    assert not re.search(r'id="by-phone"\s+hidden', after.text)
    assert "data.live === 'by_phone'" in after.text  # what the open page does with the event


async def _signed_in(staff: httpx.AsyncClient, email: str) -> str:
    login = await staff.get("/staff/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
    done = await staff.post(
        "/staff/login", data={"csrf": csrf, "email": email, "password": PASSWORD}
    )
    assert done.status_code == 303
    page = await staff.get("/staff/login")  # any form carries the session's CSRF token
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
