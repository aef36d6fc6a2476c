"""Booking throughput: the real app and the bare INSERT app, each under uvicorn with two
workers, driven by a bounded number of concurrent httpx requests on loopback.

Every request books a distinct free slot of the empty weekend bench clinic for a distinct
patient, so every one should succeed with 201; anything else is counted as a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench import cpu
from bench.servers import Server, uvicorn_server
from bench.trees import CURRENT, Tree
from scheduling import slots
from scheduling.directory import require_service
from scheduling.slot_inputs import load_availability, service_rules
from telehealth.kernel.db import utcnow

CHUNK_DAYS = 60  # the slot search allows at most 62 days per query


@dataclass
class LoadResult:
    name: str
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    # wrk's p50 and p95 latency (ms) of each timed round.
    round_latencies: list[tuple[float, float]] = field(default_factory=list)
    # CPU seconds while timed: the load generator, the uvicorn workers, PostgreSQL.
    client_cpu_seconds: float = 0.0
    server_cpu_seconds: float = 0.0
    database_cpu_seconds: float = 0.0

    def cpu_ms_per_request(self) -> tuple[float, float, float]:
        """(client, server, database) CPU milliseconds per request."""
        if not self.requests:
            return (0.0, 0.0, 0.0)
        per = 1000 / self.requests
        return (
            self.client_cpu_seconds * per,
            self.server_cpu_seconds * per,
            self.database_cpu_seconds * per,
        )

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failures(self) -> int:
        return self.requests - self.statuses.get(201, 0)

    @property
    def p50(self) -> float:
        """The median of the rounds' p50 latencies, ms."""
        return statistics.median(p50 for p50, _ in self.round_latencies)

    @property
    def p95(self) -> float:
        """The median of the rounds' p95 latencies, ms."""
        return statistics.median(p95 for _, p95 in self.round_latencies)


@dataclass(frozen=True)
class BookingResult:
    apps: dict[str, LoadResult]  # by tree: "current", and "baseline" when one is measured
    bare: LoadResult
    concurrency: int
    # Each round's booking rate (201s per second) by target: the trees' names and "bare".
    round_rates: dict[str, list[float]] = field(default_factory=dict)
    imported: dict[str, dict[str, str]] = field(default_factory=dict)  # by server

    @property
    def app(self) -> LoadResult:
        return self.apps[CURRENT]

    @property
    def ratio(self) -> float:
        return self.ratio_of(CURRENT)

    def ratio_of(self, tree: str) -> float:
        """A tree's booking rate over the bare INSERT rate, over all rounds."""
        app = self.apps[tree]
        return app.rate / self.bare.rate if self.bare.rate else 0.0

    def round_ratios_of(self, tree: str) -> list[float]:
        """Each round's booking rate over the bare rate in the same round."""
        bare = self.round_rates["bare"]
        return [a / b if b else 0.0 for a, b in zip(self.round_rates[tree], bare, strict=True)]

    @property
    def round_ratios(self) -> list[float]:
        return self.round_ratios_of(CURRENT)


async def free_slots(
    sessionmaker: async_sessionmaker[AsyncSession], service_id: int, count: int
) -> list[slots.Slot]:
    """The first `count` free slots of a service from tomorrow, found the way the API does."""
    found: list[slots.Slot] = []
    start = date.today() + timedelta(days=1)
    async with sessionmaker() as session:
        service = await require_service(session, service_id)
        while len(found) < count and start < date.today() + timedelta(days=service.horizon_days):
            end = start + timedelta(days=CHUNK_DAYS - 1)
            availability = await load_availability(
                session, service_id=service_id, start_date=start, end_date=end
            )
            found += slots.expand_slots(
                availability, service_rules(service), start_date=start, end_date=end, now=utcnow()
            )
            start = end + timedelta(days=1)
    if len(found) < count:
        raise SystemExit(f"the bench clinic has {len(found)} free slots, {count} needed")
    return found[:count]


