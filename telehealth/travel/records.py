"""One travel record per appointment, computed off the booking path.

Every insert and update of an appointment queues it in `travel_queue` (a database trigger,
migration 0006, so no writer can forget); the worker (and `telehealth travel recompute`)
takes queued appointments and (re)computes their records: a move, a change of mode or a
switch to telephone is reflected within seconds, and bookings pay nothing for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduling.models import Appointment, Site
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import InvalidInput
from telehealth.travel import record_facts
from telehealth.travel.estimators import (
    Estimator,
    MatrixEstimator,
    district,
    estimate,
    offline_chain,
)
from telehealth.travel.maths import (
    NO_ESTIMATE,
    FactorSet,
    Leg,
    Point,
    TravelRecord,
    travel_record,
)
from telehealth.travel.models import (
    AppointmentTravel,
    Postcode,
    RoadMatrix,
    TravelFactors,
    TravelQueue,
)
from telehealth.travel.record_facts import Destination, Facts, Inputs, record_values

BATCH = 200


async def factors_on(session: AsyncSession, day: date) -> FactorSet:
    row = await session.scalar(
        select(TravelFactors)
        .where(TravelFactors.valid_from <= day)
        .order_by(TravelFactors.valid_from.desc())
        .limit(1)
    )
    if row is None:
        raise LookupError(f"no travel factor set is in force on {day.isoformat()}")
    return row.as_factor_set()


async def point_of(session: AsyncSession, postcode: str | None) -> Point | None:
    if not postcode:
        return None
    row = await session.get(Postcode, postcode)
    return Point(row.easting, row.northing) if row else None


async def matrix_for(session: AsyncSession, postcode: str) -> MatrixEstimator:
    rows = await session.execute(
        select(
            RoadMatrix.district, RoadMatrix.site_id, RoadMatrix.road_km, RoadMatrix.drive_minutes
        ).where(RoadMatrix.district == district(postcode))
    )
    return MatrixEstimator({(d, s): (Decimal(km), Decimal(m)) for d, s, km, m in rows})


@dataclass(frozen=True, slots=True)
class Outcome:
    record: AppointmentTravel
    changed: bool


async def facts_of(session: AsyncSession, appointment_id: int) -> Facts:
    found = await record_facts.read(session, Appointment.id == appointment_id)
    if appointment_id not in found:
        raise LookupError(f"no appointment {appointment_id}")
    return found[appointment_id]


async def inputs_of(session: AsyncSession, appointment_id: int) -> Inputs:
    return (await facts_of(session, appointment_id)).inputs


async def estimate_record(
    inputs: Inputs, *, extra: Sequence[Estimator] = ()
) -> tuple[TravelRecord, str | None]:
    """The record and its note, from `inputs` alone: no database, so `extra` estimators (a
    routing engine) may take their time. They are asked before the matrix and the line."""
    note = None
    baseline, to_hub = NO_ESTIMATE, None
    if inputs.postcode is None:
        note = "the patient has no postcode"
    elif inputs.home is None:
        note = f"postcode district {district(inputs.postcode)}: postcode not in the Code-Point data"
    else:
        chain: list[Estimator] = [
            *extra,
            *offline_chain(MatrixEstimator(inputs.matrix), inputs.factors),
        ]
        assert inputs.usual_site is not None
        baseline, note = await _leg_to(inputs.home, inputs.postcode, inputs.usual_site, chain)
        if inputs.hub is not None:
            to_hub, hub_note = await _leg_to(inputs.home, inputs.postcode, inputs.hub, chain)
            note = note or hub_note
    # Seen by telephone: nobody travelled, whatever was booked.
    mode = "video_home" if inputs.medium == "telephone" else inputs.mode
    if mode == "video_site" and to_hub is None:
        to_hub = NO_ESTIMATE
    return travel_record(mode, baseline, to_hub, inputs.factors), note


async def _leg_to(
    home: Point, postcode: str, site: Destination, chain: list[Estimator]
) -> tuple[Leg, str | None]:
    if site.point is None:
        return NO_ESTIMATE, f"site {site.site_id}: postcode not in the Code-Point data"
    return await estimate(home, postcode, site.site_id, site.point, chain=chain), None


async def compute(session: AsyncSession, appointment_id: int) -> Outcome:
    """(Re)compute one appointment's record in the caller's transaction, with the estimators
    that need no network (the analyst's matrix, the land path, then the straight line)."""
    facts = await facts_of(session, appointment_id)
    record, note = await estimate_record(facts.inputs)
    return await store(session, appointment_id, facts, record, note)


async def store(
    session: AsyncSession, appointment_id: int, facts: Facts, record: TravelRecord, note: str | None
) -> Outcome:
    values = record_values(facts, record, note)
    existing = await session.get(AppointmentTravel, appointment_id)
    if existing is None:
        row = AppointmentTravel(appointment_id=appointment_id, computed_at=utcnow(), **values)
        session.add(row)
        await session.flush()
        return Outcome(row, changed=True)
    changed = any(getattr(existing, k) != v for k, v in values.items())
    for key, value in values.items():
        setattr(existing, key, value)
    existing.computed_at = utcnow()
    await session.flush()
    return Outcome(existing, changed=changed)


async def stale(session: AsyncSession, *, limit: int = BATCH) -> list[int]:
    """Appointments whose record waits to be (re)computed, oldest first."""
    rows = await session.scalars(
        select(TravelQueue.appointment_id).order_by(TravelQueue.queued_at).limit(limit)
    )
    return list(rows)


async def refresh(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    extra: Sequence[Estimator] = (),
    limit: int = BATCH,
) -> int:
    """Bring queued records up to date; returns how many. Each is read in one short
    transaction, estimated with none open (a routing engine may be slow) and written in
    another, which locks its queue row (skipped by other workers) only while it writes."""
    async with sessionmaker() as session:
        ids = await stale(session, limit=limit)
    done = 0
    for appointment_id in ids:
        done += await _refresh_one(sessionmaker, appointment_id, extra)
    return done


# Times an appointment changed while its estimate ran is estimated again before it is left
# queued for the next pass.
_REREADS = 3


async def _refresh_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    appointment_id: int,
    extra: Sequence[Estimator],
) -> bool:
    for _ in range(_REREADS):
        async with sessionmaker() as session, session.begin():
            if await session.get(TravelQueue, appointment_id) is None:
                return False  # another worker has done it
            inputs = await inputs_of(session, appointment_id)
        record, note = await estimate_record(inputs, extra=extra)
        async with sessionmaker() as session, session.begin():
            taken = await session.scalar(
                select(TravelQueue)
                .where(TravelQueue.appointment_id == appointment_id)
                .with_for_update(skip_locked=True)
            )
            if taken is None:
                return False  # another worker has it, or has done it
            facts = await facts_of(session, appointment_id)
            if facts.inputs != inputs:
                continue  # changed while we estimated: what we have is already stale
            await store(session, appointment_id, facts, record, note)
            await session.delete(taken)
            return True
    return False


async def import_matrix(session: AsyncSession, text: str) -> int:
    try:
        matrix = MatrixEstimator.from_csv(text)
    except ValueError as exc:
        raise InvalidInput.field("file", str(exc)) from None
    wanted = {site_id for _, site_id in matrix.rows}
    known = set(await session.scalars(select(Site.id).where(Site.id.in_(wanted))))
    if wanted - known:
        missing = ", ".join(str(s) for s in sorted(wanted - known))
        raise InvalidInput.field("site_id", f"no site with id {missing}")
    for (district_code, site_id), (km, minutes) in matrix.rows.items():
        await session.merge(
            RoadMatrix(district=district_code, site_id=site_id, road_km=km, drive_minutes=minutes)
        )
    await session.flush()
    return len(matrix.rows)
