"""Organisations, sites with their video rooms, clinicians and services: creating, listing and
looking them up. Changing them, with what a change does to bookings, is `directory_changes`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

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
from scheduling.models import Clinician, Organisation, Service, Site, SiteKind, VideoRoom
from telehealth.kernel.auth.models import Role, StaffUser
from telehealth.kernel.errors import Conflict, InvalidInput, NotFound


async def _add_unique(session: AsyncSession, row: object, what: str) -> None:
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise Conflict(f"{what} already exists", code="duplicate") from exc


async def require_organisation(session: AsyncSession, organisation_id: int) -> Organisation:
    found = await session.get(Organisation, organisation_id)
    if found is None:
        raise InvalidInput.field("organisation_id", f"no organisation with id {organisation_id}")
    return found


async def create_organisation(session: AsyncSession, data: OrganisationIn) -> OrganisationOut:
    row = Organisation(name=data.name, ods_code=data.ods_code)
    await _add_unique(session, row, f"an organisation named {data.name!r} or with that ODS code")
    return OrganisationOut.model_validate(row)


async def list_organisations(session: AsyncSession) -> list[OrganisationOut]:
    rows = await session.scalars(select(Organisation).order_by(Organisation.name))
    return [OrganisationOut.model_validate(o) for o in rows]


async def room_counts(session: AsyncSession, site_ids: Sequence[int]) -> dict[int, int]:
    rows = await session.execute(
        select(VideoRoom.site_id, func.count())
        .where(VideoRoom.site_id.in_(site_ids), VideoRoom.active.is_(True))
        .group_by(VideoRoom.site_id)
    )
    return {site_id: count for site_id, count in rows}


def site_out(site: Site, rooms: int) -> SiteOut:
    return SiteOut(
        id=site.id,
        organisation_id=site.organisation_id,
        kind=site.kind,
        name=site.name,
        address=site.address,
        postcode=site.postcode,
        icc=site.icc,
        video_rooms=rooms,
        active=site.active,
        directions=site.directions,
        phone=site.phone,
    )


async def create_site(session: AsyncSession, data: SiteIn) -> SiteOut:
    await require_organisation(session, data.organisation_id)
    site = Site(
        organisation_id=data.organisation_id,
        kind=data.kind.value,
        name=data.name,
        address=data.address,
        postcode=data.postcode,
        icc=data.icc,
        directions=data.directions,
        phone=data.phone,
    )
    await _add_unique(session, site, f"a site named {data.name!r}")
    session.add_all(
        VideoRoom(site_id=site.id, name=f"Video room {n}") for n in range(1, data.video_rooms + 1)
    )
    await session.flush()
    return site_out(site, data.video_rooms)


async def list_sites(session: AsyncSession, *, kind: str | None = None) -> list[SiteOut]:
    statement = select(Site).order_by(Site.name)
    if kind:
        statement = statement.where(Site.kind == kind)
    sites = list(await session.scalars(statement))
    rooms = await room_counts(session, [s.id for s in sites])
    return [site_out(s, rooms.get(s.id, 0)) for s in sites]


async def get_site(session: AsyncSession, site_id: int) -> SiteOut:
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site with id {site_id}")
    rooms = await room_counts(session, [site_id])
    return site_out(site, rooms.get(site_id, 0))


async def require_site(
    session: AsyncSession, site_id: int, *, field: str = "site_id", kind: SiteKind | None = None
) -> Site:
    site = await session.get(Site, site_id)
    if site is None or not site.active:
        raise InvalidInput.field(field, f"no active site with id {site_id}")
    if kind is not None and site.kind != kind:
        raise InvalidInput.field(field, f"site {site_id} is not a {kind.value.replace('_', ' ')}")
    return site


async def linked_clinician(session: AsyncSession, user_id: int) -> int | None:
    """The clinician record a staff login is linked to, if any."""
    return await session.scalar(select(Clinician.id).where(Clinician.user_id == user_id))


async def check_login(session: AsyncSession, user_id: int | None) -> None:
    """Only a clinician's login is linked to a clinician record."""
    if user_id is None:
        return
    user = await session.get(StaffUser, user_id)
    if user is None:
        raise InvalidInput.field("user_id", f"no staff user with id {user_id}")
    if user.role != Role.CLINICIAN:
        raise InvalidInput.field(
            "user_id",
            f"user {user_id} has the {user.role} role: only a clinician's login can be linked "
            "to a clinician record",
        )


