"""Adding and removing leave. Before leave is saved over booked appointments the page lists
them and asks: the leave is written in a savepoint, the clashes read, and the savepoint rolled
back unless the clinician has confirmed (the same rule as the API's, which answers the
clashes with the leave it added)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pydantic
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import availability
from scheduling.directory_schemas import ExceptionIn
from scheduling.rebooking import ToRebook
from telehealth.clinicians.week import monday_of
from telehealth.clinicians.whose import PATH, Whose, require_change, whose
from telehealth.kernel import audit
from telehealth.kernel.inputs import path_id
from telehealth.kernel.transactions import transactional
from telehealth.kernel.validation import plain_fields
from telehealth.kernel.web.forms import date_parts, read_date, read_time
from telehealth.kernel.web.staff import check_csrf, page_context, roles_for, signed_in
from telehealth.kernel.web.templating import templates

ROLES = roles_for(PATH)
# The form's own fields as it labels them, for a refusal naming one.
FORM_LABELS = {
    "start[day]": "Start date",
    "start[month]": "Start date",
    "start[year]": "Start date",
    "end[day]": "End date",
    "end[month]": "End date",
    "end[year]": "End date",
    "start_time": "Start time",
    "end_time": "End time",
    "reason": "Reason",
}
# ExceptionIn's field names to the form's (the error summary links to the form's fields).
FORM_FIELD = {
    "start_date": "start-day",
    "end_date": "end-day",
    "start_time": "start_time",
    "end_time": "end_time",
    "reason": "reason",
}


@dataclass
class LeaveForm:
    typed: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    leave: ExceptionIn | None = None


def read_leave(form: dict[str, str]) -> LeaveForm:
    typed: dict[str, Any] = {
        "start": date_parts(form, "start"),
        "end": date_parts(form, "end"),
        "start_time": form.get("start_time", "").strip(),
        "end_time": form.get("end_time", "").strip(),
        "reason": form.get("reason", "").strip(),
    }
    shown = LeaveForm(typed)
    start = read_date(form, "start", "Start date")
    if start.error:
        shown.errors["start-day"] = start.error
    end = read_date(form, "end", "End date") if any(typed["end"].values()) else None
    if end is not None and end.error:
        shown.errors["end-day"] = end.error
    times = {}
    labels = {"start_time": "Start time", "end_time": "End time"}
    for name, label in labels.items():
        if typed[name]:
            read = read_time(typed[name], label)
            times[name] = read.value
            if read.error:
                shown.errors[name] = read.error
    if len(times) == 1:  # part of a day takes both times; whole days neither
        missing = next(name for name in labels if name not in times)
        shown.errors[missing] = (
            f"Enter the {labels[missing].lower()} too, or leave both times blank for whole days"
        )
    if shown.errors:
        return shown
    try:
        shown.leave = ExceptionIn(
            kind="leave",
            start_date=start.value,
            end_date=end.value if end else None,
            reason=typed["reason"],
            **times,
        )
    except pydantic.ValidationError as exc:
        for name, message in plain_fields(exc, LABELS).items():
            shown.errors.setdefault(FORM_FIELD.get(name, "start-day"), message)
    return shown


# ExceptionIn's fields as the form labels them.
LABELS = {
    "start_date": "Start date",
    "end_date": "End date",
    "start_time": "Start time",
    "end_time": "End time",
    "reason": "Reason",
}


def _form_page(request: Request, user: Any, who: Whose, shown: LeaveForm, status: int) -> Response:
    title = "Add leave"
    return templates.TemplateResponse(
        request,
        "clinicians/leave_form.html",
        page_context(
            request,
            user,
            title=f"Error: {title}" if shown.errors else title,
            who=who,
            form=shown.typed,
            errors=shown.errors,
        ),
        status_code=status,
    )


@transactional
async def leave_form(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    who = require_change(await whose(request, session, user))
    blank = LeaveForm(read_leave({}).typed)
    return _form_page(request, user, who, blank, 200)


@transactional
async def add_leave(request: Request, session: AsyncSession) -> Response:
    form = await check_csrf(request, refuse=False)
    user = await signed_in(request, session, ROLES)
    who = require_change(await whose(request, session, user, form.kept()))
    shown = read_leave(form.kept())
    # A NUL is refused on the form itself, under the field that held it, the rest kept.
    for name, message in form.errors(FORM_LABELS).items():
        # A date's three boxes share one error, on the day box as the summary links it.
        box = name.split("[")[0] + "-day" if "[" in name else name
        shown.errors.setdefault(box if name in FORM_LABELS else "start-day", message)
        shown.leave = None
    if shown.leave is None:
        return _form_page(request, user, who, shown, 422)
    savepoint = await session.begin_nested()
    added, affected = await availability.create_leave(
        session, clinician_id=who.clinician.id, data=shown.leave
    )
    if affected and form.get("confirm") != "yes":
        await savepoint.rollback()
        return _check_page(request, user, who, form, affected)
    await savepoint.commit()
    await audit.record(
        session,
        actor_user_id=user.id,
        action="availability.leave.add",
        entity_type="clinician",
        entity_id=who.clinician.id,
        detail={"leave_id": added.id, "appointments_affected": len(affected)},
    )
    week = monday_of(added.start.date()).isoformat()
    return RedirectResponse(who.url(week=week, done="leave"), status_code=303)


def _check_page(
    request: Request, user: Any, who: Whose, form: dict[str, str], affected: list[ToRebook]
) -> Response:
    """The appointments the leave would fall over, and the choice: add it anyway (they keep
    their times and are listed to rebook) or change the dates."""
    return templates.TemplateResponse(
        request,
        "clinicians/leave_check.html",
        page_context(
            request,
            user,
            title="Check: this leave falls over booked appointments",
            who=who,
            affected=affected,
            # Sent again with confirm=yes: everything the clinician typed, as typed.
            carried={k: v for k, v in form.items() if k not in ("csrf", "confirm")},
        ),
    )


@transactional
async def remove_leave(request: Request, session: AsyncSession) -> Response:
    form = await check_csrf(request)
    user = await signed_in(request, session, ROLES)
    who = require_change(await whose(request, session, user, form))
    leave_id = path_id(request, "leave_id")
    await availability.delete_leave(session, clinician_id=who.clinician.id, leave_id=leave_id)
    await audit.record(
        session,
        actor_user_id=user.id,
        action="availability.leave.remove",
        entity_type="clinician",
        entity_id=who.clinician.id,
        detail={"leave_id": leave_id},
    )
    week = form.get("week", "")
    params = {"week": week} if week else {}
    return RedirectResponse(who.url(done="leave-removed", **params), status_code=303)


def routes() -> list[Route]:
    return [
        Route(f"{PATH}/leave", leave_form, methods=["GET"]),
        Route(f"{PATH}/leave", add_leave, methods=["POST"]),
        Route(f"{PATH}/leave/{{leave_id}}/remove", remove_leave, methods=["POST"]),
    ]
