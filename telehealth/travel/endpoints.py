"""Travel API: the report (JSON and CSV) and each booking option's travel for a patient."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.responses import Response

from scheduling.access import Access
from scheduling.models import Service, Site
from telehealth.kernel.api import PATIENT_FACING, ApiRouter, Context
from telehealth.kernel.auth.models import Role
from telehealth.kernel.inputs import Date, Id
from telehealth.kernel.validation import FieldError
from telehealth.travel import options as travel_options
from telehealth.travel.maths import KM_PER_MILE, Leg
from telehealth.travel.records import point_of
from telehealth.travel.reports import Basis, ReportQuery, csv_text, travel_report

router = ApiRouter()
ANALYSTS = (Role.ANALYST, Role.ADMIN)
MAX_DAYS = 3 * 366


class ReportParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Date
    end: Date
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
        return ReportQuery(**self.model_dump(exclude={"by", "basis"}))


class CsvParams(ReportParams):
    by: Literal["headline", "mode", "month", "icc", "home_icc"] = "month"
    # attended: travel avoided; forecast: booked appointments still to come.
    basis: Basis = "attended"

    def filename(self) -> str:
        part = "travel-avoided" if self.basis == "attended" else "travel-forecast"
        return f"{part}-{self.start}-{self.end}-by-{self.by}.csv"


@router.operation(
    "GET",
    "/reports/travel",
    summary="Report travel avoided",
    roles=ANALYSTS,
    tag="travel",
    query=ReportParams,
)
async def report(ctx: Context, params: ReportParams) -> dict[str, Any]:
    """Travel avoided by attended appointments (telephone included): headline figures, by
    mode, by month, by Integrated Care Community of the place of appointment (`by_icc`) and
    of the patient's home (`by_home_icc`), with the methodology behind them; `forecast` holds
    the same for booked appointments still to come, never added to the avoided figures.
    Values are exact decimal strings (each total the sum of its rows)."""
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
    """The same figures as the JSON report, one breakdown of one part (`basis`) per file."""
    found = await travel_report(ctx.session, params.query())
    return Response(
        csv_text(found, params.by, params.basis),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{params.filename()}"'},
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
    service = await travel_options.service_for(ctx.session, params.service_id)
    patient = await Access(ctx.session, ctx.user).patient(
        params.patient_id, action="patient.travel_options", field="patient_id"
    )
    home = await point_of(ctx.session, patient.postcode)
    if home is None or patient.postcode is None:
        note = "no postcode on record" if patient.postcode is None else "postcode not found"
        return TravelOptions(
            patient_id=patient.id, service_id=service.id, note=note, options=[HOME_OPTION]
        )
    legs = await travel_options.legs_to_sites(ctx.session, home, patient.postcode, service)
    found = [_option(site, leg, service) for site, leg in legs]
    return TravelOptions(
        patient_id=patient.id,
        service_id=service.id,
        note=None,
        options=_offered(found, service, hubs=params.hubs),
    )


HOME_OPTION = TravelOption(
    mode="video_home", site_id=None, site_name=None, round_trip_miles=Decimal(0), method="none"
)


def _option(site: Site, leg: Leg, service: Service) -> TravelOption:
    return TravelOption(
        mode="in_person" if site.id == service.usual_site_id else "video_site",
        site_id=site.id,
        site_name=site.name,
        round_trip_miles=(2 * leg.km / KM_PER_MILE).quantize(Decimal("0.1")),
        method=leg.method,
    )


def _offered(found: list[TravelOption], service: Service, *, hubs: int) -> list[TravelOption]:
    """What the service offers, in order: video from home, the nearest `hubs` hubs, the
    hospital."""
    nearest = sorted(
        (o for o in found if o.mode == "video_site" and "video_site" in service.modes),
        key=lambda o: o.round_trip_miles or 0,
    )[:hubs]
    hospital = [o for o in found if o.mode == "in_person" and "in_person" in service.modes]
    video = [HOME_OPTION] if "video_home" in service.modes else []
    return [*video, *nearest, *hospital]
