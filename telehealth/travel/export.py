"""Travel records one row per appointment, as CSV for analysts:

    GET /api/v1/travel/records.csv?start=&end=[&basis=attended|forecast&...the report's filters]
    (`record_endpoints`)

Each row says its `basis`; a forecast's figures are headed `forecast_*` (as the report's CSV
heads them, `reports.measure_names`), so a saved forecast is never read as travel avoided, and
a range with nothing in it is the header alone. `seen_by_telephone` is the record API's.

The rows are exactly those the report (`reports.travel_report`) sums for the same filter
(the same WHERE), so a column's total is the report's figure to the penny. Attended
appointments by default: the figures analysts quote are for journeys actually avoided.

No identities: no name, NHS number, date of birth or address; the patient's home only as
its postcode district, from the patient's postcode now (after a move of house, perhaps not
the one an older record was computed from). The appointment reference stays, so one row can be
followed to its record (`GET /api/v1/appointments/{id}/travel`). The patient's home
Integrated Care Community is not a column yet: `appointment_travel` does not record it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduling.access import Access, Viewer
from scheduling.models import Appointment, Patient, Service, Site
from telehealth.kernel.api import parse_input
from telehealth.kernel.db import utcnow
from telehealth.kernel.transactions import run_in_transaction
from telehealth.kernel.web.staff import signed_in
from telehealth.travel.endpoints import ReportParams
from telehealth.travel.estimators import district
from telehealth.travel.models import AppointmentTravel as T
from telehealth.travel.pages import ROLES as REPORT_ROLES
from telehealth.travel.reports import Basis, ReportQuery, in_part


class RecordParams(ReportParams):
    basis: Basis = "attended"


_KM, _MINUTES, _KG = Decimal("0.01"), Decimal("0.1"), Decimal("0.001")
# Column name -> (selected expression, decimal places of a figure or None for text).
COLUMNS: dict[str, tuple[Any, Decimal | None]] = {
    "reference": (Appointment.reference, None),
    "date": (T.local_date, None),
    "service": (Service.name, None),
    "mode": (T.mode, None),
    "site": (Site.name, None),
    "site_icc": (T.icc, None),
    "home_district": (Patient.postcode, None),
    "home_icc": (T.home_icc, None),
    "status": (T.status, None),
    # As the record's API says it (`seen_by_telephone`): a telephone consultation avoids the
    # whole trip whatever its booked mode.
    "seen_by_telephone": (func.coalesce(Appointment.medium == "telephone", False), None),
    "method": (T.method, None),
    "confidence": (T.confidence, None),
    "factor_version": (T.factor_version, None),
    "baseline_km": (T.baseline_km, _KM),
    "baseline_minutes": (T.baseline_minutes, _MINUTES),
    "actual_km": (T.actual_km, _KM),
    "actual_minutes": (T.actual_minutes, _MINUTES),
    "avoided_km": (T.avoided_km, _KM),
    "avoided_miles": (T.avoided_miles, _KM),
    "avoided_minutes": (T.avoided_minutes, _MINUTES),
    "avoided_co2e_kg": (T.avoided_co2e_kg, _KG),
    "avoided_cost_gbp": (T.avoided_cost_gbp, _KM),
}
# A spreadsheet takes a text cell starting with one of these for a formula.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def statement(q: ReportQuery, basis: Basis, now: datetime) -> Select[Any]:
    rows = (
        select(*(column for column, _ in COLUMNS.values()))
        .join(Appointment, Appointment.id == T.appointment_id)
        .join(Service, Service.id == T.service_id)
        .join(Patient, Patient.id == Appointment.patient_id)
        .outerjoin(Site, Site.id == T.site_id)
    )
    return in_part(rows, q, basis, now).order_by(T.local_date, Appointment.reference)


def _cell(name: str, value: Any, places: Decimal | None) -> str:
    if value is None:
        return ""
    if name == "seen_by_telephone":  # SQLite gives 0 or 1
        return "true" if value else "false"
    if places is not None:
        return str(Decimal(value).quantize(places))
    if name == "home_district":
        return _district(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _district(postcode: str) -> str:
    """Only the outward code ever leaves; a postcode stored malformed gives none at all."""
    try:
        return district(postcode)
    except ValueError:
        return ""


def headers(basis: Basis) -> list[str]:
    """The columns as the file names them: `basis` first, and a forecast's figures named
    `forecast_*`, as the report's CSV names them (`reports.measure_names`)."""
    if basis == "attended":
        return ["basis", *COLUMNS]
    return ["basis", *(c.replace("avoided_", "forecast_") for c in COLUMNS)]


def csv_of(rows: Iterable[Any], basis: Basis = "attended") -> str:
    """One line a record; none at all (a header alone) when nothing counts, as the report's
    CSV does."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers(basis))
    places = [p for _, p in COLUMNS.values()]
    for row in rows:
        cells = (_cell(n, value, p) for n, value, p in zip(COLUMNS, row, places, strict=True))
        writer.writerow([basis, *cells])
    return out.getvalue()


async def download(session: AsyncSession, viewer: Viewer, q: ReportQuery, basis: Basis) -> Response:
    """The CSV as a file to save, its export audited (with the query and the row count)."""
    rows = list(await session.execute(statement(q, basis, utcnow())))
    detail = {"start": q.start.isoformat(), "end": q.end.isoformat(), "basis": basis}
    await Access(session, viewer).audit(
        "travel.records_csv", "travel_record", None, detail | {"rows": len(rows)}
    )
    name = f"travel-records-{q.start}-{q.end}-{basis}.csv"
    return Response(
        csv_of(rows, basis),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def staff_download(request: Request) -> Response:
    """The same CSV for a browser signed in to the staff pages (the travel report links it)."""

    async def read(session: AsyncSession) -> Response:
        user = await signed_in(request, session, REPORT_ROLES)
        raw = {k: v for k, v in request.query_params.items() if v.strip()}
        params = parse_input(RecordParams, raw)
        return await download(session, user, params.query(), params.basis)

    return await run_in_transaction(request, read)


def routes() -> list[Route]:
    return [Route("/staff/reports/travel-records.csv", staff_download, methods=["GET"])]
