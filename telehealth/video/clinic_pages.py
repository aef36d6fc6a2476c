"""Staff screens: a clinician's clinic for the day, and a community hub's reception desk.

Both show the day's appointments with their live state and update as it changes: each screen
listens to a server-sent event stream and re-fetches its table when anything happens. Each
row links to its appointment's travel record (`/staff/appointments/{id}/travel`): a page of
its own, so the table's re-draws cannot close it while someone reads it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduling import clinic, rebooking, wording
from scheduling.access import Access
from scheduling.fit import Clash
from scheduling.models import Appointment, Clinician, Patient, Service, Site
from scheduling.transitions import Action, Live
from telehealth.kernel import timefmt
from telehealth.kernel.auth.models import Role, StaffUser
from telehealth.kernel.config import Settings
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import Forbidden, InvalidInput, NotFound
from telehealth.kernel.transactions import run_in_transaction, transactional
from telehealth.kernel.web.staff import (
    HOME_FOR_ROLE,
    check_csrf,
    page_context,
    roles_for,
    signed_in,
)
from telehealth.kernel.web.templating import templates
from telehealth.travel import record_view
from telehealth.video import screen_data, screens
from telehealth.video.providers import Participant, provider_from
from telehealth.video.screen_query import LARGEST_ID, read_id

CLINIC_ROLES = roles_for("/staff/clinic")
RECEPTION_ROLES = roles_for("/staff/reception")
# Whoever may open either screen may follow its rows to their travel records (which of them
# is still `scheduling.access`'s decision, through `record_view.reach`).
TRAVEL_ROLES = tuple(dict.fromkeys((*CLINIC_ROLES, *RECEPTION_ROLES)))

# What each screen calls a live state: at reception a patient in the waiting room is checked in.
CLINIC_LABELS = {
    Live.NOT_ARRIVED: "Not arrived",
    Live.WAITING: "Waiting",
    Live.IN_CALL: "In call",
    Live.BY_PHONE: "By telephone",
    Live.FINISHED: "Finished",
    Live.DID_NOT_ATTEND: "Did not attend",
    Live.CANCELLED: "Cancelled",
}
RECEPTION_LABELS = CLINIC_LABELS | {Live.WAITING: "Checked in"}

CHOOSE_CLINICIAN = "Select a clinician from the list"
CHOOSE_HUB = "Select a community hub from the list"


async def _clinician_for(
    request: Request, session: AsyncSession, user: StaffUser, errors: dict[str, str]
) -> Clinician | None:
    """A clinician sees their own clinic; admins and navigators pick one (None: not yet)."""
    if user.role == Role.CLINICIAN:
        own = await screen_data.clinician_of(session, user)
        if own is None:
            raise Forbidden(
                "Your account is not linked to a clinician record yet, so there is no clinic "
                f"to show. Ask an admin to link it: your user id is {user.id}, and they link it "
                "by setting user_id on your clinician record (PATCH /api/v1/clinicians/{id})"
            )
        return own
    try:
        chosen = read_id(request.query_params.get("clinician_id"))
    except ValueError:
        chosen = 0  # no row has it
    if chosen is None:
        return None
    found = await screen_data.clinician(session, chosen) if chosen else None
    if found is None:
        errors["clinician_id"] = CHOOSE_CLINICIAN
    return found


async def _clinic_context(
    request: Request, session: AsyncSession, user: StaffUser, *, full_page: bool
) -> dict[str, object]:
    query = screens.screen_query(request)
    clinician = await _clinician_for(request, session, user, query.errors)
    shown = clinician is not None and query.valid
    entries: list[clinic.DayEntry] = []
    clashes: dict[int, list[Clash]] = {}
    if clinician is not None and query.valid:
        entries = await screens.listed(
            session,
            user,
            query,
            action="clinic.view",
            entity_type="clinician",
            entity_id=clinician.id,
            clinician_id=clinician.id,
        )
        # Leave, a closed room or a changed session over a booked appointment: say so on its
        # row, so the clinic knows before the patient turns up.
        clashes = await rebooking.clashes_for_day(session, clinician.id, query.day)
    clinicians = [] if user.role == Role.CLINICIAN else await screen_data.clinicians(session)
    chosen = {"clinician_id": clinician.id} if clinician and user.role != Role.CLINICIAN else {}
    return screens.context(
        request,
        user,
        query,
        title="Clinic",
        full_page=full_page,
        shown=shown,
        clinician=clinician,
        clinicians=clinicians,
        rows=await screens.rows(session, entries, user, clashes=clashes),
        labels=CLINIC_LABELS,
        filters=chosen,
    )


async def clinic_events(request: Request) -> Response:
    async def chosen(session: AsyncSession) -> Clinician | None:
        user = await signed_in(request, session, CLINIC_ROLES)
        return await _clinician_for(request, session, user, {})

    # The transaction ends before the stream starts: a stream stays open all day.
    clinician = await run_in_transaction(request, chosen)
    if clinician is None:
        raise InvalidInput.field("clinician_id", CHOOSE_CLINICIAN)
    return screens.follow(request, f"clinician:{clinician.id}")


def _appointment_id(request: Request) -> int:
    found: int = request.path_params["id"]  # the route's int convertor: digits only
    if not 0 < found <= LARGEST_ID:
        raise NotFound("There is no such appointment")
    return found


async def act(request: Request) -> Response:
    """One button on a staff screen: a status change, or starting (or rejoining) the call."""
    form = await check_csrf(request)
    appointment_id = _appointment_id(request)
    try:
        action = Action(form.get("action", ""))
    except ValueError:
        raise InvalidInput.field("action", "is not a clinic action") from None
    settings: Settings = request.app.state.settings

    async def apply(session: AsyncSession) -> tuple[StaffUser, Appointment, bool]:
        user = await signed_in(request, session)
        access = Access(session, user)
        appointment = await clinic.staff_action(
            access,
            appointment_id=appointment_id,
            action=action,
            reason=form.get("reason") or None,
        )
        # Only whoever runs the consultation is let into the call as its moderator.
        return user, appointment, await access.may_run(appointment)

    try:
        user, appointment, runs = await run_in_transaction(request, apply)
    except clinic.InvalidTransition as exc:
        return screens.refused(request, form, f"appointment-{appointment_id}", exc.message)
    if action == Action.START_CALL and appointment.video_room and runs:
        who = Participant(
            id=f"staff-{user.id}", display_name=user.name, moderator=True, email=user.email
        )
        url = provider_from(settings).join_url(appointment.video_room, who, now=utcnow())
        return RedirectResponse(url, status_code=303)
    return RedirectResponse(screens.back(form), status_code=303)


async def message(request: Request) -> Response:
    form = await check_csrf(request, refuse=False)
    appointment_id = _appointment_id(request)
    if "message" in form.refused:
        # Shown on the screen the message was typed on, as its other refusals are.
        said = form.errors({"message": "The message"})["message"]
        return screens.refused(request, form.kept(), f"message-{appointment_id}", said)
    form.refuse()

    async def send(session: AsyncSession) -> None:
        user = await signed_in(request, session, (Role.CLINICIAN, Role.ADMIN))
        appointment = await Access(session, user).appointment(
            appointment_id, action="appointment.message"
        )
        await clinic.send_message(
            session, appointment, form.get("message", ""), actor_user_id=user.id
        )

    try:
        await run_in_transaction(request, send)
    except clinic.InvalidTransition as exc:
        return screens.refused(request, form, f"appointment-{appointment_id}", exc.message)
    except InvalidInput as exc:
        reason = exc.fields.get("message", exc.message)
        return screens.refused(request, form, f"message-{appointment_id}", reason)
    return RedirectResponse(screens.back(form), status_code=303)


async def _hub_for(
    request: Request, session: AsyncSession, user: StaffUser, errors: dict[str, str]
) -> tuple[Site | None, list[Site]]:
    """The hub asked for, among those this member of staff works at."""
    hubs = await screen_data.hubs_for(session, user)
    try:
        site_id = read_id(request.query_params.get("site_id"))
    except ValueError:
        site_id = 0  # no hub has it
    if site_id is None:
        return None, hubs
    site = next((h for h in hubs if h.id == site_id), None)
    if site is None:
        errors["site_id"] = CHOOSE_HUB
    return site, hubs


async def _reception_context(
    request: Request, session: AsyncSession, user: StaffUser, *, full_page: bool
) -> dict[str, object]:
    query = screens.screen_query(request)
    site, hubs = await _hub_for(request, session, user, query.errors)
    shown = site is not None and query.valid
    entries: list[clinic.DayEntry] = []
    if site is not None and query.valid:
        entries = await screens.listed(
            session,
            user,
            query,
            action="reception.view",
            entity_type="site",
            entity_id=site.id,
            site_id=site.id,
        )
    return screens.context(
        request,
        user,
        query,
        title="Reception",
        full_page=full_page,
        shown=shown,
        site=site,
        hubs=hubs,
        rows=await screens.rows(session, entries, user),
        labels=RECEPTION_LABELS,
        filters={"site_id": site.id} if site else {},
    )


async def reception_events(request: Request) -> Response:
    async def chosen(session: AsyncSession) -> Site | None:
        user = await signed_in(request, session, RECEPTION_ROLES)
        site, _ = await _hub_for(request, session, user, {})
        return site

    # The transaction ends before the stream starts: a stream stays open all day.
    site = await run_in_transaction(request, chosen)
    if site is None:
        raise InvalidInput.field("site_id", CHOOSE_HUB)
    return screens.follow(request, f"site:{site.id}")


@transactional
async def travel_page(request: Request, session: AsyncSession) -> Response:
    """One appointment's travel record, as GET /api/v1/appointments/{id}/travel reads it, with
    the appointment it belongs to and a link back to the screen it was opened from."""
    user = await signed_in(request, session, TRAVEL_ROLES)
    appointment = await record_view.reach(session, user, _appointment_id(request))
    patient = await session.get(Patient, appointment.patient_id)
    service = await session.get(Service, appointment.service_id)
    site = await session.get(Site, appointment.site_id) if appointment.site_id else None
    assert patient is not None and service is not None  # foreign keys
    back = request.query_params.get("back", "")
    return templates.TemplateResponse(
        request,
        "staff/appointment_travel.html",
        page_context(
            request,
            user,
            title=f"Travel record: {appointment.reference}",
            appointment=appointment,
            patient=f"{patient.given_name} {patient.family_name}",
            service=service.name,
            when=timefmt.moment(appointment.starts_at),
            how=wording.how(
                appointment.mode, place=site.name if site else None, medium=appointment.medium
            ),
            travel=await record_view.view_of(session, appointment),
            # Back to the screen as it was (its day and filters); never to another site.
            back=back if back.startswith("/staff/") else HOME_FOR_ROLE[Role(user.role)],
        ),
    )


def routes() -> list[Route]:
    clinic_page = screens.screen("staff/clinic.html", CLINIC_ROLES, _clinic_context, full_page=True)
    clinic_table = screens.screen(
        "staff/_clinic_table.html", CLINIC_ROLES, _clinic_context, full_page=False
    )
    reception_page = screens.screen(
        "staff/reception.html", RECEPTION_ROLES, _reception_context, full_page=True
    )
    reception_table = screens.screen(
        "staff/_reception_table.html", RECEPTION_ROLES, _reception_context, full_page=False
    )
    return [
        Route("/staff/clinic", clinic_page),
        Route("/staff/clinic/table", clinic_table),
        Route("/staff/clinic/events", clinic_events, methods=["GET"]),
        Route("/staff/reception", reception_page),
        Route("/staff/reception/table", reception_table),
        Route("/staff/reception/events", reception_events, methods=["GET"]),
        Route("/staff/appointments/{id:int}/action", act, methods=["POST"]),
        Route("/staff/appointments/{id:int}/message", message, methods=["POST"]),
        Route("/staff/appointments/{id:int}/travel", travel_page),
    ]
