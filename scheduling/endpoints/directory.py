from __future__ import annotations

from scheduling import directory
from scheduling.directory_schemas import (
    ClinicianIn,
    ClinicianOut,
    OrganisationIn,
    OrganisationOut,
    ServiceIn,
    ServiceOut,
    SiteIn,
    SiteOut,
)
from scheduling.endpoints import router
from scheduling.models import SiteKind
from scheduling.schemas import Strict
from telehealth.api import ADMIN_ONLY, ALL_STAFF, Context


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
