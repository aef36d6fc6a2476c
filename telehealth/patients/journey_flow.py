"""The frame of a patient's journey (booking from a referral, or changing an appointment):
the `Journey` one request sees, which question comes next and which before, the pages'
rendering, and the chosen slot read back from the answers. `journey_steps` asks the shared
questions; `booking_*` and `change_pages` add their own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from scheduling.access import Access
from scheduling.models import Mode, Patient, Service, Site
from scheduling.referral_booking import Choice
from scheduling.slot_inputs import ForPatient
from telehealth.kernel import timefmt
from telehealth.kernel.transactions import run_in_transaction
from telehealth.kernel.web.templating import templates
from telehealth.patients import journey, journey_options
from telehealth.patients.journey import Answers


@dataclass(frozen=True)
class Journey:
    """One patient's journey as one request sees it."""

    base: str  # "/book/{token}" or "/manage/{token}/change": the cookie's path too
    key: str  # whose journey the cookie is ("referral:12", "appointment:40")
    service: Service
    patient: Patient
    video_suitable: bool
    answers: Answers
    # The patient's reach through the journey's link: every read and change of theirs.
    access: Access
    start_href: str  # where the first question's back link goes
    # The answers asked after the time, in order (booking asks for contact details).
    later: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def href(self, step: str) -> str:
        return f"{self.base}/{step}"

    @property
    def for_patient(self) -> ForPatient:
        """Whose free times these are: the change journey's appointment is not in its own way."""
        moving = self.extra.get("appointment")
        return ForPatient(self.patient.id, None if moving is None else int(moving.id))


Loader = Callable[[Request, AsyncSession], Awaitable["Journey | Response"]]
Show = Callable[[Request, AsyncSession, "Journey"], Awaitable[Response]]

# Each question's answer, in the order they are asked; `next_step` skips the hub unless the
# patient chose video at a hub.
STEP_OF = {"mode": "how", "site_id": "hub", "day": "day", "slot": "time", "details": "details"}


def unanswered(j: Journey) -> list[str]:
    wanted = ["mode", "site_id", "day", "slot", *j.later]
    if j.answers.get("mode") != Mode.VIDEO_SITE:
        wanted.remove("site_id")
    return [name for name in wanted if j.answers.get(name) in (None, "")]


def next_step(j: Journey) -> str:
    missing = unanswered(j)
    return j.href(STEP_OF[missing[0]] if missing else "check")


def previous(j: Journey, step: str) -> str:
    order = ["how", "hub", "day", "time", *(STEP_OF[n] for n in j.later), "check"]
    if j.answers.get("mode") != Mode.VIDEO_SITE:
        order.remove("hub")
    if step not in order:
        # A question this journey skips, reached by its address: back to how to be seen.
        return j.href("how")
    at = order.index(step)
    return j.start_href if at == 0 else j.href(order[at - 1])


def go_on(request: Request, j: Journey, answers: Answers) -> Response:
    """Keep the answers and go to the first question still unanswered."""
    moved = replace(j, answers=answers)
    response = RedirectResponse(next_step(moved), status_code=303)
    journey.save(response, request, key=j.key, path=j.base, answers=answers)
    return response


def render(
    request: Request,
    j: Journey,
    template: str,
    *,
    title: str,
    errors: dict[str, str] | None = None,
    back: str | None = None,
    **context: Any,
) -> Response:
    errors = errors or {}
    return templates.TemplateResponse(
        request,
        template,
        {
            "title": ("Error: " if errors else "") + title,
            "heading": title,
            "errors": errors,
            "error_list": [{"text": m, "href": f"#{f}"} for f, m in errors.items()],
            "back": back,
            "j": j,
            "service": j.service,
            **context,
        },
        status_code=422 if errors else 200,
    )


def parse_slot(value: str) -> tuple[datetime, int, int | None] | None:
    """A time's form value (`journey_options.slot_value`) as (start, clinician, site)."""
    try:
        start_text, clinician, site = value.split("|")
        start = datetime.fromisoformat(start_text).astimezone(UTC)
        return start, int(clinician), int(site) if site else None
    except ValueError:
        return None


def chosen_day(j: Journey) -> date | None:
    try:
        return date.fromisoformat(str(j.answers.get("day") or ""))
    except ValueError:
        return None


def chosen_site(j: Journey) -> int | None:
    site = j.answers.get("site_id")
    return site if isinstance(site, int) else None


def choice_of(j: Journey) -> Choice | None:
    """The slot chosen, as booking takes it: the hub for video at a hub, the clinic's site
    (the slot's) in person, none from home."""
    parsed = parse_slot(str(j.answers.get("slot") or ""))
    if parsed is None:
        return None
    start, clinician_id, slot_site = parsed
    mode = str(j.answers.get("mode"))
    site_id = None if mode == Mode.VIDEO_HOME else slot_site
    return Choice(clinician_id=clinician_id, mode=mode, site_id=site_id, start=start)


def change_link(href: str, what: str) -> dict[str, Any]:
    return {"items": [{"href": href, "text": "Change", "visuallyHiddenText": what}]}


async def choice_rows(session: AsyncSession, j: Journey) -> list[dict[str, Any]]:
    """ "Check your answers" rows for how, where, the day and the time, each with its Change
    link back to its question."""
    mode = Mode(str(j.answers.get("mode")))
    rows: list[dict[str, Any]] = [
        {
            "key": {"text": "How you will be seen"},
            "value": {"text": journey_options.MODE_LABELS[mode]},
            "actions": change_link(j.href("how"), "how you will be seen"),
        }
    ]
    choice = choice_of(j)
    site = await session.get(Site, choice.site_id) if choice and choice.site_id else None
    if site is not None:
        where = {"key": {"text": "Where"}, "value": {"text": site.name}}
        if mode == Mode.VIDEO_SITE:
            where["actions"] = change_link(j.href("hub"), "the community hub")
        rows.append(where)
    day = chosen_day(j)
    if day is not None:
        rows.append(
            {
                "key": {"text": "Day"},
                "value": {"text": timefmt.day(day)},
                "actions": change_link(j.href("day"), "the day"),
            }
        )
    if choice is not None:
        rows.append(
            {
                "key": {"text": "Time"},
                "value": {"text": timefmt.clock(choice.start)},
                "actions": change_link(j.href("time"), "the time"),
            }
        )
    return rows


def transactional_page(load: Loader, show: Show) -> Callable[[Request], Awaitable[Response]]:
    """A journey page of its own (not one of the four shared questions), run the same way."""

    async def endpoint(request: Request) -> Response:
        async def work(session: AsyncSession) -> Response:
            found = await load(request, session)
            if isinstance(found, Response):
                return found
            return await show(request, session, found)

        return await run_in_transaction(request, work)

    return endpoint
