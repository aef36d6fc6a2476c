"""The benchmark dataset: a year of clinics and bookings, generated as plain rows for COPY.

Pure and deterministic for a given seed: no I/O. Every appointment sits on a real grid slot
of one of its clinician's weekly sessions (not on leave, not on a bank holiday), and none
overlaps another for the same clinician (including the service buffer), patient or video room,
so the database's exclusion constraints accept the whole load.

A separate bench clinic (its own service and clinicians, sessions on Saturdays and Sundays
only) is left empty: the booking benchmark books into it, and because every other session is
on a weekday, any patient is free at any of its slots.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bench import references
from bench.columns import Row
from scheduling import slots

WEEKS = 52
HALF_DAYS = ((time(9), time(12, 30)), (time(13, 30), time(17)))
SESSIONS_PER_WEEK = 6
ALL_MODES = ["video_home", "video_site", "in_person"]
HOSPITALS = (
    ("Royal Lancaster Infirmary", "LA1 4RP"),
    ("Furness General Hospital", "LA14 4LF"),
    ("Westmorland General Hospital", "LA9 7RG"),
)
HUBS_PER_HOSPITAL = 3
ROOMS_PER_HUB = 2
HUB_TOWNS = (
    "Morecambe", "Heysham", "Carnforth", "Ulverston", "Millom", "Dalton-in-Furness",
    "Kendal", "Grange-over-Sands", "Kirkby Lonsdale",
)  # fmt: skip
SPECIALTIES = (
    "Cardiology", "Diabetes", "Respiratory", "Rheumatology", "Dermatology", "Gastroenterology",
    "Neurology", "Orthopaedics", "Paediatrics", "Urology", "Ophthalmology", "ENT",
    "Haematology", "Oncology", "Renal", "Endocrinology", "Elderly care", "Pain management",
    "Physiotherapy", "Dietetics",
)  # fmt: skip
# Per service, cycling: appointment length and buffer in minutes.
LENGTHS = (20, 30, 20, 25, 30, 20, 25, 20, 30, 20)
BUFFERS = (0, 0, 5, 0, 10, 0, 0, 10, 0, 5)
# Enough weekend slots (36 a day each) for three servers' rounds: two trees' apps and the bare one.
BENCH_CLINICIANS = 40
BENCH_HOURS = (time(8), time(20))


@dataclass(frozen=True)
class ServicePlan:
    id: int
    length: int
    buffer: int
    modes: list[str]


@dataclass(frozen=True)
class SessionPlan:
    id: int
    clinician_id: int
    service: ServicePlan
    weekday: int
    start: time
    end: time
    site_id: int
    hub_ids: tuple[int, ...]  # empty: every hub


@dataclass
class Dataset:
    first_day: date  # Monday of the current week
    last_day: date  # the last day sessions are valid
    rows: dict[str, list[Row]] = field(default_factory=dict)
    search_service_id: int = 0
    bench_service_id: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, table: str) -> int:
        return self.counts.get(table, len(self.rows.get(table, ())))

    def release(self) -> None:
        """Forget the rows once loaded, keeping their counts: millions of live tuples would
        make every full garbage collection in the measurements that follow a long pause."""
        self.counts = {table: len(rows) for table, rows in self.rows.items()}
        self.rows.clear()


def generate(
    *, clinicians: int, appointments: int, patients: int, today: date, now: datetime, seed: int = 7
) -> Dataset:
    rng = random.Random(seed)
    first_day = today - timedelta(days=today.weekday())
    data = Dataset(first_day, first_day + timedelta(weeks=WEEKS, days=-1))
    rows = data.rows
    rows["organisations"] = [
        (1, "University Hospitals of Morecambe Bay NHS Foundation Trust", "RTX", now),
        (2, "Lancashire and South Cumbria Community Services", "LSC01", now),
        (3, "Bay Health and Care Partners", "BHCP1", now),
    ]
    hub_ids = _sites(rows)
    services = _services(rows, max(2, round(clinicians / 10)))
    data.search_service_id = services[0].id
    sessions = _clinicians_and_sessions(rows, rng, clinicians, services, hub_ids, data)
    leave_days = _leave(rows, rng, clinicians, data.first_day)
    rows["patients"] = [_patient(i, now) for i in range(1, patients + 1)]
    chosen = _candidate_slots(sessions, leave_days, data.first_day, data.last_day)
    if len(chosen) < appointments:
        raise SystemExit(f"only {len(chosen)} free grid slots for {appointments} appointments")
    chosen = sorted(rng.sample(chosen, appointments), key=lambda c: (c[0], c[1].clinician_id))
    rows["appointments"] = _appointments(chosen, rng, patients, hub_ids, now)
    data.bench_service_id = _bench_clinic(rows, clinicians, len(services), data)
    return data


def _sites(rows: dict[str, list[Row]]) -> list[int]:
    rows["sites"], rows["video_rooms"] = [], []
    for i, (name, postcode) in enumerate(HOSPITALS, start=1):
        rows["sites"].append((i, 1, "hospital", name, f"{name}, Bay", postcode, "Bay", True))
    hub_ids = []
    for i, town in enumerate(HUB_TOWNS, start=len(HOSPITALS) + 1):
        organisation = 2 if i % 2 else 3
        name = f"{town} Community Hub"
        rows["sites"].append((i, organisation, "community_hub", name, town, "LA4 5RJ", "Bay", True))
        hub_ids.append(i)
        for r in range(1, ROOMS_PER_HUB + 1):
            rows["video_rooms"].append((len(rows["video_rooms"]) + 1, i, f"Video room {r}", True))
    return hub_ids


def _services(rows: dict[str, list[Row]], count: int) -> list[ServicePlan]:
    plans, rows["services"] = [], []
    for i in range(count):
        modes = ["video_home"] if i % 4 == 3 else ALL_MODES
        plan = ServicePlan(i + 1, LENGTHS[i % len(LENGTHS)], BUFFERS[i % len(BUFFERS)], modes)
        specialty = SPECIALTIES[i % len(SPECIALTIES)]
        name = f"{specialty} clinic" + (f" {i // len(SPECIALTIES) + 1}" if i >= 20 else "")
        rows["services"].append(
            (plan.id, 1, name, specialty, plan.length, json.dumps(modes), i % 3 + 1,
             60 if i % 3 == 2 else 0, 120, plan.buffer, True)
        )  # fmt: skip
        plans.append(plan)
    return plans


def _clinicians_and_sessions(
    rows: dict[str, list[Row]],
    rng: random.Random,
    count: int,
    services: list[ServicePlan],
    hub_ids: list[int],
    data: Dataset,
) -> list[SessionPlan]:
    rows["clinicians"], rows["clinician_sessions"] = [], []
    rows["session_services"], rows["session_hubs"] = [], []
    plans: list[SessionPlan] = []
    for c in range(1, count + 1):
        service = services[(c - 1) % len(services)]
        hospital = (c - 1) % len(HOSPITALS) + 1
        near = tuple(hub_ids[(hospital - 1) * HUBS_PER_HOSPITAL : hospital * HUBS_PER_HOSPITAL])
        rows["clinicians"].append(
            (c, 1, f"Dr Clinician {c}", "Consultant", f"clinician{c}@bench.nhs.uk", True)
        )
        for half_day in sorted(rng.sample(range(10), SESSIONS_PER_WEEK)):
            start, end = HALF_DAYS[half_day % 2]
            hubs = near if half_day % 3 == 0 and "video_site" in service.modes else ()
            plan = SessionPlan(
                len(plans) + 1, c, service, half_day // 2, start, end, hospital, hubs
            )
            plans.append(plan)
            _add_session(rows, plan, service.modes, data, bank_holidays=False)
    return plans


def _add_session(
    rows: dict[str, list[Row]],
    plan: SessionPlan,
    modes: list[str],
    data: Dataset,
    *,
    bank_holidays: bool,
) -> None:
    rows["clinician_sessions"].append(
        (plan.id, plan.clinician_id, plan.weekday, plan.start, plan.end, data.first_day,
         data.last_day, json.dumps(modes), plan.site_id, bank_holidays)
    )  # fmt: skip
    rows["session_services"].append((plan.id, plan.service.id))
    rows["session_hubs"].extend((plan.id, hub) for hub in plan.hub_ids)


def _leave(
    rows: dict[str, list[Row]], rng: random.Random, clinicians: int, first_day: date
) -> set[tuple[int, date]]:
    """Two weeks' leave (Monday to Friday) per clinician; returns the (clinician, day) pairs."""
    rows["clinician_leave"] = []
    days: set[tuple[int, date]] = set()
    for c in range(1, clinicians + 1):
        for week in rng.sample(range(1, WEEKS), 2):
            monday = first_day + timedelta(weeks=week)
            friday = monday + timedelta(days=4)
            bounds = slots.Interval(
                slots.local_day_bounds(monday).start, slots.local_day_bounds(friday).end
            )
            rows["clinician_leave"].append(
                (len(rows["clinician_leave"]) + 1, c, bounds.start, bounds.end, "Annual leave")
            )
            days.update((c, monday + timedelta(days=d)) for d in range(5))
    return days


