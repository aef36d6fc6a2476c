"""Travel API: the report (JSON and CSV) and each booking option's travel for a patient."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from starlette.responses import Response

from scheduling.access import Access
from scheduling.models import Service, Site, SiteKind
from telehealth.kernel.api import PATIENT_FACING, ApiRouter, Context, FieldError
from telehealth.kernel.auth.models import Role
from telehealth.kernel.errors import InvalidInput
from telehealth.kernel.inputs import Date, Id
from telehealth.travel import records
from telehealth.travel.estimators import Estimator, StraightLineEstimator, estimate
from telehealth.travel.maths import KM_PER_MILE
from telehealth.travel.records import point_of
from telehealth.travel.reports import ReportQuery, csv_text, travel_report

router = ApiRouter()
ANALYSTS = (Role.ANALYST, Role.ADMIN)
MAX_DAYS = 3 * 366


class ReportParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Date
    end: Date
    basis: Literal["booked", "attended"] = "booked"
    organisation_id: Id | None = None
    icc: Annotated[str, Field(max_length=100)] | None = None
    site_id: Id | None = None
    service_id: Id | None = None
    clinician_id: Id | None = None
    mode: Literal["video_home", "video_site", "in_person"] | None = None

    @model_validator(mode="after")
    def _range(self) -> ReportParams:
        if self.end < self.start:
            raise FieldError("end", "must not be before start")
        if (self.end - self.start).days > MAX_DAYS:
            raise FieldError("end", f"the range may cover at most {MAX_DAYS} days")
        return self

    def query(self) -> ReportQuery:
        return ReportQuery(**self.model_dump(exclude={"by"}))


class CsvParams(ReportParams):
    by: Literal["headline", "mode", "month", "icc"] = "month"


@router.operation(
    "GET",
    "/reports/travel",
    summary="Report travel avoided",
    roles=ANALYSTS,
    tag="travel",
    query=ReportParams,
)
async def report(ctx: Context, params: ReportParams) -> dict[str, Any]:
    """Headline figures, by mode, by month and by Integrated Care Community, with the
    methodology behind them. Money and distances are decimal strings, exact to the penny."""
    return await travel_report(ctx.session, params.query())


@router.operation(
    "GET",
    "/reports/travel.csv",
    summary="Download travel avoided as CSV",
    roles=ANALYSTS,
    tag="travel",
    query=CsvParams,
)
async def report_csv(ctx: Context, params: CsvParams) -> Response:
    """The same figures as the JSON report, one breakdown per file (`by`)."""
    found = await travel_report(ctx.session, params.query())
    name = f"travel-avoided-{params.start}-{params.end}-by-{params.by}.csv"
    return Response(
        csv_text(found, params.by),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class OptionParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: Id
    service_id: Id
    hubs: Annotated[int, Field(ge=1, le=10)] = 3


class TravelOption(BaseModel):
    mode: str
    site_id: int | None
    site_name: str | None
    round_trip_miles: Decimal | None
    method: str


class TravelOptions(BaseModel):
    patient_id: int
    service_id: int
    note: str | None
    options: list[TravelOption]


@router.operation(
    "GET",
    "/travel/options",
    summary="Show a patient's travel for each way of being seen",
    roles=PATIENT_FACING,
    tag="travel",
    query=OptionParams,
    response=TravelOptions,
)
async def options(ctx: Context, params: OptionParams) -> TravelOptions:
    """Video from home: no travel; the nearest community hubs; the hospital. Round trips,
    estimated from the patient's postcode, so patients and navigators can choose."""
    service = await ctx.session.get(Service, params.service_id)
    if service is None:
        raise InvalidInput.field("service_id", f"no service with id {params.service_id}")
    patient = await Access(ctx.session, ctx.user).patient(
        params.patient_id, action="patient.travel_options", field="patient_id"
    )
    home_option = TravelOption(
        mode="video_home",
        site_id=None,
        site_name=None,
        round_trip_miles=Decimal(0),
        method="none",
    )
    home = await point_of(ctx.session, patient.postcode)
    if home is None or patient.postcode is None:
        note = "no postcode on record" if patient.postcode is None else "postcode not found"
        return TravelOptions(
            patient_id=patient.id, service_id=service.id, note=note, options=[home_option]
        )
    factors = await records.factors_on(ctx.session, date.today())
    chain: list[Estimator] = [
        await records.matrix_for(ctx.session, patient.postcode),
        StraightLineEstimator(factors),
    ]
    found: list[TravelOption] = []
    sites = await ctx.session.scalars(
        select(Site).where(
            Site.active.is_(True),
            (Site.kind == SiteKind.COMMUNITY_HUB.value) | (Site.id == service.usual_site_id),
        )
    )
    for site in sites:
        where = await point_of(ctx.session, site.postcode)
        if where is None:
            continue
        leg = await estimate(home, patient.postcode, site.id, where, chain=chain)
        miles = (2 * leg.km / KM_PER_MILE).quantize(Decimal("0.1"))
        mode = "in_person" if site.id == service.usual_site_id else "video_site"
        found.append(
            TravelOption(
                mode=mode,
                site_id=site.id,
                site_name=site.name,
                round_trip_miles=miles,
                method=leg.method,
            )
        )
    hubs = sorted(
        (o for o in found if o.mode == "video_site" and "video_site" in service.modes),
        key=lambda o: o.round_trip_miles or 0,
    )[: params.hubs]
    hospital = [o for o in found if o.mode == "in_person" and "in_person" in service.modes]
    video = [home_option] if "video_home" in service.modes else []
    return TravelOptions(
        patient_id=patient.id, service_id=service.id, note=None, options=[*video, *hubs, *hospital]
    )
