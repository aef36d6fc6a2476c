"""The patient's booking journey from their invitation's personal link, `/book/{token}`:

    /book/{token}            start page: what the appointment is for, how long it takes
    .../how, hub, day, time  the questions shared with the change journey (`journey_steps`)
    .../details              their contact details and needs, from their record
    .../check                "Check your answers"; its POST books (`booking_confirm`)
    .../booked               the confirmation
    .../help, help/sent      "I cannot book online": why, then "A care navigator will contact you"

A link that does not work, has expired or whose referral is closed gets a page saying so and
what to do; a referral already booked leads to its manage page (the booking link is then
spent: `scheduling.referral_booking`). The answers between pages are in the journey's signed
cookie (`telehealth.patients.journey` says why there).

Reads and the booking go through `scheduling.access` as the link's holder (the referral's
patient: their record and their own appointments), audited there with no staff actor and the
patient and link kind in the detail ("patient.self.view", "patient.self.book").
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from scheduling import wording
from scheduling.referral_booking import request_help
from telehealth.kernel.inputs import read_form
from telehealth.patients import booking_confirm, booking_details
from telehealth.patients.booking_link import load, load_booked, service_phone
from telehealth.patients.journey_flow import (
    Journey,
    Loader,
    Show,
    render,
    transactional_page,
)
from telehealth.patients.journey_steps import step_routes

PREFIX = "/book/{token}"


async def start(request: Request, session: AsyncSession, j: Journey) -> Response:
    phrase = wording.service_phrase(j.service.name)
    return render(
        request,
        j,
        "patients/book/start.html",
        title=f"Book your {phrase}",
        phrase=phrase,
        length=j.service.length_minutes,
        see_by=j.extra["referral"].see_by,
        in_person_only=not j.video_suitable,
    )


# The help path: "I cannot book online" and "None of these times suit me".
HELP = "Why can you not book online?"
HELP_REASONS = {
    "times": "None of the times suit me",
    "online": "I cannot use the website, or would rather talk to someone",
    "needs": "I need to tell someone about my needs before I book",
    "other": "Something else",
}


def _came_from(request: Request, j: Journey) -> str:
    """The journey's page the patient came from (another site's address is never linked)."""
    came = urlsplit(request.headers.get("referer", ""))
    host_ok = came.netloc in ("", request.url.netloc)
    if host_ok and came.path.startswith(j.base) and not came.path.endswith("/help"):
        return came.path + (f"?{came.query}" if came.query else "")
    return j.base


async def help_page(
    request: Request,
    session: AsyncSession,
    j: Journey,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    # Shown again after a refusal, the form keeps what was chosen and typed.
    values = values or {"reason": request.query_params.get("reason", "")}
    chosen = values.get("reason", "")
    return render(
        request, j, "patients/book/help.html", title=HELP, errors=errors,
        back=_came_from(request, j), more=values.get("more", ""),
        reasons=HELP_REASONS, chosen=chosen if chosen in HELP_REASONS else "",
    )  # fmt: skip


async def help_post(request: Request, session: AsyncSession, j: Journey) -> Response:
    form = await read_form(request)
    reason = form.get("reason", "")
    more = form.get("more", "").strip()
    errors = form.errors({"more": "What you told us"}) if "more" in form.refused else {}
    if reason not in HELP_REASONS:
        errors = {"reason": "Select why you cannot book"} | errors
    if len(more) > 1000:
        errors.setdefault("more", "Tell us in 1000 characters or fewer")
    if errors:
        return await help_page(request, session, j, errors, form.kept())
    text = HELP_REASONS[reason] + (f": {more}" if more else "")
    await request_help(session, j.extra["referral"].id, text)
    return RedirectResponse(j.href("help/sent"), status_code=303)


async def help_sent(request: Request, session: AsyncSession, j: Journey) -> Response:
    return render(
        request,
        j,
        "patients/book/help_sent.html",
        title="A care navigator will contact you",
        phone=await service_phone(session, j.service),
    )


def routes() -> list[BaseRoute]:
    def get(path: str, show: Show, loader: Loader = load) -> Route:
        return Route(PREFIX + path, transactional_page(loader, show), methods=["GET"])

    def post(path: str, show: Show) -> Route:
        return Route(PREFIX + path, transactional_page(load, show), methods=["POST"])

    return [
        get("", start),
        *step_routes(PREFIX, load),
        get("/details", booking_details.page),
        post("/details", booking_details.post),
        get("/check", booking_confirm.check),
        Route(f"{PREFIX}/check", booking_confirm.confirm, methods=["POST"]),
        get("/booked", booking_confirm.booked, load_booked),
        get("/help", help_page),
        post("/help", help_post),
        get("/help/sent", help_sent, load_booked),
    ]
