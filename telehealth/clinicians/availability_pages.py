"""The availability page: one clinician's week (sessions, leave, appointments booked), with
links to the weeks around it, the forms that change it and the calendar feed."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduling import availability, slots
from scheduling.models import Appointment, Clinician, Service, Site, is_active
from telehealth.calendars import files as calendars
from telehealth.clinicians import leave_pages, session_pages
from telehealth.clinicians.week import Booked, build_week, monday_of
from telehealth.clinicians.whose import PATH, require_change, whose
from telehealth.kernel import audit
from telehealth.kernel.config import Settings
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import InvalidInput
from telehealth.kernel.timefmt import day as nhs_day
from telehealth.kernel.transactions import transactional
from telehealth.kernel.web.staff import check_csrf, page_context, roles_for, signed_in
from telehealth.kernel.web.templating import templates

ROLES = roles_for(PATH)
NOTICES = {
    "leave": "Your leave is added.",
    "leave-removed": "The leave is removed.",
    "session": "The session is added.",
    "session-removed": "The session is removed.",
}


def _week(request: Request) -> date:
    text = request.query_params.get("week", "")
    if not text:
        return monday_of(slots.to_london(utcnow()).date())
    try:
        return monday_of(date.fromisoformat(text))
    except ValueError:
        raise InvalidInput.field("week", "must be a date written YYYY-MM-DD") from None


async def _booked(session: AsyncSession, clinician_id: int, monday: date) -> list[Booked]:
    window = slots.local_day_bounds(monday)
    end = slots.local_day_bounds(monday + timedelta(days=6)).end
    rows = await session.execute(
        select(Appointment.starts_at, Appointment.ends_at, Service.name, Appointment.status)
        .join(Service, Service.id == Appointment.service_id)
        .where(
            Appointment.clinician_id == clinician_id,
            Appointment.starts_at >= window.start,
            Appointment.starts_at < end,
            is_active(Appointment.status),
        )
    )
    return [Booked(r.starts_at, r.ends_at, r.name, r.status) for r in rows]


@transactional
async def week_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    monday = _week(request)
    who = await whose(request, session, user)
    context = page_context(
        request, user, title="Availability", who=who, monday=monday, notice=None, days=None
    )
    if who is None:
        clinicians = await session.scalars(
            select(Clinician).where(Clinician.active.is_(True)).order_by(Clinician.name)
        )
        context["clinician_items"] = [
            {"value": str(c.id), "text": f"{c.name} ({c.profession})"} for c in clinicians
        ]
        return templates.TemplateResponse(request, "clinicians/choose.html", context)
    clinician_id = who.clinician.id
    days = build_week(
        monday,
        sessions=await availability.list_sessions(session, clinician_id=clinician_id),
        leave=(await availability.list_exceptions(session, clinician_id=clinician_id)).leave,
        booked=await _booked(session, clinician_id, monday),
        site_names={s.id: s.name for s in await session.scalars(select(Site))},
        service_names={s.id: s.name for s in await session.scalars(select(Service))},
    )
    await audit.record(
        session,
        actor_user_id=user.id,
        action="availability.view",
        entity_type="clinician",
        entity_id=clinician_id,
        detail={"week": monday.isoformat()},
    )
    context.update(
        title=f"Availability: week of {nhs_day(monday)}",
        days=days,
        notice=NOTICES.get(request.query_params.get("done", "")),
        previous=who.url(week=(monday - timedelta(days=7)).isoformat()),
        next=who.url(week=(monday + timedelta(days=7)).isoformat()),
        feed_url=None,
    )
    return templates.TemplateResponse(request, "clinicians/week.html", context)


@transactional
async def reset_feed(request: Request, session: AsyncSession) -> Response:
    """A new private calendar feed URL, shown once; any earlier URL stops working."""
    form = await check_csrf(request)
    user = await signed_in(request, session, ROLES)
    who = require_change(await whose(request, session, user, form))
    token = await calendars.reset_feed(session, who.clinician.id)
    settings: Settings = request.app.state.settings
    https = f"{settings.public_base_url}/calendar/{token}.ics"
    await audit.record(
        session,
        actor_user_id=user.id,
        action="calendar_feed.reset",
        entity_type="clinician",
        entity_id=who.clinician.id,
    )
    return templates.TemplateResponse(
        request,
        "clinicians/feed.html",
        page_context(
            request,
            user,
            title="Your calendar feed",
            who=who,
            https_url=https,
            webcal_url="webcal://" + https.split("://", 1)[1],
        ),
    )


def routes() -> list[Route]:
    return [
        Route(PATH, week_page, methods=["GET"]),
        Route(f"{PATH}/calendar-feed", reset_feed, methods=["POST"]),
        *leave_pages.routes(),
        *session_pages.routes(),
    ]
