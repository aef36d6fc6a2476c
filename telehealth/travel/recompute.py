"""`telehealth travel recompute`: every travel record again, a batch at a time, saying what moved.

For each batch of appointments (in id order): one read of their facts (record_facts.py, a
few statements, no lock held), the estimates with no transaction open (the chain the worker
uses, a routing engine first when one is configured, asked once per journey in the whole
run), then one short write transaction. It reads the batch's facts again holding their
appointment and patient rows FOR SHARE, writes the records whose inputs did not change
meanwhile (one upsert for the changed ones, one UPDATE of `computed_at` for the rest) and
estimates the others again; an appointment that keeps changing is left to the worker, which
its change has queued.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import cast

from sqlalchemy import Executable, Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduling.models import Appointment
from telehealth.kernel.db import utcnow
from telehealth.travel import record_facts
from telehealth.travel.estimators import Estimator, Journey
from telehealth.travel.maths import Leg, TravelRecord
from telehealth.travel.models import AppointmentTravel
from telehealth.travel.record_facts import Facts, record_values
from telehealth.travel.records import estimate_record

BATCH = 1000
BIGGEST = 5  # changes listed by name in the summary
_REREADS = 3  # as the worker: a record whose inputs keep changing is left to it
_TABLE = cast(Table, AppointmentTravel.__table__)
NO_RECORD = "no record"


@dataclass(frozen=True, slots=True)
class Change:
    """One record's change in km avoided."""

    appointment_id: int
    before_km: Decimal
    after_km: Decimal
    before_method: str
    after_method: str


@dataclass
class Recomputed:
    """What a recompute did: counts, and what moved."""

    total: int = 0
    changed: int = 0
    new: int = 0
    left: int = 0  # kept changing while estimated: left queued for the worker
    seconds: float = 0.0
    methods_before: Counter[str] = field(default_factory=Counter)
    methods_after: Counter[str] = field(default_factory=Counter)
    moves: Counter[tuple[str, str]] = field(default_factory=Counter)  # method, old -> new
    by_version: dict[tuple[str, str], int] = field(default_factory=dict)
    km_before: Decimal = Decimal(0)
    km_after: Decimal = Decimal(0)
    # The largest changes as a min-heap of (size, -id, change): of equal sizes, the first
    # appointments are kept and listed first.
    biggest: list[tuple[Decimal, int, Change]] = field(default_factory=list)

    def tally(self, before: dict[str, object] | None, after: dict[str, object]) -> None:
        old_method = str(before["method"]) if before else NO_RECORD
        old_version = str(before["factor_version"]) if before else "none"
        old_km = Decimal(str(before["avoided_km"])) if before else Decimal(0)
        new_km, new_method = Decimal(str(after["avoided_km"])), str(after["method"])
        self.total += 1
        self.methods_before[old_method] += 1
        self.methods_after[new_method] += 1
        if old_method != new_method:
            self.moves[(old_method, new_method)] += 1
        if old_version != after["factor_version"]:
            key = (old_version, str(after["factor_version"]))
            self.by_version[key] = self.by_version.get(key, 0) + 1
        self.km_before += old_km
        self.km_after += new_km
        if new_km != old_km:
            change = Change(_id(after), old_km, new_km, old_method, new_method)
            entry = (abs(new_km - old_km), -change.appointment_id, change)
            if len(self.biggest) < BIGGEST:
                heapq.heappush(self.biggest, entry)
            else:
                heapq.heappushpop(self.biggest, entry)

    def describe(self) -> str:
        rate = f", {self.total / self.seconds:,.0f} a second" if self.seconds else ""
        lines = [
            f"recomputed {self.total:,} travel records in {self.seconds:.1f} s{rate}: "
            f"{self.changed:,} changed ({self.new:,} new), {self.left:,} left to the worker "
            "(changed while recomputed)"
        ]
        if not self.total:
            return lines[0]
        lines.append("records by method, before -> after:")
        methods = sorted(set(self.methods_before) | set(self.methods_after))
        for method in methods:
            before, after = self.methods_before[method], self.methods_after[method]
            lines.append(f"  {method}: {before:,} -> {after:,}")
        for (old, new), count in self.moves.most_common():
            lines.append(f"  {count:,} moved from {old} to {new}")
        for (old, new), count in sorted(self.by_version.items()):
            lines.append(f"  {count:,} moved from factor set {old} to {new}")
        difference = self.km_after - self.km_before
        lines.append(
            f"km avoided, all records: {self.km_before:,.2f} -> {self.km_after:,.2f} "
            f"({difference:+,.2f})"
        )
        if self.biggest:
            lines.append("biggest changes in km avoided (round trip):")
        for *_, c in sorted(self.biggest, key=lambda entry: entry[:2], reverse=True):
            lines.append(
                f"  appointment {c.appointment_id}: {c.before_km:,.2f} -> {c.after_km:,.2f} km "
                f"({c.after_km - c.before_km:+,.2f}), {c.before_method} -> {c.after_method}"
            )
        return "\n".join(lines)


