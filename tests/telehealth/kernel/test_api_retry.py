"""A transaction the database aborts to break a deadlock is run again, not turned into a 500."""

from __future__ import annotations

import httpx
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from telehealth.kernel.api import ALL_STAFF, ApiRouter, Context
from telehealth.kernel.config import Settings
from telehealth.kernel.http import error_handlers
from tests.builders import make_user


class _Aborted(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"aborted with {sqlstate}")
        self.sqlstate = sqlstate


def _app(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, fails: list[str]
) -> tuple[Starlette, list[int]]:
    router = ApiRouter()
    calls: list[int] = []

    @router.operation("POST", "/flaky", summary="Do a flaky thing", roles=ALL_STAFF, tag="test")
    async def flaky(ctx: Context) -> dict[str, int]:
        calls.append(1)
        if len(calls) <= len(fails):
            raise DBAPIError("INSERT ...", {}, _Aborted(fails[len(calls) - 1]))
        return {"calls": len(calls)}

    app = Starlette(routes=router.routes(), exception_handlers=error_handlers())
    app.state.sessionmaker = sessionmaker
    app.state.settings = settings
    return app, calls


async def test_deadlock_victims_are_retried(
    sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    _, headers = await make_user(session, role="navigator")
    app, calls = _app(sessionmaker, settings, ["40P01", "40001"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.post("/api/v1/flaky", headers=headers)
    assert response.status_code == 200 and response.json() == {"calls": 3}
    assert len(calls) == 3


async def test_other_database_errors_are_not_retried(
    sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    _, headers = await make_user(session, role="navigator")
    app, calls = _app(sessionmaker, settings, ["42P01"])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        response = await c.post("/api/v1/flaky", headers=headers)
    assert response.status_code == 500 and len(calls) == 1
    assert response.json()["error"]["code"] == "internal_error"


async def test_a_connection_lost_to_a_database_restart_is_retried(
    sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession, settings: Settings
) -> None:
    _, headers = await make_user(session, role="navigator")
    calls: list[int] = []
    lost = DBAPIError("SELECT 1", {}, _Aborted("08006"), connection_invalidated=True)

    async def flaky_once(ctx: Context) -> dict[str, int]:
        calls.append(1)
        if len(calls) == 1:
            raise lost
        return {"calls": len(calls)}

    router = ApiRouter()
    router.operation("POST", "/again", summary="Try again", roles=ALL_STAFF, tag="t")(flaky_once)
    app = Starlette(routes=router.routes(), exception_handlers=error_handlers())
    app.state.sessionmaker, app.state.settings = sessionmaker, settings
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.post("/api/v1/again", headers=headers)
    assert response.status_code == 200 and len(calls) == 2
