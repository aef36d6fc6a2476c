"""A quick look at where time goes: SQL statements per request, and cProfile of a few slot
searches and bookings through the in-process ASGI app, summed by package."""

from __future__ import annotations

import cProfile
import pstats
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import create_app
from bench.booking import app_body, free_slots
from bench.slot_search import SearchWindow
from telehealth.kernel.config import Settings

PACKAGES = (
    "sqlalchemy", "asyncpg", "pydantic", "starlette", "httpx", "asyncio", "scheduling",
    "telehealth", "notifications", "icalendar", "jinja2", "zoneinfo", "holidays", "json",
    "uuid", "secrets",
)  # fmt: skip


@dataclass
class Profile:
    name: str
    calls: int
    wall_ms: float = 0.0  # mean per call without the profiler, one call at a time
    statements: Counter[str] = field(default_factory=Counter)
    by_package: list[tuple[str, float]] = field(default_factory=list)  # ms per call
    top: list[tuple[str, float, int]] = field(default_factory=list)  # (function, ms/call, calls)

    @property
    def statements_per_call(self) -> float:
        return sum(self.statements.values()) / self.calls if self.calls else 0.0


def _package(filename: str) -> str:
    for package in PACKAGES:
        if f"/{package}/" in filename or filename.endswith(f"/{package}.py"):
            return package
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    return "other"


def _summarise(profile: cProfile.Profile, result: Profile) -> None:
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    packages: Counter[str] = Counter()
    rows = []
    for (filename, line, function), (_cc, calls, tottime, _ct, _callers) in stats.items():
        packages[_package(filename)] += tottime
        where = filename.rsplit("/", 2)[-2:] if "/" in filename else [filename]
        rows.append((f"{'/'.join(where)}:{line} {function}", tottime, calls))
    per = 1000 / result.calls
    result.by_package = [(name, seconds * per) for name, seconds in packages.most_common()]
    rows.sort(key=lambda r: r[1], reverse=True)
    result.top = [
        (name, seconds * per, calls // result.calls) for name, seconds, calls in rows[:12]
    ]


async def _profiled(
    engine: AsyncEngine, name: str, calls: int, operation: Callable[[int], Awaitable[None]]
) -> Profile:
    result = Profile(name, calls)

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        result.statements[statement.split(None, 1)[0].upper()] += 1

    await operation(-1)  # one untimed call: caches and connections warm
    started = time.perf_counter()
    for i in range(calls):
        await operation(calls + i)
    result.wall_ms = (time.perf_counter() - started) * 1000 / calls
    event.listen(engine.sync_engine, "before_cursor_execute", count)
    profile = cProfile.Profile()
    try:
        profile.enable()
        for i in range(calls):
            await operation(i)
        profile.disable()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    _summarise(profile, result)
    return result


async def run(
    engine: AsyncEngine,
    sessionmaker: async_sessionmaker[AsyncSession],
    window: SearchWindow,
    bench_service_id: int,
    token: str,
    *,
    calls: int,
    first_patient: int,
) -> list[Profile]:
    """Profiles of `calls` slot searches and bookings; bookings use patients from
    `first_patient` on (2 * calls + 1 of them)."""
    settings = Settings(database_url=str(engine.url), secret_key="bench-only-not-a-secret")
    app = create_app(settings, sessionmaker=sessionmaker)
    headers = {"Authorization": f"Bearer {token}"}
    params = window.query()
    found = await free_slots(sessionmaker, bench_service_id, 2 * calls + 1)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench.test", headers=headers
    ) as client:

        async def search(_: int) -> None:
            response = await client.get("/api/v1/slots", params=params)
            assert response.status_code == 200, response.text

        async def book(i: int) -> None:
            body = app_body(found[i + 1], bench_service_id, first_patient + i + 1)
            response = await client.post("/api/v1/appointments", json=body)
            assert response.status_code == 201, response.text

        return [
            await _profiled(engine, "GET /api/v1/slots", calls, search),
            await _profiled(engine, "POST /api/v1/appointments", calls, book),
        ]
