"""The analysts' travel-avoided report page, and its CSV downloads for a signed-in browser.

The page shows exactly what `GET /api/v1/reports/travel` returns (the same `travel_report`),
so the page, the JSON and the CSV agree. The JSON and CSV keep the exact values; the page
rounds them as people read them (`shown`: whole miles and km, kg and hours to one decimal,
pounds to the penny). Tables sort on the server (`sort_<table>`: a column name, `-` first for
descending), so sorting needs no script.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduling.slots import to_london
from telehealth.kernel import audit
from telehealth.kernel.api import parse_input
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import InvalidInput
from telehealth.kernel.transactions import run_in_transaction, transactional
from telehealth.kernel.web.staff import page_context, roles_for, signed_in
from telehealth.kernel.web.templating import templates
from telehealth.travel.charts import bar_chart, column_chart, number
from telehealth.travel.endpoints import CsvParams, ReportParams
from telehealth.travel.map_data import map_context
from telehealth.travel.reports import BASES, MEASURES, csv_text, filter_choices
from telehealth.travel.reports import travel_report as build_report

TABLES = {
    "mode": "Mode",
    "month": "Month",
    "icc": "Place of appointment (ICC)",
    "home_icc": "Patient's home community (ICC)",
}
# The page shows hours, not the minutes they come from.
COLUMNS = ("key", *(m for m in MEASURES if m != "avoided_minutes"))
# How a person reads each figure: whole miles and km, kg and hours to one decimal, pounds to
# the penny. The page only: the JSON and CSV keep the exact values.
ROUNDED = {
    "appointments": Decimal(1),
    "avoided_km": Decimal(1),
    "avoided_miles": Decimal(1),
    "avoided_minutes": Decimal(1),
    "avoided_hours": Decimal("0.1"),
    "avoided_co2e_kg": Decimal("0.1"),
    "avoided_cost_gbp": Decimal("0.01"),
}
FORECAST = "forecast_"  # the forecast's tables: their names, and their sort parameters
MODES = {
    "video_home": "Video from home",
    "video_site": "Video at a community hub",
    "in_person": "In person",
}
ROLES = roles_for("/staff/reports/travel")
FILTERS = ("organisation_id", "icc", "site_id", "service_id", "clinician_id", "mode")


def last_full_months(today: date, months: int = 12) -> tuple[date, date]:
    """The default range: the last `months` whole calendar months before `today`'s month."""
    first_this_month = today.replace(day=1)
    start_month = first_this_month.month - months
    year = first_this_month.year + (start_month - 1) // 12
    start = date(year, (start_month - 1) % 12 + 1, 1)
    return start, first_this_month - timedelta(days=1)


def rounded(measure: str, value: Any) -> Decimal:
    """`value` of `measure` as a person reads it (half up, as people round; never "-0")."""
    found = Decimal(value).quantize(ROUNDED[measure], rounding=ROUND_HALF_UP)
    return found if found else abs(found)


def shown(measure: str, value: Any) -> str:
    """A figure as the page shows it: rounded, thousands separated."""
    return number(rounded(measure, value))


def _raw(request: Request) -> dict[str, str]:
    """The query string as the API would parse it: blanks (empty selects) left out, and the
    page's own parameters (sorting) set aside; with no dates at all, the default range."""
    raw = {k: v for k, v in request.query_params.items() if v.strip() and not k.startswith("sort_")}
    if "start" not in raw and "end" not in raw:
        start, end = last_full_months(to_london(utcnow()).date())
        raw |= {"start": start.isoformat(), "end": end.isoformat()}
    return raw


def _sort_of(request: Request, table: str) -> tuple[str, bool]:
    """(column, descending) for a table; anything unrecognised sorts by the key."""
    raw = request.query_params.get(f"sort_{table}", "")
    column = raw.removeprefix("-")
    return (column, raw.startswith("-")) if column in COLUMNS else ("key", False)


def _sorted(rows: list[dict[str, Any]], column: str, descending: bool) -> list[dict[str, Any]]:
    def by(row: dict[str, Any]) -> tuple[Any, str]:
        value = row[column]
        return (str(value) if column == "key" else Decimal(value)), str(row["key"])

    return sorted(rows, key=by, reverse=descending)


def _table(
    request: Request, table: str, rows: list[dict[str, Any]], filters: dict[str, str]
) -> dict[str, Any]:
    column, descending = _sort_of(request, table)
    others = {k: v for k, v in request.query_params.items() if k.startswith("sort_") and v}
    headers = []
    for name in COLUMNS:
        active = name == column
        # A new column sorts names A-Z and figures largest first; the active one flips.
        descend = not descending if active else name != "key"
        query = {**filters, **others, f"sort_{table}": ("-" if descend else "") + name}
        headers.append(
            {
                "column": name,
                "href": f"?{urlencode(query)}#table-{table}",
                "aria_sort": ("descending" if descending else "ascending") if active else None,
            }
        )
    kind = table.removeprefix(FORECAST)
    labelled = [{**row, "label": _label(kind, row["key"])} for row in rows]
    return {
        "name": table,
        "kind": kind,
        "headers": headers,
        "rows": _sorted(labelled, column, descending),
    }