def _patient(i: int, now: datetime) -> Row:
    born = date(1940, 1, 1) + timedelta(days=(i * 7919) % 27000)
    return (
        i, f"Given{i}", f"Family{i % 5000}", born, references.nhs_number(i),
        f"patient{i}@example.com", "LA4 5RJ", "email", now,
    )  # fmt: skip


Candidate = tuple[datetime, SessionPlan]


def _candidate_slots(
    sessions: list[SessionPlan], leave_days: set[tuple[int, date]], first: date, last: date
) -> list[Candidate]:
    """Every grid slot a clinician could hold back to back: with a buffer, the next slot
    starts on the first grid point after the buffer ends."""
    bank_holidays = slots.bank_holidays_between(first, last)
    found: list[Candidate] = []
    for plan in sessions:
        length = timedelta(minutes=plan.service.length)
        step = -(-(plan.service.length + plan.service.buffer) // plan.service.length) * length
        day = first + timedelta(days=plan.weekday)
        while day <= last:
            if day not in bank_holidays and (plan.clinician_id, day) not in leave_days:
                start = slots.london_datetime(day, plan.start)
                end = slots.london_datetime(day, plan.end)
                while start + length <= end:
                    found.append((start, plan))
                    start += step
            day += timedelta(weeks=1)
    return found


def _appointments(
    chosen: list[Candidate], rng: random.Random, patients: int, hub_ids: list[int], now: datetime
) -> list[Row]:
    """Rows in start order. Patients are dealt round-robin: with far more patients than
    appointments starting within any half hour, one patient's appointments never overlap.
    Rooms are taken greedily in start order, so a room is free when its last use has ended."""
    room_free_at: dict[int, datetime] = {}
    rooms_of = {
        hub: [(hub - len(HOSPITALS) - 1) * ROOMS_PER_HUB + r for r in range(1, ROOMS_PER_HUB + 1)]
        for hub in hub_ids
    }
    rows: list[Row] = []
    for i, (start, plan) in enumerate(chosen):
        length = timedelta(minutes=plan.service.length)
        end, busy_until = start + length, start + length + timedelta(minutes=plan.service.buffer)
        mode, site_id, room_id = "video_home", None, None
        draw = rng.random()
        if len(plan.service.modes) > 1 and draw >= 0.6:
            mode, site_id = "in_person", plan.site_id
            if draw < 0.8:
                for hub in plan.hub_ids or hub_ids:
                    free = [r for r in rooms_of[hub] if room_free_at.get(r, start) <= start]
                    if free:
                        mode, site_id, room_id = "video_site", hub, free[0]
                        room_free_at[free[0]] = end
                        break
        status, reason, medium, finished = _outcome(rng, start, end, mode, now)
        n = i + 1
        rows.append(
            (n, references.reference(n), f"bench-{n}@bay-telehealth.nhs.uk", plan.service.id,
             plan.clinician_id, n % patients + 1, mode, site_id, room_id, start, end,
             busy_until, status, reason, 1 if reason else 0, now, now, f"bay-bench-{n:08d}",
             medium, finished)
        )  # fmt: skip
    return rows


def _outcome(
    rng: random.Random, start: datetime, end: datetime, mode: str, now: datetime
) -> tuple[str, str | None, str | None, datetime | None]:
    draw = rng.random()
    if draw < 0.08:
        return "cancelled", "Patient asked to rebook", None, None
    if start >= now:
        return "booked", None, None, None
    if draw < 0.12:
        return "noshow", None, None, None
    return "fulfilled", None, "in_person" if mode == "in_person" else "video", end


def _bench_clinic(rows: dict[str, list[Row]], clinicians: int, services: int, data: Dataset) -> int:
    """An empty weekend clinic for the booking benchmark; returns its service id."""
    service = ServicePlan(services + 1, 20, 0, ["video_home"])
    rows["services"].append(
        (service.id, 1, "Bench booking clinic", "Bench", 20, json.dumps(service.modes), 1, 0,
         365, 0, True)
    )  # fmt: skip
    for c in range(clinicians + 1, clinicians + BENCH_CLINICIANS + 1):
        rows["clinicians"].append(
            (c, 1, f"Dr Bench {c}", "Consultant", f"bench{c}@bench.nhs.uk", True)
        )
        for weekday in (5, 6):
            plan = SessionPlan(
                len(rows["clinician_sessions"]) + 1, c, service, weekday, *BENCH_HOURS, 1, ()
            )
            _add_session(rows, plan, service.modes, data, bank_holidays=True)
    return service.id


def utc_now() -> datetime:
    return datetime.now(UTC)
