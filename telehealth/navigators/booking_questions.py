"""The questions of the navigator's booking journey as pages show them: each one's heading,
hint and radios (with the travel each way of being seen and each hub means for this patient,
in the patient's own words), and its back link. `booking_answers` says which to ask."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import wording
from scheduling.models import Mode
from telehealth.kernel import timefmt
from telehealth.navigators.booking_answers import Answers, active_services, modes_for
from telehealth.navigators.travel_lines import travel_for
from telehealth.patients import journey_options


@dataclass
class Question:
    """One question's page: its radios (`items`, as the nhsuk macro takes them)."""

    name: str
    heading: str
    hint: str
    items: list[dict[str, Any]]
    window: journey_options.DayWindow | None = None
    links: dict[str, str] = field(default_factory=dict)  # "Earlier days" and "Later days"


def journey_path(patient_id: int, params: dict[str, str] | None = None) -> str:
    path = f"/staff/patients/{patient_id}/book"
    return f"{path}?{urlencode(params)}" if params else path


def back_of(a: Answers, step: str) -> str:
    """The question before `step` (the patient's page before the first)."""
    asked = a.asked()
    at = asked.index(step) if step in asked else len(asked)
    if at == 0:
        return f"/staff/patients/{a.patient.id}"
    return journey_path(a.patient.id, a.params(before=asked[at - 1]))


def _item(value: str, text: str, hint: str | None, given: str) -> dict[str, Any]:
    item: dict[str, Any] = {"value": value, "text": text, "checked": value == given}
    if hint:
        item["hint"] = {"text": hint}
    return item


async def _service(session: AsyncSession, a: Answers, given: dict[str, str]) -> Question:
    items = [
        _item(str(s.id), s.name, None, given.get("service", ""))
        for s in await active_services(session)
    ]
    return Question("service", "Which service is the appointment for?", "", items)


async def _mode(session: AsyncSession, a: Answers, given: dict[str, str]) -> Question:
    assert a.service is not None
    travel = await travel_for(session, a.patient, a.service)
    items = [
        _item(m, wording.how(m), travel.of_mode(m), given.get("mode", ""))
        for m in await modes_for(session, a.patient, a.service)
    ]
    hint = (
        "Travel is worked out from their home postcode and is one way, by road."
        if travel.known
        else "Their travel cannot be worked out: their postcode is missing or not known."
    )
    return Question("mode", "How will they be seen?", hint, items)


async def _hub(session: AsyncSession, a: Answers, given: dict[str, str]) -> Question:
    assert a.service is not None
    travel = await travel_for(session, a.patient, a.service)
    items = [
        _item(
            str(p.site.id),
            p.site.name,
            travel.of_way(Mode.VIDEO_SITE, p.site),
            given.get("hub", ""),
        )
        for p in travel.hubs
    ]
    return Question("hub", "Which community hub?", "The hubs with free time, nearest first.", items)


async def _day(session: AsyncSession, a: Answers, given: dict[str, str]) -> Question:
    assert a.service is not None and a.mode is not None
    window = await journey_options.day_window(
        session,
        a.service,
        start=journey_options.window_start(given.get("from")),
        mode=a.mode,
        site_id=a.hub,
        patient=a.for_patient,
    )
    items = [
        _item(
            d.isoformat(),
            timefmt.day(d),
            "1 time free" if n == 1 else f"{n} times free",
            given.get("day", ""),
        )
        for d, n in window.days
    ]
    hint = f"Days with free times from {timefmt.day(window.start)} to {timefmt.day(window.end)}."
    here = a.params(before="day")
    links = {
        text: journey_path(a.patient.id, {**here, "from": start.isoformat()})
        for text, start in (("Earlier days", window.earlier), ("Later days", window.later))
        if start is not None
    }
    return Question("day", "Which day?", hint, items, window, links)


async def _slot(session: AsyncSession, a: Answers, given: dict[str, str]) -> Question:
    assert a.day is not None
    items = [
        _item(
            journey_options.slot_value(s),
            journey_options.slot_label(s.start),
            None,
            given.get("slot", ""),
        )
        for s in a.times
    ]
    return Question("slot", f"Which time on {timefmt.day(a.day)}?", "", items)


QUESTIONS = {"service": _service, "mode": _mode, "hub": _hub, "day": _day, "slot": _slot}


async def question(session: AsyncSession, a: Answers, step: str, given: dict[str, str]) -> Question:
    return await QUESTIONS[step](session, a, given)
