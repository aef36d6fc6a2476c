"""The steps the booking and the change journeys share, one question per page: how to be
seen, which community hub, which day, which time. Each journey loads its own `Journey`
(from a booking link or a manage link) and adds its own steps around these.

Each question's page is a GET showing it (the answer so far chosen) and a POST checking the
answer, keeping it in the journey's cookie (`journey`) and going on to the first question
still unanswered, or back to "Check your answers" when nothing is (a "Change" link changes one
answer and keeps the others, unless they followed from it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling.models import Mode
from telehealth.kernel import timefmt
from telehealth.kernel.inputs import read_form
from telehealth.patients import journey, journey_options
from telehealth.patients.journey_flow import (
    Journey,
    Loader,
    Show,
    chosen_day,
    chosen_site,
    go_on,
    next_step,
    previous,
    render,
    transactional_page,
    unanswered,
)

# How ---------------------------------------------------------------------------------------

HOW = "How would you like to be seen?"


async def _how(
    request: Request, session: AsyncSession, j: Journey, errors: dict[str, str] | None = None
) -> Response:
    modes = journey_options.modes_for(j.service, video_suitable=j.video_suitable)
    found = await journey_options.places(session, j.patient, j.service)
    hubs = [
        p.site.id
        for p in await journey_options.hub_places(session, j.service, found, j.for_patient)
    ]
    options = [
        {
            "value": mode,
            "text": journey_options.MODE_LABELS[Mode(mode)],
            "hint": journey_options.mode_travel(mode, j.service, found, hubs)
            + ". "
            + journey_options.MODE_HINTS[Mode(mode)],
            "checked": j.answers.get("mode") == mode,
        }
        for mode in modes
    ]
    return render(
        request, j, "patients/book/how.html", title=HOW, errors=errors,
        back=previous(j, "how"), options=options,
    )  # fmt: skip


async def how_post(request: Request, session: AsyncSession, j: Journey) -> Response:
    form = await read_form(request)
    mode = str(form.get("mode", ""))
    if mode not in journey_options.modes_for(j.service, video_suitable=j.video_suitable):
        return await _how(request, session, j, {"mode": "Select how you would like to be seen"})
    return go_on(request, j, journey.answer(j.answers, "mode", mode))


# Hub ---------------------------------------------------------------------------------------

HUB = "Which community hub?"


async def _hub(
    request: Request, session: AsyncSession, j: Journey, errors: dict[str, str] | None = None
) -> Response:
    found = await journey_options.places(session, j.patient, j.service)
    hubs = await journey_options.hub_places(session, j.service, found, j.for_patient)
    options = [
        {
            "value": str(p.site.id),
            "text": p.site.name,
            "hint": p.travel or p.site.address,
            "checked": chosen_site(j) == p.site.id,
        }
        for p in hubs
    ]
    return render(
        request, j, "patients/book/hub.html", title=HUB, errors=errors,
        back=previous(j, "hub"), options=options,
    )  # fmt: skip


async def hub_post(request: Request, session: AsyncSession, j: Journey) -> Response:
    form = await read_form(request)
    found = await journey_options.places(session, j.patient, j.service)
    offered = {
        p.site.id
        for p in await journey_options.hub_places(session, j.service, found, j.for_patient)
    }
    try:
        site_id = int(str(form.get("site_id", "")))
    except ValueError:
        site_id = 0
    if site_id not in offered:
        return await _hub(request, session, j, {"site_id": "Select a community hub"})
    return go_on(request, j, journey.answer(j.answers, "site_id", site_id))


# Day ---------------------------------------------------------------------------------------

DAY = "Which day would you like?"


async def _day(
    request: Request,
    session: AsyncSession,
    j: Journey,
    errors: dict[str, str] | None = None,
    *,
    start: str | None,
) -> Response:
    mode = str(j.answers.get("mode"))
    window = await journey_options.day_window(
        session,
        j.service,
        start=journey_options.window_start(start),
        mode=mode,
        site_id=chosen_site(j),
        patient=j.for_patient,
    )
    options = [
        {
            "value": d.isoformat(),
            "text": timefmt.day(d),
            "hint": "1 time free" if n == 1 else f"{n} times free",
            "checked": j.answers.get("day") == d.isoformat(),
        }
        for d, n in window.days
    ]
    return render(
        request, j, "patients/book/day.html", title=DAY, errors=errors,
        back=previous(j, "day"), options=options, window=window,
        window_text=f"{timefmt.day(window.start)} to {timefmt.day(window.end)}",
    )  # fmt: skip


async def day_post(request: Request, session: AsyncSession, j: Journey) -> Response:
    form = await read_form(request)
    start = str(form.get("from", "")) or None
    try:
        day = date.fromisoformat(str(form.get("day", "")))
    except ValueError:
        return await _day(request, session, j, {"day": "Select a day"}, start=start)
    times = await journey_options.day_times(
        session,
        j.service,
        day=day,
        mode=str(j.answers.get("mode")),
        site_id=chosen_site(j),
        patient=j.for_patient,
    )
    if not times:
        message = "There are no free times left on that day: select another day"
        return await _day(request, session, j, {"day": message}, start=start)
    return go_on(request, j, journey.answer(j.answers, "day", day.isoformat()))


# Time --------------------------------------------------------------------------------------

TIME = "Which time would you like?"
TAKEN = {
    "slot": "The time you chose has just been booked by someone else. Choose another time",
    "patient": "You already have another appointment at the time you chose. Choose another time",
}


async def _time(
    request: Request, session: AsyncSession, j: Journey, errors: dict[str, str] | None = None
) -> Response:
    day = chosen_day(j)
    if day is None:
        return RedirectResponse(j.href("day"), status_code=303)
    taken = TAKEN.get(str(j.answers.get("taken")))
    if errors is None and taken:
        errors = {"slot": taken}
    times = await journey_options.day_times(
        session,
        j.service,
        day=day,
        mode=str(j.answers.get("mode")),
        site_id=chosen_site(j),
        patient=j.for_patient,
    )
    options = [
        {
            "value": journey_options.slot_value(s),
            "text": journey_options.slot_label(s.start),
            "checked": j.answers.get("slot") == journey_options.slot_value(s),
        }
        for s in times
    ]
    response = render(
        request, j, "patients/book/time.html", title=TIME, errors=errors,
        back=previous(j, "time"), options=options, day_text=timefmt.day(day),
    )  # fmt: skip
    if errors and taken and errors.get("slot") == taken:
        response.status_code = 409
    return response


async def time_post(request: Request, session: AsyncSession, j: Journey) -> Response:
    form = await read_form(request)
    value = str(form.get("slot", ""))
    day = chosen_day(j)
    if day is None:
        return RedirectResponse(j.href("day"), status_code=303)
    times = await journey_options.day_times(
        session,
        j.service,
        day=day,
        mode=str(j.answers.get("mode")),
        site_id=chosen_site(j),
        patient=j.for_patient,
    )
    if value not in {journey_options.slot_value(s) for s in times}:
        message = "That time is no longer free: select another time" if value else "Select a time"
        return await _time(request, session, j, {"slot": message})
    answers = journey.answer(j.answers, "slot", value)
    answers.pop("taken", None)
    return go_on(request, j, answers)


# Routes ------------------------------------------------------------------------------------


def step_routes(prefix: str, load: Loader) -> list[Route]:
    """GET and POST routes of the four shared questions under `prefix` (a route pattern such
    as "/book/{token}"), each loading its journey with `load` in the request's transaction."""

    def page(show: Show) -> Callable[[Request], Awaitable[Response]]:
        return transactional_page(load, show)

    async def how_get(request: Request, session: AsyncSession, j: Journey) -> Response:
        return await _how(request, session, j)

    async def hub_get(request: Request, session: AsyncSession, j: Journey) -> Response:
        if j.answers.get("mode") != Mode.VIDEO_SITE:
            return RedirectResponse(j.href("how"), status_code=303)
        return await _hub(request, session, j)

    async def day_get(request: Request, session: AsyncSession, j: Journey) -> Response:
        if unanswered(j)[:1] in (["mode"], ["site_id"]):
            return RedirectResponse(next_step(j), status_code=303)
        return await _day(request, session, j, start=request.query_params.get("from"))

    async def time_get(request: Request, session: AsyncSession, j: Journey) -> Response:
        return await _time(request, session, j)

    return [
        Route(f"{prefix}/how", page(how_get), methods=["GET"]),
        Route(f"{prefix}/how", page(how_post), methods=["POST"]),
        Route(f"{prefix}/hub", page(hub_get), methods=["GET"]),
        Route(f"{prefix}/hub", page(hub_post), methods=["POST"]),
        Route(f"{prefix}/day", page(day_get), methods=["GET"]),
        Route(f"{prefix}/day", page(day_post), methods=["POST"]),
        Route(f"{prefix}/time", page(time_get), methods=["GET"]),
        Route(f"{prefix}/time", page(time_post), methods=["POST"]),
    ]
