"""Who may see and change which patients and appointments: the one policy that every API
operation, staff page and (later) FHIR handler goes through, auditing each read it allows.

    admin, navigator  every patient and appointment
    clinician         the appointments of their own clinics and of the services they are named
                      on (a session of theirs offers it), and the patients of those
    reception         the appointments at the hubs they work at (`staff_sites`), and the
                      patients of those
    analyst           no identities: no patient and no appointment
    a patient         with no login: whoever holds a verified signed link (`LinkHolder`)
                      reaches that patient's own record and appointments (a booking link),
                      or the one appointment a manage link or the lost-link lookup names

What a viewer may not see is reported as not found, exactly as if it did not exist, so an id
reveals nothing. Who may *do* which action (reception checks in, clinicians run the call) is
`scheduling.clinic.ACTION_ROLES`; this module decides *on whose* appointments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, delete, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import (
    Appointment,
    Clinician,
    ClinicianSession,
    Mode,
    Patient,
    SessionService,
    Site,
    SiteKind,
    StaffSite,
)
from telehealth.kernel import audit
from telehealth.kernel.auth.models import Role
from telehealth.kernel.errors import Forbidden, InvalidInput, NotFound

SEES_EVERYONE = frozenset({Role.ADMIN, Role.NAVIGATOR})


# The kinds of patient link a `LinkHolder` holds, as the audit trail names them.
BOOKING_LINK = "booking"  # a referral's invitation: `/book/{token}`
MANAGE_LINK = "manage"  # a message's "Manage your appointment": `/manage/{token}`
LOOKUP = "lookup"  # the reference, date of birth and postcode `/find-appointment` checked
PATIENT = "patient"  # a link holder's role: no staff role, so it sees no one else


class Viewer(Protocol):
    """A signed-in staff member: an API token's Principal or a page's StaffUser."""

    @property
    def id(self) -> int: ...

    @property
    def role(self) -> str: ...


@dataclass(frozen=True, slots=True)
class LinkHolder:
    """A patient acting on their own record with no login: the link was verified (signed and
    unexpired, or the lookup's three facts matched) before this is made. Audited with no staff
    actor, the patient's id and the kind of link in the detail."""

    patient_id: int
    kind: str
    appointment_id: int | None = None  # a manage link or a lookup: this appointment only

    @property
    def role(self) -> str:
        return PATIENT


@dataclass(frozen=True, slots=True)
class Scope:
    """What one viewer may reach, read once per request."""

    everyone: bool = False
    clinician_id: int | None = None
    service_ids: frozenset[int] = frozenset()
    hub_ids: frozenset[int] = frozenset()
    patient_id: int | None = None  # a link holder: this patient's own...
    appointment_id: int | None = None  # ...and, for a manage link, only this appointment

    def appointments(self) -> ColumnElement[bool]:
        """A WHERE clause on `appointments` keeping what this viewer may see."""
        if self.everyone:
            return true()
        if self.patient_id is not None:
            own = Appointment.patient_id == self.patient_id
            if self.appointment_id is None:
                return own
            return own & (Appointment.id == self.appointment_id)
        if self.clinician_id is not None:
            return (Appointment.clinician_id == self.clinician_id) | Appointment.service_id.in_(
                self.service_ids
            )
        if self.hub_ids:
            return Appointment.site_id.in_(self.hub_ids)
        return false()

    def patients(self) -> ColumnElement[bool]:
        """A WHERE clause on `patients`: those with an appointment this viewer may see."""
        if self.everyone:
            return true()
        if self.patient_id is not None:
            return Patient.id == self.patient_id
        return Patient.id.in_(select(Appointment.patient_id).where(self.appointments()))

    def sees(self, appointment: Any) -> bool:
        """The same rule as `appointments()`, for an appointment already in hand."""
        if self.everyone:
            return True
        if self.patient_id is not None:
            return bool(
                appointment.patient_id == self.patient_id
                and self.appointment_id in (None, appointment.id)
            )
        if self.clinician_id is not None:
            return bool(
                appointment.clinician_id == self.clinician_id
                or appointment.service_id in self.service_ids
            )
        return bool(appointment.site_id is not None and appointment.site_id in self.hub_ids)

    def runs(self, appointment: Any) -> bool:
        """May join the call as its moderator: the appointment's own clinician, or an admin."""
        return self.clinician_id is not None and self.clinician_id == appointment.clinician_id


async def scope_of(session: AsyncSession, viewer: Viewer | LinkHolder) -> Scope:
    if isinstance(viewer, LinkHolder):
        return Scope(patient_id=viewer.patient_id, appointment_id=viewer.appointment_id)
    if viewer.role in SEES_EVERYONE:
        return Scope(everyone=True)
    if viewer.role == Role.CLINICIAN:
        rows = (
            await session.execute(
                select(Clinician.id, SessionService.service_id)
                .outerjoin(ClinicianSession, ClinicianSession.clinician_id == Clinician.id)
                .outerjoin(SessionService, SessionService.session_id == ClinicianSession.id)
                .where(Clinician.user_id == viewer.id)
            )
        ).all()
        if not rows:
            return Scope()
        return Scope(
            clinician_id=rows[0].id,
            service_ids=frozenset(r.service_id for r in rows if r.service_id is not None),
        )
    if viewer.role == Role.RECEPTION:
        hubs = await session.scalars(
            select(StaffSite.site_id).where(StaffSite.user_id == viewer.id)
        )
        return Scope(hub_ids=frozenset(hubs))
    return Scope()


async def through_link(session: AsyncSession, *, kind: str, appointment_id: int) -> Access | None:
    """The access of whoever holds a verified link to one appointment (a manage link, or the
    lookup's matched facts): that appointment only, as its patient. None when the link names
    no appointment (the page then says the link does not work)."""
    patient_id = await session.scalar(
        select(Appointment.patient_id).where(Appointment.id == appointment_id)
    )
    if patient_id is None:
        return None
    return Access(session, LinkHolder(patient_id, kind, appointment_id))


async def set_hubs(session: AsyncSession, user: Viewer, site_ids: list[int]) -> list[str]:
    """Replace the hubs a reception login works at; answers with their names."""
    if user.role != Role.RECEPTION:
        raise InvalidInput.field("role", "only reception logins work at hubs")
    hubs = list(
        await session.scalars(
            select(Site).where(Site.id.in_(site_ids), Site.kind == SiteKind.COMMUNITY_HUB.value)
        )
    )
    missing = sorted(set(site_ids) - {h.id for h in hubs})
    if missing:
        raise InvalidInput.field("site", f"no community hub with id {missing[0]}")
    await session.execute(delete(StaffSite).where(StaffSite.user_id == user.id))
    session.add_all(StaffSite(user_id=user.id, site_id=h.id) for h in hubs)
    await session.flush()
    return sorted(h.name for h in hubs)


class Access:
    """One request's view of patient data: reads go through here and are audited here."""

    def __init__(self, session: AsyncSession, viewer: Viewer | LinkHolder) -> None:
        self.session = session
        self.viewer = viewer
        self._scope: Scope | None = None

    async def scope(self) -> Scope:
        if self._scope is None:
            self._scope = await scope_of(self.session, self.viewer)
        return self._scope

    @property
    def sees_everyone(self) -> bool:
        return self.viewer.role in SEES_EVERYONE

    @property
    def actor_user_id(self) -> int | None:
        """The staff user acting, as the audit trail and the changes record them; None for a
        patient acting through their link."""
        return None if isinstance(self.viewer, LinkHolder) else self.viewer.id

    async def audit(
        self,
        action: str,
        entity_type: str,
        entity_id: int | None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        viewer = self.viewer
        if isinstance(viewer, LinkHolder):
            # A patient is no staff user: the audit's actor column stays empty, and the
            # detail says who acted and with which link (no migration for an actor kind).
            detail = {**(detail or {}), "patient_id": viewer.patient_id, "link": viewer.kind}
        await audit.record(
            self.session,
            actor_user_id=self.actor_user_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            detail=detail,
        )

    async def appointment(
        self, appointment_id: int, *, action: str | None, lock: bool = False
    ) -> Appointment:
        """The appointment, if this viewer may see it (locked for a change when `lock`), with
        the read or change recorded as `action` (None: the caller audits what it does)."""
        statement = select(Appointment).where(Appointment.id == appointment_id)
        if lock:
            statement = statement.with_for_update()
        found = await self.session.scalar(statement)
        if found is None or not (await self.scope()).sees(found):
            raise NotFound(f"no appointment with id {appointment_id}")
        if action is not None:
            await self.audit(action, "appointment", found.id, {"patient_id": found.patient_id})
        return found

    async def patient(
        self, patient_id: int, *, action: str | None, field: str | None = None
    ) -> Patient:
        """The patient, if this viewer may see them; `field` names the input for a 422 where
        the id came in a query or body rather than the path. `action` None: the caller audits
        what it does with them (a booking audits itself)."""
        scope = await self.scope()
        found = await self.session.scalar(
            select(Patient).where(Patient.id == patient_id, scope.patients())
        )
        if found is None:
            if field is not None:
                raise InvalidInput.field(field, f"no patient with id {patient_id}")
            raise NotFound(f"no patient with id {patient_id}")
        if action is not None:
            await self.audit(action, "patient", found.id)
        return found

    async def appointments_where(self) -> ColumnElement[bool]:
        return (await self.scope()).appointments()

    async def patients_where(self) -> ColumnElement[bool]:
        return (await self.scope()).patients()

    async def may_book(
        self, *, clinician_id: int, service_id: int, mode: str, site_id: int | None
    ) -> None:
        """A clinician books into their own clinics and services; reception into their hubs."""
        scope = await self.scope()
        if scope.everyone:
            return
        if scope.clinician_id is not None and (
            clinician_id == scope.clinician_id or service_id in scope.service_ids
        ):
            return
        if mode == Mode.VIDEO_SITE and site_id in scope.hub_ids:
            return
        raise Forbidden(self._outside(scope))

    async def may_use_hub(self, site_id: int) -> None:
        scope = await self.scope()
        if not scope.everyone and site_id not in scope.hub_ids:
            raise Forbidden("you can only manage the hubs you work at")

    async def may_run(self, appointment: Appointment) -> bool:
        return self.viewer.role == Role.ADMIN or (await self.scope()).runs(appointment)

    def _outside(self, scope: Scope) -> str:
        if self.viewer.role == Role.CLINICIAN and scope.clinician_id is None:
            return "your account is not linked to a clinician record: ask an admin to link it"
        if self.viewer.role == Role.CLINICIAN:
            return "you can only book into your own clinics and the services you work on"
        if self.viewer.role == Role.RECEPTION:
            return "you can only book video appointments at the hubs you work at"
        return f"the {self.viewer.role} role cannot book appointments"
