"""Two requests with one Idempotency-Key: the one that loses the race on the key's primary key
answers with the winner's stored response (told apart from other refusals by the constraint's
name, on both databases)."""

from __future__ import annotations

from datetime import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment
from scheduling.slots import london_datetime
from telehealth.kernel import idempotency
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.db import violated_constraint
from tests.builders import make_clinic, make_patient, make_user, next_weekday


async def _book(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    return await client.post("/api/v1/appointments", json=body, headers=headers)


async def test_the_loser_of_a_key_race_replays_the_winner(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    keyed = headers | {"Idempotency-Key": "race-1"}
    body = {
        "service_id": clinic.service.id,
        "clinician_id": clinic.clinician.id,
        "start": london_datetime(next_weekday(1, weeks=2), time(9)).isoformat(),
        "mode": "video_home",
        "patient": (await make_patient(session)).id,
    }
    first = await _book(client, keyed, body)
    assert first.status_code == 201
    # The second request looks the key up before the first commits, so finds nothing; its
    # claim of the key then collides with the first's row.
    real_find = idempotency.find
    looked: list[object] = []

    async def before_the_first_commits(*args: Any, **kwargs: Any) -> Any:
        looked.append(1)
        return None if len(looked) == 1 else await real_find(*args, **kwargs)

    monkeypatch.setattr(idempotency, "find", before_the_first_commits)
    second = await _book(client, keyed, body)
    assert len(looked) == 2  # it lost on the key, and looked again
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert await session.scalar(select(func.count()).select_from(Appointment)) == 1


async def test_keys_and_other_unique_columns_are_named(session: AsyncSession) -> None:
    user, _ = await make_user(session, role="navigator")

    def claim() -> None:
        idempotency.claim(session, user_id=user.id, key="k", endpoint="POST /x", fingerprint="f")

    claim()
    await session.flush()
    with pytest.raises(IntegrityError) as key_taken:
        async with session.begin_nested():
            claim()
    assert violated_constraint(key_taken.value) == "pk_idempotency_keys"
    with pytest.raises(IntegrityError) as email_taken:
        async with session.begin_nested():
            session.add(StaffUser(email=user.email, name="Twin", role="navigator"))
    assert violated_constraint(email_taken.value) == "uq_staff_users_email"