def app_body(slot: slots.Slot, service_id: int, patient_id: int) -> dict[str, Any]:
    return {
        "service_id": service_id,
        "clinician_id": slot.clinician_id,
        "start": slots.to_london(slot.start).isoformat(),
        "mode": "video_home",
        "patient": patient_id,
    }


def bare_body(slot: slots.Slot, service_id: int, patient_id: int) -> dict[str, Any]:
    minutes = int((slot.end - slot.start).total_seconds() // 60)
    return {
        "service_id": service_id,
        "clinician_id": slot.clinician_id,
        "start": slot.start.isoformat(),
        "minutes": minutes,
        "patient_id": patient_id,
    }


@dataclass(frozen=True)
class Target:
    """One server under load: where to POST, with what, and what it did."""

    result: LoadResult
    server: Server
    path: str
    bodies: list[dict[str, Any]]
    headers: dict[str, str]


def _client(target: Target, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(
        base_url=target.server.base_url,
        headers=target.headers,
        limits=limits,
        timeout=httpx.Timeout(30.0),
    )


WRK_SCRIPT = Path(__file__).with_name("wrk_post.lua")
WRK_THREADS = 2


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(
            "the booking benchmark drives the servers with wrk, a load generator in C that "
            "leaves the CPU to the servers: install it (Debian: apt-get install wrk)"
        )
    return found


def _timed(target: Target, bodies: list[dict[str, Any]], concurrency: int, seconds: float,
           work_dir: Path) -> LoadResult:  # fmt: skip
    """One timed round of `seconds` against one server, driven by wrk, added to the target's
    result; returns the round alone. Python's own HTTP clients cost a millisecond or more of
    CPU per request on the same cores, capping the bare endpoint before the server does."""
    base_url, pid = target.server.base_url, target.server.pid
    bodies_file = work_dir / f"{target.result.name}-bodies.jsonl"
    bodies_file.write_text("".join(json.dumps(b) + "\n" for b in bodies))
    env = {
        **os.environ,
        "BODIES_FILE": str(bodies_file),
        "WRK_PATH": target.path,
        "WRK_AUTH": target.headers.get("Authorization", ""),
        "WRK_THREADS": str(WRK_THREADS),
    }
    command = [require_wrk(), "-t", str(WRK_THREADS), "-c", str(concurrency)]
    command += ["-d", f"{seconds:.0f}s", "--timeout", "30s", "-s", str(WRK_SCRIPT), base_url]
    client_cpu = _children_cpu_seconds()
    server_cpu, database_cpu = cpu.tree_seconds(pid), cpu.postgres_seconds()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    part = LoadResult(target.result.name)
    part.server_cpu_seconds = cpu.tree_seconds(pid) - server_cpu
    part.database_cpu_seconds = cpu.postgres_seconds() - database_cpu
    part.client_cpu_seconds = _children_cpu_seconds() - client_cpu
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    if not summary["created"]:
        raise RuntimeError(f"{target.result.name}: no booking succeeded: {summary['first_error']}")
    if summary["exhausted"]:
        raise RuntimeError(f"{target.result.name}: wrk ran out of bodies; give it more")
    part.requests = summary["created"] + summary["other"]
    part.seconds = summary["seconds"]
    part.statuses[201] = summary["created"]
    part.statuses[0] = summary["other"] + summary["socket_errors"]
    if summary["first_error"]:
        part.errors.append(summary["first_error"])
    part.round_latencies.append((summary["p50_ms"], summary["p95_ms"]))
    whole = target.result
    whole.requests += part.requests
    whole.seconds += part.seconds
    whole.statuses.update(part.statuses)
    whole.errors += part.errors[: max(0, 5 - len(whole.errors))]
    whole.round_latencies += part.round_latencies
    whole.client_cpu_seconds += part.client_cpu_seconds
    whole.server_cpu_seconds += part.server_cpu_seconds
    whole.database_cpu_seconds += part.database_cpu_seconds
    return part


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def alternate(
    targets: list[Target],
    *,
    rounds: int,
    concurrency: int,
    warmup: int,
    round_seconds: float,
    work_dir: Path,
) -> dict[str, list[float]]:
    """Drive the servers in rounds, one after another, the order turning by one each round,
    so a change in the machine's background load during the run weighs on all alike instead
    of on whichever runs last. Each target's first `warmup` bodies go untimed. Returns each
    round's rate (201s per second) by target."""
    for target in targets:
        await _warm_up(target, target.bodies[:warmup], concurrency)
    rates: dict[str, list[float]] = {t.result.name: [] for t in targets}
    for r in range(rounds):
        turn = r % len(targets)
        for target in targets[turn:] + targets[:turn]:
            per_round = (len(target.bodies) - warmup) // rounds
            chunk = target.bodies[warmup + r * per_round : warmup + (r + 1) * per_round]
            part = await asyncio.to_thread(
                _timed, target, chunk, concurrency, round_seconds, work_dir
            )
            rates[target.result.name].append(part.statuses[201] / part.seconds)
    return rates


async def _warm_up(target: Target, bodies: list[dict[str, Any]], concurrency: int) -> None:
    """Untimed bookings through httpx: fills the servers' pools and statement caches."""
    pending = iter(bodies)
    async with _client(target, concurrency) as client:

        async def worker() -> None:
            for body in pending:
                response = await client.post(target.path, json=body)
                if response.status_code != 201:
                    raise RuntimeError(f"warm-up booking refused: {response.text[:300]}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def run(
    sessionmaker: async_sessionmaker[AsyncSession],
    database_url: str,
    trees: list[Tree],
    service_id: int,
    token: str,
    *,
    bodies_per_round: int,
    warmup: int,
    concurrency: int,
    rounds: int,
    round_seconds: float,
    log_dir: Path,
    patient_count: int,
) -> BookingResult:
    """Book through each tree's app and the bare app for `rounds` rounds of `round_seconds`,
    each with `bodies_per_round` distinct free slots on offer (more than a round can take),
    after `warmup` untimed bookings. Patients are taken in turn from 1..patient_count: one
    comes round again only thousands of slots later, never at a time they are already
    booked. The bare app is served from the current tree."""
    require_wrk()
    per_run = warmup + rounds * bodies_per_round
    names = [t.name for t in trees] + ["bare"]
    found = await free_slots(sessionmaker, service_id, len(names) * per_run)
    patients = [i % patient_count + 1 for i in range(len(found))]
    pairs = list(zip(found, patients, strict=True))
    shares = {name: pairs[i * per_run : (i + 1) * per_run] for i, name in enumerate(names)}
    auth = {"Authorization": f"Bearer {token}"}
    with contextlib.ExitStack() as stack:
        targets = []
        for tree in trees:
            log = log_dir / f"bench-app-{tree.name}.log"
            server = stack.enter_context(
                uvicorn_server(tree, "bench.tree_app:app", database_url, log)
            )
            bodies = [app_body(s, service_id, p) for s, p in shares[tree.name]]
            targets.append(
                Target(LoadResult(tree.name), server, "/api/v1/appointments", bodies, auth)
            )
        log = log_dir / "bench-bare.log"
        server = stack.enter_context(
            uvicorn_server(trees[0], "bench.bare_app:app", database_url, log)
        )
        bodies = [bare_body(s, service_id, p) for s, p in shares["bare"]]
        targets.append(Target(LoadResult("bare"), server, "/appointments", bodies, {}))
        rates = await alternate(
            targets, rounds=rounds, concurrency=concurrency, warmup=warmup,
            round_seconds=round_seconds, work_dir=log_dir,
        )  # fmt: skip
    apps = {t.result.name: t.result for t in targets[:-1]}
    imported = {t.result.name: t.server.imported for t in targets}
    return BookingResult(apps, targets[-1].result, concurrency, rates, imported)
