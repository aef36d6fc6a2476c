"""What each way of being seen would mean in travel for one patient: the legs from their
home to the service's hospital and to every active community hub."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Service, Site, SiteKind
from telehealth.kernel.errors import InvalidInput
from telehealth.travel import records
from telehealth.travel.estimators import estimate, offline_chain
from telehealth.travel.maths import Leg, Point
from telehealth.travel.records import point_of


async def service_for(session: AsyncSession, service_id: int) -> Service:
    service = await session.get(Service, service_id)
    if service is None:
        raise InvalidInput.field("service_id", f"no service with id {service_id}")
    return service


async def legs_to_sites(
    session: AsyncSession, home: Point, postcode: str, service: Service
) -> list[tuple[Site, Leg]]:
    """One-way legs from `home` to the service's usual site and every active hub, with the
    estimators that need no network; sites whose postcode is not known are left out."""
    factors = await records.factors_on(session, date.today())
    chain = offline_chain(await records.matrix_for(session, postcode), factors)
    sites = await session.scalars(
        select(Site).where(
            Site.active.is_(True),
            (Site.kind == SiteKind.COMMUNITY_HUB.value) | (Site.id == service.usual_site_id),
        )
    )
    legs: list[tuple[Site, Leg]] = []
    for site in sites:
        where = await point_of(session, site.postcode)
        if where is not None:
            legs.append((site, await estimate(home, postcode, site.id, where, chain=chain)))
    return legs
