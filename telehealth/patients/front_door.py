"""The root URL: the patient's front door. How to join a video appointment, manage it, find
it without the link, and whom to phone (each service's number, from the directory), with the
staff sign-in one link away."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduling.models import Service, Site, SiteKind
from telehealth.kernel.config import Settings
from telehealth.kernel.transactions import transactional
from telehealth.kernel.web.templating import templates


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    phone: str


async def contacts(session: AsyncSession) -> tuple[list[Contact], list[Contact]]:
    """Active services with the number patients call about them (their own, else their usual
    site's), and the active community hubs' desks, each by name."""
    usual = aliased(Site)
    rows = await session.execute(
        select(Service.name, Service.phone, usual.phone)
        .join(usual, usual.id == Service.usual_site_id)
        .where(Service.active)
        .order_by(Service.name)
    )
    services = [
        Contact(name, phone) for name, own, at_site in rows if (phone := own or at_site) is not None
    ]
    hubs = [
        Contact(name, phone)
        for name, phone in (
            await session.execute(
                select(Site.name, Site.phone)
                .where(
                    Site.active,
                    Site.kind == SiteKind.COMMUNITY_HUB.value,
                    Site.phone.is_not(None),
                )
                .order_by(Site.name)
            )
        )
        if phone
    ]
    return services, hubs


@transactional
async def front_door(request: Request, session: AsyncSession) -> Response:
    services, hubs = await contacts(session)
    settings: Settings = request.app.state.settings
    return templates.TemplateResponse(
        request,
        "patients/front_door.html",
        {
            "title": "Your video and hub appointments",
            "services": services,
            "hubs": hubs,
            "join_window": settings.join_window_minutes,
        },
    )


def routes() -> list[Route]:
    return [Route("/", front_door, methods=["GET"])]
