"""Managing an appointment without a login: the page a "Manage your appointment" link opens
(`/manage/{token}`, the signed link in every message), and cancelling from it with a reason.

No login: the signed link is the key, for one appointment, and the patient acts as the
patient it names, through `scheduling.access` (a `LinkHolder` whose scope is that appointment
alone; audited with no staff actor, the patient and the link in the detail). What they may do
online is the service's rule (`scheduling.self_service.may_change_online`): inside the notice
period, or once the appointment is past, finished or cancelled, the actions give way to the
number to phone.
Changing the time or how they are seen is the change journey at `/manage/{token}/change`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import booking
from scheduling.access import MANAGE_LINK, Access, through_link
from scheduling.models import Appointment, Status
from scheduling.self_service import change_deadline, may_change_online
from telehealth.kernel.config import Settings
from telehealth.kernel.db import utcnow
from telehealth.kernel.transactions import transactional
from telehealth.kernel.web.staff import check_csrf, csrf_token
from telehealth.kernel.web.templating import templates
from telehealth.messaging.content import Snapshot, snapshot_of, today
from telehealth.messaging.patient_links import read_manage_token

# Why the patient cancels: the value posted, the label they read, and what the clinician's
# cancellation notice says.
REASONS = (
    ("better", "I am feeling better", "the patient is feeling better"),
    ("cannot-make-it", "I cannot make it", "the patient cannot make it"),
    ("different-time", "I want a different time", "the patient wants a different time"),
    ("other", "Another reason", None),
)
OTHER_LIMIT = 500
# The form's one typed field, for a refusal naming it (a choice holding a NUL is no choice).
LABELS = {"reason-other": "Reason"}


@dataclass(frozen=True, slots=True)
class Managed:
    """The appointment a manage link opens, in words, and what the patient may do online."""

    token: str
    snapshot: Snapshot
    may_change: bool
    access: Access

    @property
    def appointment(self) -> Appointment:
        return self.snapshot.appointment


def link_problem(request: Request, *, expired: bool) -> Response:
    """A link that cannot be read (or names no appointment), or is too old: the same page,
    pointing to the lost-link lookup, so a guessed link learns nothing."""
    return templates.TemplateResponse(
        request,
        "patients/manage/link_problem.html",
        {
            "title": "This link has expired" if expired else "This link does not work",
            "expired": expired,
        },
        status_code=404,
    )


async def managed(
    request: Request, session: AsyncSession, *, action: str, lock: bool = False
) -> Managed | Response:
    """The appointment the path's token names, read (and audited) as the patient, or the
    page saying the link does not work."""
    settings: Settings = request.app.state.settings
    token = request.path_params["token"]
    claim = read_manage_token(settings, token)
    if claim is None:
        return link_problem(request, expired=False)
    if claim.expired(today()):
        return link_problem(request, expired=True)
    access = await through_link(session, kind=MANAGE_LINK, appointment_id=claim.id)
    if access is None:
        return link_problem(request, expired=False)
    a = await access.appointment(claim.id, action=action, lock=lock)
    s = await snapshot_of(session, a, settings)
    may = may_change_online(
        status=a.status,
        starts_at=a.starts_at,
        notice_minutes=s.service.change_notice_minutes,
        now=utcnow(),
    )
    return Managed(token=token, snapshot=s, may_change=may, access=access)


def _context(m: Managed, **extra: object) -> dict[str, object]:
    s = m.snapshot
    return {
        "m": m,
        "s": s,
        "a": s.appointment,
        "base": f"/manage/{m.token}",
        "deadline": change_deadline(s.appointment.starts_at, s.service.change_notice_minutes),
        "state": _state(s.appointment),
        **extra,
    }


def _state(a: Appointment) -> str | None:
    """What the page says first about an appointment that is no longer to come."""
    if a.status == Status.CANCELLED:
        return "This appointment has been cancelled."
    if a.status in (Status.FULFILLED, Status.NOSHOW, Status.ENTERED_IN_ERROR) or (
        a.ends_at <= utcnow()
    ):
        return "This appointment has finished."
    return None


@transactional
async def manage_page(request: Request, session: AsyncSession) -> Response:
    m = await managed(request, session, action="patient.self.view")
    if isinstance(m, Response):
        return m
    return templates.TemplateResponse(
        request,
        "patients/manage/appointment.html",
        _context(m, title="Your appointment"),
    )


def _cancel_form(
    request: Request,
    m: Managed,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    question = "Why are you cancelling this appointment?"
    return templates.TemplateResponse(
        request,
        "patients/manage/cancel.html",
        _context(
            m,
            title=f"Error: {question}" if errors else question,
            question=question,
            reasons=REASONS,
            values=values or {},
            errors=errors or {},
            csrf=csrf_token(request),
            other_limit=OTHER_LIMIT,
        ),
        status_code=422 if errors else 200,
    )


@transactional
async def cancel_page(request: Request, session: AsyncSession) -> Response:
    m = await managed(request, session, action="patient.self.view")
    if isinstance(m, Response):
        return m
    if not m.may_change:
        return RedirectResponse(f"/manage/{m.token}", status_code=303)
    return _cancel_form(request, m)


def reason_of(form: dict[str, str]) -> tuple[str | None, dict[str, str]]:
    """The reason the clinician is told, or the errors to show (by field id)."""
    chosen = form.get("reason", "")
    known = {value: told for value, _label, told in REASONS}
    if chosen not in known:
        return None, {"reason": "Select why you are cancelling"}
    told = known[chosen]
    if told is not None:
        return f"Cancelled online: {told}", {}
    other = " ".join(form.get("reason-other", "").split())
    if not other:
        return None, {"reason-other": "Tell us why you are cancelling"}
    if len(other) > OTHER_LIMIT:
        return None, {"reason-other": f"Reason must be {OTHER_LIMIT} characters or fewer"}
    return f"Cancelled online: {other}", {}


@transactional
async def cancel(request: Request, session: AsyncSession) -> Response:
    form = await check_csrf(request, refuse=False)
    m = await managed(request, session, action="patient.self.view", lock=True)
    if isinstance(m, Response):
        return m
    if not m.may_change:
        # The notice period began (or the appointment changed) since the form was shown.
        return RedirectResponse(f"/manage/{m.token}", status_code=303)
    reason, errors = reason_of(form.kept())
    errors |= {k: v for k, v in form.errors(LABELS).items() if k in LABELS}
    if reason is None or errors:
        return _cancel_form(request, m, values=form.kept(), errors=errors)
    # The database's trigger records the cancellation; the worker sends the messages.
    await booking.cancel(session, appointment=m.appointment, reason=reason, actor_user_id=None)
    await m.access.audit("patient.self.cancel", "appointment", m.appointment.id)
    return RedirectResponse(f"/manage/{m.token}/cancelled", status_code=303)


@transactional
async def cancelled_page(request: Request, session: AsyncSession) -> Response:
    m = await managed(request, session, action="patient.self.view")
    if isinstance(m, Response):
        return m
    if m.appointment.status != Status.CANCELLED:
        return RedirectResponse(f"/manage/{m.token}", status_code=303)
    return templates.TemplateResponse(
        request,
        "patients/manage/cancelled.html",
        _context(m, title="Appointment cancelled"),
    )


def routes() -> list[Route]:
    return [
        Route("/manage/{token}", manage_page, methods=["GET"]),
        Route("/manage/{token}/cancel", cancel_page, methods=["GET"]),
        Route("/manage/{token}/cancel", cancel, methods=["POST"]),
        Route("/manage/{token}/cancelled", cancelled_page, methods=["GET"]),
    ]
