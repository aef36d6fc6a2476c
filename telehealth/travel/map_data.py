"""Miles avoided by the patient's home postcode district, for the report's map and its table.

The rows count exactly the report's attended appointments (the report's own filter on
`appointment_travel`, `reports.in_part`), grouped by the outward code of the patient's
postcode, so the districts' miles add up to the headline's. A district is placed at the mean
of *all* its postcodes in the `postcodes` table (Code-Point Open), not of the patients' own,
so the map says nothing about where any patient lives beyond the district.

Only sums per district leave this module, as the ICC breakdown does: no patient is read as a
record, so it does not go through `scheduling/access.py`; the page that shows them is audited
as a view of the report (`report.travel.view`). And no small number leaves it: a district with
fewer than `SMALLEST_SHOWN` appointments is neither a point on the map nor a row of its own
(`fold_small`), its figures are added into one "other districts" row, so the table still
adds up to the report's total.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, Patient, Site, SiteKind
from telehealth.kernel.db import utcnow
from telehealth.travel.land import bay_grid
from telehealth.travel.map import HOSPITAL, HUB, District, Landmark, site_keys, travel_map
from telehealth.travel.maths import Point
from telehealth.travel.models import AppointmentTravel, Postcode
from telehealth.travel.reports import ReportQuery, in_part

NO_POSTCODE = "No postcode"
# NHS practice on small numbers: fewer than 5 appointments from one district could point at
# the few people behind them, so such a district is not shown on its own, nor drawn.
SMALLEST_SHOWN = 5
OTHER_DISTRICTS = f"Other districts (fewer than {SMALLEST_SHOWN} appointments each)"
KINDS = {SiteKind.HOSPITAL: HOSPITAL, SiteKind.COMMUNITY_HUB: HUB}
_PENNY = Decimal("0.01")
T = AppointmentTravel


@dataclass(frozen=True, slots=True)
class DistrictRow:
    """One row of the table beside the map; `point` None: not on the map (no position, or
    the row of small districts folded together)."""

    district: str | None  # None: the patient has no postcode (or `folded`)
    appointments: int
    avoided_miles: Decimal
    point: Point | None
    folded: bool = False  # the districts with fewer than SMALLEST_SHOWN, added together

    @property
    def label(self) -> str:
        return OTHER_DISTRICTS if self.folded else self.district or NO_POSTCODE


def fold_small(rows: Sequence[DistrictRow], smallest: int = SMALLEST_SHOWN) -> list[DistrictRow]:
    """The rows with at least `smallest` appointments, in order, then one row adding up all
    the others (no postcode too, when it is as few), so the rows' sums are unchanged."""
    shown = [r for r in rows if r.appointments >= smallest]
    small = [r for r in rows if r.appointments < smallest]
    if not small:
        return shown
    other = DistrictRow(
        district=None,
        appointments=sum(r.appointments for r in small),
        avoided_miles=sum((r.avoided_miles for r in small), Decimal(0)),
        point=None,
        folded=True,
    )
    return [*shown, other]


def district_of(postcode: Any, dialect: str) -> ColumnElement[str]:
    """The outward code of a stored postcode ("LA14 1HA" -> "LA14") as SQL: everything before
    its one space (postcodes are stored as `parse_postcode` writes them)."""
    if dialect == "postgresql":
        return func.split_part(postcode, " ", 1)
    return func.substr(postcode, 1, func.instr(postcode + " ", " ") - 1)


def _order(row: DistrictRow) -> tuple[int, str, int, str]:
    """LA1, LA2, ..., LA10 (not LA1, LA10, LA2), and no postcode last."""
    found = re.match(r"([A-Z]+)(\d+)(.*)", row.district or "")
    if found is None:
        return (1, row.district or "", 0, "") if row.district else (2, "", 0, "")
    return 0, found[1], int(found[2]), found[3]


async def district_rows(
    session: AsyncSession, q: ReportQuery, now: datetime | None = None
) -> list[DistrictRow]:
    """Attended appointments and the miles they avoided per home postcode district, for the
    report's query (the travel avoided: a forecast is not drawn), every district exact: the
    page shows them through `fold_small`."""
    dialect = session.get_bind().dialect.name
    district = district_of(Patient.postcode, dialect)
    columns: list[Any] = [
        district.label("district"),
        func.count().label("appointments"),
        func.coalesce(func.sum(T.avoided_miles), 0).label("avoided_miles"),
    ]
    joined = (
        select(*columns)
        .select_from(T)
        .join(Appointment, Appointment.id == T.appointment_id)
        .join(Patient, Patient.id == Appointment.patient_id)
    )
    statement = in_part(joined, q, "attended", now or utcnow()).group_by(district)
    found = list(await session.execute(statement))
    centres = await district_centres(
        session, sorted({r.district for r in found if r.district is not None})
    )
    rows = [
        DistrictRow(
            district=r.district,
            appointments=int(r.appointments),
            avoided_miles=Decimal(r.avoided_miles or 0).quantize(_PENNY),
            point=centres.get(r.district),
        )
        for r in found
    ]
    return sorted(rows, key=_order)


async def district_centres(session: AsyncSession, districts: list[str]) -> dict[str, Point]:
    """Each district's mean position over all its postcodes (those the table holds)."""
    if not districts:
        return {}
    district = district_of(Postcode.postcode, session.get_bind().dialect.name)
    found = await session.execute(
        select(district, func.avg(Postcode.easting), func.avg(Postcode.northing))
        .where(district.in_(districts))
        .group_by(district)
    )
    return {name: Point(round(float(e)), round(float(n))) for name, e, n in found}


async def landmarks(session: AsyncSession) -> list[Landmark]:
    """The active hospitals and community hubs whose postcode has a position."""
    found = await session.execute(
        select(Site.name, Site.kind, Postcode.easting, Postcode.northing)
        .join(Postcode, Postcode.postcode == Site.postcode)
        .where(Site.active, Site.kind.in_(list(KINDS)))
        .order_by(Site.name)
    )
    return [Landmark(name, KINDS[SiteKind(kind)], Point(e, n)) for name, kind, e, n in found]


async def map_context(session: AsyncSession, q: ReportQuery) -> dict[str, Any]:
    """What the report page's map partial (`staff/_travel_map.html`) draws: the map and its
    table's rows, from the same rows (small districts folded), so the two cannot disagree."""
    rows = fold_small(await district_rows(session, q))
    placed = [District(r.label, r.point, r.avoided_miles) for r in rows if r.point is not None]
    folded = any(r.folded for r in rows)
    sites = await landmarks(session)
    drawn = travel_map(
        placed,
        sites,
        grid=bay_grid(),
        # Drawn at the width it is shown (half the page's column), so its text is not shrunk.
        width=460,
        note=f"Districts with fewer than {SMALLEST_SHOWN} appointments are not drawn."
        if folded
        else "",
    )
    return {
        "travel_map": drawn,
        "map_rows": rows,
        "map_unplaced": [r.label for r in rows if r.point is None and not r.folded],
        "map_smallest": SMALLEST_SHOWN,
        # The key to the sites' numbers on the map, numbered by the map's own function.
        "map_sites": [(n, m.name, m.kind) for n, m in site_keys(sites)]
        if any(d.miles for d in placed)
        else [],
    }