def _label(table: str, key: Any) -> str:
    if table == "mode":
        return MODES.get(str(key), str(key))
    if table == "month":
        try:
            return date.fromisoformat(f"{key}-01").strftime("%B %Y")
        except ValueError:
            return str(key)
    return str(key)


def _shares(report: dict[str, Any]) -> list[dict[str, str]]:
    """Each mode's share of the appointments and of the miles avoided, as percentages."""
    total = report["headline"]["appointments"]
    miles = report["headline"]["avoided_miles"]
    return [
        {
            "mode": _label("mode", row["key"]),
            "appointments": number(row["appointments"]),
            "of_appointments": f"{100 * row['appointments'] / total:.1f}%" if total else "n/a",
            "of_miles": f"{100 * row['avoided_miles'] / miles:.1f}%" if miles else "n/a",
        }
        for row in report["by_mode"]
    ]


async def _choices(session: AsyncSession) -> dict[str, list[tuple[str, str]]]:
    """What the filter selects offer: (value, label) pairs."""
    return {**await filter_choices(session), "mode": list(MODES.items())}


def _figures_context(
    request: Request, report: dict[str, Any], filters: dict[str, str]
) -> dict[str, Any]:
    def miles(rows: list[dict[str, Any]], label: str) -> list[tuple[str, Decimal]]:
        return [
            (_label(label, r["key"]), rounded("avoided_miles", r["avoided_miles"])) for r in rows
        ]

    forecast = report["forecast"]
    return {
        "report": report,
        "shares": _shares(report),
        "tables": [_table(request, t, report[f"by_{t}"], filters) for t in TABLES],
        "forecast_tables": [
            _table(request, FORECAST + t, forecast[f"by_{t}"], filters) for t in TABLES
        ],
        "trend_chart": column_chart(
            miles(report["by_month"], "month"), title="Miles avoided by month", unit="miles"
        ),
        "icc_chart": bar_chart(
            miles(report["by_home_icc"], "home_icc"),
            title="Miles avoided by patient's home community",
            unit="miles",
        ),
        "downloads": [
            (
                basis,
                by,
                f"/staff/reports/travel.csv?{urlencode({**filters, 'by': by, 'basis': basis})}",
            )
            for basis in BASES
            for by in ("headline", *TABLES)
        ],
    }


@transactional
async def report_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    # `basis` chooses a CSV's part; the page shows both parts, so an old link's is dropped.
    raw = {k: v for k, v in _raw(request).items() if k != "basis"}
    context: dict[str, Any] = {"form": raw, "choices": await _choices(session)}
    try:
        params = parse_input(ReportParams, raw)
    except InvalidInput as exc:
        context["errors"] = exc.fields
        return _render(request, user, context, status_code=422)
    report = await build_report(session, params.query())
    filters = {k: v for k, v in raw.items() if k in ("start", "end", *FILTERS)}
    context |= _figures_context(request, report, filters)
    context |= await map_context(session, params.query())
    await audit.record(
        session,
        actor_user_id=user.id,
        action="report.travel.view",
        entity_type="report",
        entity_id=None,
        detail=report["query"],
    )
    return _render(request, user, context)


def _render(
    request: Request, user: StaffUser, context: dict[str, Any], status_code: int = 200
) -> Response:
    return templates.TemplateResponse(
        request,
        "staff/travel_report.html",
        page_context(
            request,
            user,
            title="Error: Travel avoided" if context.get("errors") else "Travel avoided",
            tables_named=TABLES,
            modes=MODES,
            number=number,
            shown=shown,
            **context,
        ),
        status_code=status_code,
    )


async def report_csv(request: Request) -> Response:
    """The CSV the API gives, for a browser signed in to the staff pages."""

    async def read(session: AsyncSession) -> tuple[CsvParams, dict[str, Any]]:
        user = await signed_in(request, session, ROLES)
        params = parse_input(CsvParams, _raw(request))
        report = await build_report(session, params.query())
        await audit.record(
            session,
            actor_user_id=user.id,
            action="report.travel.download",
            entity_type="report",
            entity_id=None,
            detail={**report["query"], "by": params.by, "basis": params.basis},
        )
        return params, report

    params, report = await run_in_transaction(request, read)
    return Response(
        csv_text(report, params.by, params.basis),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{params.filename()}"'},
    )


def routes() -> list[Route]:
    return [
        Route("/staff/reports/travel", report_page, methods=["GET"]),
        Route("/staff/reports/travel.csv", report_csv, methods=["GET"]),
    ]