def _id(values: dict[str, object]) -> int:
    found = values["appointment_id"]
    assert isinstance(found, int)
    return found


class RememberedLegs:
    """A routing engine asked once per journey in a run: a year's records repeat the same
    home-to-site journeys (a patient's appointments, their neighbours' at the same postcode),
    and each answer is a network round trip. An error is not remembered: the next
    appointment on that journey asks again."""

    def __init__(self, estimator: Estimator) -> None:
        self.estimator = estimator
        self.legs: dict[Journey, Leg | None] = {}

    async def leg(self, journey: Journey) -> Leg | None:
        if journey not in self.legs:
            self.legs[journey] = await self.estimator.leg(journey)
        return self.legs[journey]


async def recompute_all(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    extra: Sequence[Estimator] = (),
    batch: int = BATCH,
    on_batch: Callable[[Recomputed], None] | None = None,
) -> Recomputed:
    """Every record again, with the factors in force for its date, today's matrix and the
    `extra` estimators (a routing engine) before the offline chain."""
    started = time.perf_counter()
    summary = Recomputed()
    remembered = [RememberedLegs(e) for e in extra]
    after = 0
    while True:
        async with sessionmaker() as session, session.begin():
            facts = await record_facts.read(session, Appointment.id > after, limit=batch)
        if not facts:
            break
        after = max(facts)
        await _recompute_batch(sessionmaker, facts, remembered, summary)
        summary.seconds = time.perf_counter() - started
        if on_batch is not None:
            on_batch(summary)
    summary.seconds = time.perf_counter() - started
    return summary


Estimate = tuple[TravelRecord, str | None]


async def _recompute_batch(
    sessionmaker: async_sessionmaker[AsyncSession],
    facts: dict[int, Facts],
    extra: Sequence[Estimator],
    summary: Recomputed,
) -> None:
    pending = facts
    for _ in range(_REREADS):
        estimates = {i: await estimate_record(f.inputs, extra=extra) for i, f in pending.items()}
        async with sessionmaker() as session, session.begin():
            current = await record_facts.read(session, Appointment.id.in_(list(pending)), lock=True)
            # Deleted meanwhile: its record went with it. Changed meanwhile: estimate again.
            ready = {i: f for i, f in current.items() if f.inputs == pending[i].inputs}
            await _write(session, ready, estimates, summary)
        pending = {i: f for i, f in current.items() if i not in ready}
        if not pending:
            return
    summary.left += len(pending)


async def _write(
    session: AsyncSession,
    ready: dict[int, Facts],
    estimates: dict[int, Estimate],
    summary: Recomputed,
) -> None:
    if not ready:
        return
    before = await _stored(session, list(ready))
    now = utcnow()
    changed, unchanged = [], []
    for appointment_id, facts in ready.items():
        record, note = estimates[appointment_id]
        values = {"appointment_id": appointment_id, **record_values(facts, record, note)}
        old = before.get(appointment_id)
        summary.tally(old, values)
        if old is not None and all(old[k] == v for k, v in values.items()):
            unchanged.append(appointment_id)
        else:
            changed.append({**values, "computed_at": now})
            summary.new += old is None
    summary.changed += len(changed)
    if changed:
        await session.execute(_upsert(session), changed)
    if unchanged:
        await session.execute(
            update(AppointmentTravel)
            .where(AppointmentTravel.appointment_id.in_(unchanged))
            .values(computed_at=now)
        )


async def _stored(session: AsyncSession, ids: list[int]) -> dict[int, dict[str, object]]:
    rows = await session.execute(select(_TABLE).where(_TABLE.c.appointment_id.in_(ids)))
    return {row.appointment_id: dict(row._mapping) for row in rows}


def _upsert(session: AsyncSession) -> Executable:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(_TABLE)
    columns = [c.name for c in _TABLE.columns if c.name != "appointment_id"]
    return statement.on_conflict_do_update(
        index_elements=["appointment_id"], set_={c: statement.excluded[c] for c in columns}
    )
