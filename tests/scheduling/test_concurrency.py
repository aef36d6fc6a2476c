"""The database, not the code, prevents double booking: 50 concurrent requests for one slot,
spread over two real server processes, give exactly one appointment."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import time as clock
from pathlib import Path

import httpx
from sqlalchemy import func, select

from scheduling.models import Appointment
from scheduling.slots import london_datetime
from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.builders import make_clinic, make_user, next_weekday
from tests.servers import running_servers

REQUESTS = 50


async def test_fifty_concurrent_bookings_give_one_appointment(
    fresh_database: str, project_root: Path
) -> None:
    engine = create_engine(fresh_database)
    async with make_sessionmaker(engine)() as session, session.begin():
        clinic = await make_clinic(session)
        _, headers = await make_user(session, role="navigator")
    start = london_datetime(next_weekday(1, weeks=2), clock(9))

    def body(n: int) -> dict[str, object]:
        return {
            "service_id": clinic.service.id,
            "clinician_id": clinic.clinician.id,
            "start": start.isoformat(),
            "mode": "video_home",
            "patient": {
                "given_name": f"Racer{n}",
                "family_name": "Concurrent",
                "date_of_birth": "1970-01-01",
                "email": f"racer{n}@example.com",
            },
        }

    with running_servers(fresh_database, project_root) as bases:
        async with httpx.AsyncClient(timeout=60) as client:
            responses = await asyncio.gather(
                *(
                    client.post(
                        f"{bases[n % 2]}/api/v1/appointments", json=body(n), headers=headers
                    )
                    for n in range(REQUESTS)
                )
            )
    outcomes = Counter(r.status_code for r in responses)
    assert outcomes == {201: 1, 409: REQUESTS - 1}, [
        r.text for r in responses if r.status_code not in (201, 409)
    ]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "slot_unavailable"
    }
    async with make_sessionmaker(engine)() as session:
        count = await session.scalar(select(func.count()).select_from(Appointment))
    await engine.dispose()
    assert count == 1
