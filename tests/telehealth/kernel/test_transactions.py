"""A page's transaction the database aborts (a deadlock, a serialisation failure, a connection
lost to a restart) is run again from the start, like the API's: once, with no double effect."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import create_app
from scheduling import clinic
from scheduling.models import AppointmentEvent
from telehealth.kernel.config import Settings
from telehealth.video.pages import join_path
from tests.builders import make_appointment, make_clinic
from tests.telehealth.video.test_join_pages import soon


class _Aborted(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"aborted with {sqlstate}")
        self.sqlstate = sqlstate


def _abort_after_first_apply(monkeypatch: pytest.MonkeyPatch, error: DBAPIError) -> list[int]:
    """clinic.apply does its work, then the first time the database aborts the transaction."""
    calls: list[int] = []
    real = clinic.apply

    async def apply(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        done = await real(*args, **kwargs)
        if len(calls) == 1:
            raise error
        return done

    monkeypatch.setattr(clinic, "apply", apply)
    return calls


@pytest.mark.parametrize(
    "error",
    [
        DBAPIError("UPDATE appointments ...", {}, _Aborted("40P01")),
        DBAPIError("UPDATE appointments ...", {}, _Aborted("40001")),
        DBAPIError("SELECT 1", {}, _Aborted("08006"), connection_invalidated=True),
    ],
    ids=["deadlock", "serialisation", "lost-connection"],
)
async def test_a_check_in_aborted_by_the_database_is_run_again_once(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    error: DBAPIError,
) -> None:
    a = await make_appointment(session, await make_clinic(session), start=soon())
    calls = _abort_after_first_apply(monkeypatch, error)
    path = join_path(settings, a)
    checked = await client.post(path + "/check-in")
    assert checked.status_code == 303 and checked.headers["location"] == path + "/wait"
    assert len(calls) == 2
    await session.refresh(a)
    assert a.status == "checked-in"
    # The first attempt's check-in was rolled back with it: the history has one, not two.
    actions = await session.scalars(
        select(AppointmentEvent.action).where(AppointmentEvent.appointment_id == a.id)
    )
    assert list(actions) == ["check_in"]


async def test_other_database_errors_on_a_page_are_not_retried(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = await make_appointment(session, await make_clinic(session), start=soon())
    calls = _abort_after_first_apply(
        monkeypatch, DBAPIError("SELECT * FROM nowhere", {}, _Aborted("42P01"))
    )
    app = create_app(settings, sessionmaker=sessionmaker)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.post(join_path(settings, a) + "/check-in")
    assert response.status_code == 500 and len(calls) == 1
    await session.refresh(a)
    assert a.checked_in_at is None
