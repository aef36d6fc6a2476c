"""The slot-search worker: one process per tree measured, started by bench/in_tree.py with
that tree's app importable, driven by bench/search_rounds.py over stdin and stdout.

It prints one JSON line when ready (`slots`, `rows`: what the search finds), then answers
each command line `{"iterations": n, "warmup": w, "max_seconds": s}` with one JSON line of
sample lists in seconds: `orm`, `http`, `bare`, and `load` and `expand` (parts of `orm`).
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import date
from typing import Any

import httpx

from bench import appcode
from bench.slot_search import SearchWindow, fetch_bare, search_orm
from bench.timing import measure_together


async def main(database_url: str, token: str, service_id: str, start: str, end: str) -> None:
    from app import create_app

    db, config = appcode.kernel("db"), appcode.kernel("config")
    window = SearchWindow(int(service_id), date.fromisoformat(start), date.fromisoformat(end))
    engine = db.create_engine(database_url)
    sessionmaker = db.make_sessionmaker(engine)
    samples: dict[str, list[float]] = {"load": [], "expand": []}
    counted: list[int] = []

    async def orm() -> None:
        async with sessionmaker() as session, session.begin():
            found, loading, expanding = await search_orm(session, window, db.utcnow())
        samples["load"].append(loading)
        samples["expand"].append(expanding)
        counted.append(len(found))

    async def bare() -> None:
        async with engine.connect() as connection, connection.begin():
            counted.append(await fetch_bare(connection, window))

    settings = config.Settings(database_url=database_url, secret_key="bench-only-not-a-secret")
    app = create_app(settings, sessionmaker=sessionmaker)
    params, headers = window.query(), {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as client:

            async def http() -> None:
                response = await client.get("/api/v1/slots", params=params, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"GET /api/v1/slots: {response.status_code} {response.text}")

            first = await client.get("/api/v1/slots", params=params, headers=headers)
            http_slots = len(first.json()["slots"])
            await orm()
            if counted[-1] != http_slots:
                raise RuntimeError(f"the API found {http_slots} slots, the handler {counted[-1]}")
            await bare()
            _emit({"slots": http_slots, "rows": counted[-1]})
            operations = {"orm": orm, "http": http, "bare": bare}
            while line := await asyncio.to_thread(sys.stdin.readline):
                _emit(await _round(operations, samples, json.loads(line)))
    finally:
        await engine.dispose()


async def _round(
    operations: dict[str, Any], parts: dict[str, list[float]], command: dict[str, Any]
) -> dict[str, list[float]]:
    """One round: warm up untimed, then the three operations in turn; only timed samples."""
    for part in parts.values():
        part.clear()
    timings = await measure_together(
        operations,
        iterations=command["iterations"],
        warmup=command["warmup"],
        max_seconds=command["max_seconds"],
    )
    warmup = command["warmup"]
    result = {name: t.samples for name, t in timings.items()}
    return result | {name: samples[warmup:] for name, samples in parts.items()}


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()