async def clinician_conflict(
    session: AsyncSession, email: str, user_id: int | None, clinician_id: int | None
) -> Conflict:
    """Which unique rule a clinician broke, asked of the data (not of the error's text)."""
    if user_id is not None:
        holder = await linked_clinician(session, user_id)
        if holder is not None and holder != clinician_id:
            return Conflict(
                f"user {user_id} is already linked to clinician {holder}: a login belongs to "
                "one clinician (unlink it there first, with user_id null)",
                code="login_linked",
            )
    return Conflict(f"a clinician with email {email} already exists", code="duplicate")


async def create_clinician(session: AsyncSession, data: ClinicianIn) -> ClinicianOut:
    await require_organisation(session, data.organisation_id)
    await check_login(session, data.user_id)
    row = Clinician(
        organisation_id=data.organisation_id,
        name=data.name,
        profession=data.profession,
        email=data.email,
        user_id=data.user_id,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError as exc:
        raise await clinician_conflict(session, data.email, data.user_id, None) from exc
    return ClinicianOut.model_validate(row)


async def list_clinicians(session: AsyncSession) -> list[ClinicianOut]:
    return [
        ClinicianOut.model_validate(c)
        for c in await session.scalars(select(Clinician).order_by(Clinician.name))
    ]


async def get_clinician(session: AsyncSession, clinician_id: int) -> Clinician:
    found = await session.get(Clinician, clinician_id)
    if found is None:
        raise NotFound(f"no clinician with id {clinician_id}")
    return found


async def get_clinician_out(session: AsyncSession, clinician_id: int) -> ClinicianOut:
    return ClinicianOut.model_validate(await get_clinician(session, clinician_id))


async def require_clinician(session: AsyncSession, clinician_id: int) -> Clinician:
    found = await session.get(Clinician, clinician_id)
    if found is None or not found.active:
        raise InvalidInput.field("clinician_id", f"no active clinician with id {clinician_id}")
    return found


async def create_service(session: AsyncSession, data: ServiceIn) -> ServiceOut:
    await require_organisation(session, data.organisation_id)
    await require_site(session, data.usual_site_id, field="usual_site_id")
    row = Service(
        organisation_id=data.organisation_id,
        name=data.name,
        specialty=data.specialty,
        length_minutes=data.length_minutes,
        modes=[m.value for m in data.modes],
        usual_site_id=data.usual_site_id,
        min_notice_minutes=data.min_notice_minutes,
        horizon_days=data.horizon_days,
        buffer_minutes=data.buffer_minutes,
        phone=data.phone,
        change_notice_minutes=data.change_notice_minutes,
    )
    await _add_unique(session, row, f"a service named {data.name!r}")
    return ServiceOut.model_validate(row)


async def list_services(session: AsyncSession) -> list[ServiceOut]:
    return [
        ServiceOut.model_validate(s)
        for s in await session.scalars(select(Service).order_by(Service.name))
    ]


async def get_service_out(session: AsyncSession, service_id: int) -> ServiceOut:
    found = await session.get(Service, service_id)
    if found is None:
        raise NotFound(f"no service with id {service_id}")
    return ServiceOut.model_validate(found)


async def require_service(session: AsyncSession, service_id: int) -> Service:
    found = await session.get(Service, service_id)
    if found is None or not found.active:
        raise InvalidInput.field("service_id", f"no active service with id {service_id}")
    return found
