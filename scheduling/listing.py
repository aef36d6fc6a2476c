"""Finding appointments: the list the API answers, within what the viewer may see, audited."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from scheduling.access import Access
from scheduling.models import Appointment
from scheduling.schemas import AppointmentQuery
from scheduling.slot_inputs import local_window


async def appointments(access: Access, query: AppointmentQuery) -> Sequence[Appointment]:
    """The page of appointments `query` asks for, in time order, among those `access` reaches;
    the ids returned are audited with the query."""
    statement = (
        select(Appointment)
        .where(await access.appointments_where())
        .order_by(Appointment.starts_at, Appointment.id)
    )
    for column, value in (
        (Appointment.clinician_id, query.clinician_id),
        (Appointment.patient_id, query.patient_id),
        (Appointment.service_id, query.service_id),
        (Appointment.site_id, query.site_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if query.statuses():
        statement = statement.where(Appointment.status.in_(query.statuses()))
    first = query.date or query.start
    last = query.date or query.end
    if first is not None:
        statement = statement.where(Appointment.starts_at >= local_window(first, first).start)
    if last is not None:
        statement = statement.where(Appointment.starts_at < local_window(last, last).end)
    page = statement.limit(query.limit).offset(query.offset)
    rows = list(await access.session.scalars(page))
    await access.audit(
        "appointment.list",
        "appointment",
        None,
        {"query": query.model_dump(mode="json", exclude_none=True), "ids": [a.id for a in rows]},
    )
    return rows
