"""The demo's sites and services say where to go and whom to call, with numbers nobody owns."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Service, Site
from telehealth.demo import data as demo_data
from telehealth.demo import seed as demo
from telehealth.demo import sites as demo_sites

# Ofcom keeps 0113 496 0000 to 0999 for drama: no real line answers them.
DRAMA = re.compile(r"0113 496 0\d{3}")


def test_every_demo_site_and_service_has_directions_and_a_drama_number() -> None:
    sites = (*demo_sites.HOSPITALS, *demo_sites.HUBS)
    assert all(s.directions for s in sites)
    phones = [s.phone for s in sites] + [s.phone for s in demo_data.SERVICES]
    assert all(p and DRAMA.fullmatch(p) for p in phones), phones
    assert len(set(phones)) == len(phones)


async def test_seeded_sites_and_services_carry_them(session: AsyncSession) -> None:
    await demo.seed(session)
    sites = list(await session.scalars(select(Site)))
    assert sites and all(s.directions and s.phone for s in sites)
    services = list(await session.scalars(select(Service)))
    assert services and all(s.phone and DRAMA.fullmatch(s.phone) for s in services)
