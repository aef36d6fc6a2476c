"""Changes to sites, clinicians and services (PATCH): each is validated as its create would be,
audited with its values before and after, and reports the bookings it leaves not fitting (a
closed site, an inactive clinician, a service made longer). Nothing is moved here: those
bookings keep their times and are listed to rebook."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import directory, rebooking
from scheduling.directory_schemas import (
    ClinicianIn,
    ClinicianOut,
    ServiceIn,
    ServiceOut,
    SiteIn,
    SiteOut,
)
from scheduling.models import Clinician, Service, Site
from scheduling.rebooking import ToRebook
from telehealth.kernel import audit
from telehealth.kernel.errors import Conflict, NotFound
from telehealth.kernel.partial import Change, apply_partial


def _current(
    row: Site | Clinician | Service, model: type[BaseModel], **known: Any
) -> dict[str, Any]:
    """The row as its create model would give it, with `active`; `known` for what is not a
    column of the same name."""
    values = {name: getattr(row, name) for name in model.model_fields if name not in known}
    return values | known | {"active": row.active}


async def _save(
    session: AsyncSession,
    row: Site | Clinician | Service,
    change: Change[Any],
    *,
    entity_type: str,
    actor_user_id: int | None,
    conflict: Callable[[], Awaitable[Conflict]],
) -> None:
    """Write the changed fields, and audit them with their values before and after (the
    directory holds no patient data)."""
    if not change.changed:
        return
    try:
        async with session.begin_nested():
            for name, (_, after) in change.changed.items():
                setattr(row, name, after)
    except IntegrityError as exc:
        raise await conflict() from exc
    await audit.record(
        session,
        actor_user_id=actor_user_id,
        action=f"{entity_type}.update",
        entity_type=entity_type,
        entity_id=row.id,
        detail={
            "changes": {
                name: {"before": before, "after": after}
                for name, (before, after) in change.changed.items()
            }
        },
    )


async def _affected(
    session: AsyncSession,
    change: Change[Any],
    fit_fields: set[str],
    save: Callable[[], Awaitable[None]],
    to_rebook: Callable[[], Awaitable[list[ToRebook]]],
) -> list[ToRebook]:
    """Save the change; if it touches what decides whether bookings fit, the bookings it
    leaves not fitting (they keep their times: nothing is moved here)."""
    if not fit_fields & change.changed.keys():
        await save()
        return []
    before = await to_rebook()
    await save()
    await session.flush()
    return rebooking.newly_affected(before, await to_rebook())


async def _duplicate(what: str) -> Conflict:
    return Conflict(f"{what} already exists", code="duplicate")


async def update_site(
    session: AsyncSession, site_id: int, changes: Mapping[str, Any], *, actor_user_id: int | None
) -> tuple[SiteOut, list[ToRebook]]:
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site with id {site_id}")
    rooms = (await directory.room_counts(session, [site_id])).get(site_id, 0)
    # The rooms it has, so a hub with rooms cannot become a hospital (as on create).
    change = apply_partial(
        SiteIn, _current(site, SiteIn, video_rooms=rooms), changes, also=("active",)
    )
    name = change.changed.get("name", (None, site.name))[1]

    async def save() -> None:
        await _save(
            session,
            site,
            change,
            entity_type="site",
            actor_user_id=actor_user_id,
            conflict=lambda: _duplicate(f"a site named {name!r}"),
        )

    affected = await _affected(
        session, change, {"active"}, save, lambda: rebooking.to_rebook(session, site_id=site_id)
    )
    return directory.site_out(site, rooms), affected


async def update_clinician(
    session: AsyncSession,
    clinician_id: int,
    changes: Mapping[str, Any],
    *,
    actor_user_id: int | None,
) -> tuple[ClinicianOut, list[ToRebook]]:
    clinician = await directory.get_clinician(session, clinician_id)
    change = apply_partial(ClinicianIn, _current(clinician, ClinicianIn), changes, also=("active",))
    if "user_id" in change.changed:
        await directory.check_login(session, change.validated.user_id)

    async def save() -> None:
        await _save(
            session,
            clinician,
            change,
            entity_type="clinician",
            actor_user_id=actor_user_id,
            conflict=lambda: directory.clinician_conflict(
                session, change.validated.email, change.validated.user_id, clinician_id
            ),
        )

    affected = await _affected(
        session,
        change,
        {"active"},
        save,
        lambda: rebooking.to_rebook(session, clinician_id=clinician_id),
    )
    return ClinicianOut.model_validate(clinician), affected


async def update_service(
    session: AsyncSession, service_id: int, changes: Mapping[str, Any], *, actor_user_id: int | None
) -> tuple[ServiceOut, list[ToRebook]]:
    service = await session.get(Service, service_id)
    if service is None:
        raise NotFound(f"no service with id {service_id}")
    change = apply_partial(ServiceIn, _current(service, ServiceIn), changes, also=("active",))
    if "usual_site_id" in change.changed:
        await directory.require_site(session, change.validated.usual_site_id, field="usual_site_id")

    async def save() -> None:
        await _save(
            session,
            service,
            change,
            entity_type="service",
            actor_user_id=actor_user_id,
            conflict=lambda: _duplicate(f"a service named {change.validated.name!r}"),
        )

    fit_fields = {"length_minutes", "buffer_minutes", "modes", "active"}
    affected = await _affected(
        session,
        change,
        fit_fields,
        save,
        lambda: rebooking.to_rebook(session, service_id=service_id),
    )
    return ServiceOut.model_validate(service), affected
