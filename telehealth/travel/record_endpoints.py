"""Travel records API: one appointment's record (`record_view`), and every record in a range
as CSV for analysts (`export`)."""

from __future__ import annotations

from starlette.responses import Response

from telehealth.kernel.api import ApiRouter, Context
from telehealth.kernel.errors import NotFound
from telehealth.travel.endpoints import ANALYSTS
from telehealth.travel.export import RecordParams, download
from telehealth.travel.record_view import READERS, TravelRecordOut, reach, view_of

router = ApiRouter()


@router.operation(
    "GET",
    "/appointments/{appointment_id}/travel",
    summary="Read an appointment's travel record",
    roles=READERS,
    tag="travel",
    response=TravelRecordOut,
    errors=(404,),
)
async def travel_record(ctx: Context) -> TravelRecordOut:
    """The round trip to the service's usual hospital that the appointment replaced
    (baseline), the trip made (actual), the difference, and how they were found: the method,
    its confidence and the factor set. Distances and money are decimal strings. Analysts may
    read any appointment's record (it carries no identities); others those of the
    appointments they may see. 404 when the appointment is not one you may see, or when its
    record is not computed yet (the worker does it within seconds of any change)."""
    appointment_id = ctx.path_int("appointment_id")
    appointment = await reach(ctx.session, ctx.user, appointment_id)
    found = await view_of(ctx.session, appointment)
    if found is None:
        raise NotFound(
            f"appointment {appointment_id} has no travel record yet: it is computed "
            "within seconds of a booking or change, try again shortly",
            code="no_travel_record",
        )
    return found


@router.operation(
    "GET",
    "/travel/records.csv",
    summary="Download travel records as CSV, one row per appointment",
    roles=ANALYSTS,
    tag="travel",
    query=RecordParams,
)
async def travel_records_csv(ctx: Context, params: RecordParams) -> Response:
    """Each appointment's travel record in the range (attended ones, or with
    `basis=forecast` the booked ones still to come, as the report counts them),
    narrowed by the report's filters; no identities, the home as its postcode district only.
    Each figure's column sums to the report's total for the same query."""
    return await download(ctx.session, ctx.user, params.query(), params.basis)
