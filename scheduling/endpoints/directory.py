from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from scheduling import directory, directory_changes
from scheduling.directory_schemas import (
    AppointmentToRebook,
    ClashOut,
    ClinicianChangeOut,
    ClinicianIn,
    ClinicianOut,
    ClinicianPatch,
    OrganisationIn,
    OrganisationOut,
    ServiceChangeOut,
    ServiceIn,
    ServiceOut,
    ServicePatch,
    SiteChangeOut,
    SiteIn,
    SiteOut,
    SitePatch,
)
from scheduling.endpoints import router
from scheduling.models import SiteKind
from scheduling.rebooking import ToRebook
from scheduling.schemas import AppointmentOut, Strict
from telehealth.kernel.api import ADMIN_ONLY, ALL_STAFF, Context
from telehealth.kernel.partial import sent


def to_rebook_out(items: Sequence[ToRebook]) -> list[AppointmentToRebook]:
    return [
        AppointmentToRebook(
            appointment=AppointmentOut.model_validate(item.appointment),
            clashes=[ClashOut(reason=c.reason, message=c.message) for c in item.clashes],
        )
        for item in items
    ]


class SiteQuery(Strict):
    kind: SiteKind | None = None


@router.operation(
    "GET",
    "/organisations",
    summary="List organisations",
    roles=ALL_STAFF,
    tag="directory",
    response=list[OrganisationOut],
)
async def list_organisations(ctx: Context) -> list[OrganisationOut]:
    return await directory.list_organisations(ctx.session)


@router.operation(
    "POST",
    "/organisations",
    summary="Add an organisation",
    roles=ADMIN_ONLY,
    tag="directory",
    body=OrganisationIn,
    response=OrganisationOut,
    status=201,
    errors=(409,),
)
async def create_organisation(ctx: Context, body: OrganisationIn) -> OrganisationOut:
    return await directory.create_organisation(ctx.session, body)


@router.operation(
    "GET",
    "/sites",
    summary="List sites",
    roles=ALL_STAFF,
    tag="directory",
    query=SiteQuery,
    response=list[SiteOut],
)
async def list_sites(ctx: Context, query: SiteQuery) -> list[SiteOut]:
    return await directory.list_sites(ctx.session, kind=query.kind.value if query.kind else None)


@router.operation(
    "POST",
    "/sites",
    summary="Add a site",
    roles=ADMIN_ONLY,
    tag="directory",
    body=SiteIn,
    response=SiteOut,
    status=201,
    errors=(409,),
)
async def create_site(ctx: Context, body: SiteIn) -> SiteOut:
    return await directory.create_site(ctx.session, body)


@router.operation(
    "GET",
    "/sites/{site_id}",
    summary="Read a site",
    roles=ALL_STAFF,
    tag="directory",
    response=SiteOut,
    errors=(404,),
)
async def get_site(ctx: Context) -> SiteOut:
    return await directory.get_site(ctx.session, ctx.path_int("site_id"))


@router.operation(
    "GET",
    "/clinicians",
    summary="List clinicians",
    roles=ALL_STAFF,
    tag="directory",
    response=list[ClinicianOut],
)
async def list_clinicians(ctx: Context) -> list[ClinicianOut]:
    return await directory.list_clinicians(ctx.session)


@router.operation(
    "POST",
    "/clinicians",
    summary="Add a clinician",
    roles=ADMIN_ONLY,
    tag="directory",
    body=ClinicianIn,
    response=ClinicianOut,
    status=201,
    errors=(409,),
)
async def create_clinician(ctx: Context, body: ClinicianIn) -> ClinicianOut:
    return await directory.create_clinician(ctx.session, body)


@router.operation(
    "GET",
    "/clinicians/{clinician_id}",
    summary="Read a clinician",
    roles=ALL_STAFF,
    tag="directory",
    response=ClinicianOut,
    errors=(404,),
)
async def get_clinician(ctx: Context) -> ClinicianOut:
    return await directory.get_clinician_out(ctx.session, ctx.path_int("clinician_id"))


@router.operation(
    "GET",
    "/services",
    summary="List services",
    roles=ALL_STAFF,
    tag="directory",
    response=list[ServiceOut],
)
async def list_services(ctx: Context) -> list[ServiceOut]:
    return await directory.list_services(ctx.session)


@router.operation(
    "POST",
    "/services",
    summary="Add a service",
    roles=ADMIN_ONLY,
    tag="directory",
    body=ServiceIn,
    response=ServiceOut,
    status=201,
    errors=(409,),
)
async def create_service(ctx: Context, body: ServiceIn) -> ServiceOut:
    return await directory.create_service(ctx.session, body)


@router.operation(
    "GET",
    "/services/{service_id}",
    summary="Read a service",
    roles=ALL_STAFF,
    tag="directory",
    response=ServiceOut,
    errors=(404,),
)
async def get_service(ctx: Context) -> ServiceOut:
    return await directory.get_service_out(ctx.session, ctx.path_int("service_id"))


# --- changes: validated as on create, audited, and never moving a booking ---------------------


@router.operation(
    "PATCH",
    "/sites/{site_id}",
    summary="Change a site",
    roles=ADMIN_ONLY,
    tag="directory",
    body=SitePatch,
    response=SiteChangeOut,
    errors=(404, 409),
)
async def update_site(ctx: Context, body: BaseModel) -> SiteChangeOut:
    """Change any of a site's fields; `active: false` withdraws it. Booked appointments keep
    their times: those the change leaves not fitting are listed, for staff to rebook."""
    site, affected = await directory_changes.update_site(
        ctx.session, ctx.path_int("site_id"), sent(body), actor_user_id=ctx.user.id
    )
    return SiteChangeOut(**site.model_dump(), appointments_affected=to_rebook_out(affected))


@router.operation(
    "PATCH",
    "/clinicians/{clinician_id}",
    summary="Change a clinician",
    roles=ADMIN_ONLY,
    tag="directory",
    body=ClinicianPatch,
    response=ClinicianChangeOut,
    errors=(404, 409),
)
async def update_clinician(ctx: Context, body: BaseModel) -> ClinicianChangeOut:
    """Change any of a clinician's fields. `user_id` links their staff login (which must have
    the clinician role, and belongs to one clinician only); null unlinks it. `active: false`
    withdraws them: their booked appointments keep their times and are listed, to rebook."""
    clinician, affected = await directory_changes.update_clinician(
        ctx.session, ctx.path_int("clinician_id"), sent(body), actor_user_id=ctx.user.id
    )
    return ClinicianChangeOut(
        **clinician.model_dump(), appointments_affected=to_rebook_out(affected)
    )


@router.operation(
    "PATCH",
    "/services/{service_id}",
    summary="Change a service",
    roles=ADMIN_ONLY,
    tag="directory",
    body=ServicePatch,
    response=ServiceChangeOut,
    errors=(404, 409),
)
async def update_service(ctx: Context, body: BaseModel) -> ServiceChangeOut:
    """Change any of a service's fields. A new length or buffer applies to new bookings:
    booked appointments keep their times, and those that no longer fit (running past the
    session's end or into the next appointment) are listed, for staff to rebook."""
    service, affected = await directory_changes.update_service(
        ctx.session, ctx.path_int("service_id"), sent(body), actor_user_id=ctx.user.id
    )
    return ServiceChangeOut(**service.model_dump(), appointments_affected=to_rebook_out(affected))
