"""The appointment is described once, by its table; the row booking returns is that table's
columns, and the API's `AppointmentOut` takes its fields from them and cannot drift unnoticed."""

from __future__ import annotations

import types
import typing
from datetime import time, timedelta

from pydantic import AliasChoices
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import booking
from scheduling.models import Appointment, Mode, Status
from scheduling.placement import place
from scheduling.schemas import (
    APPOINTMENT_COLUMNS_NOT_SHOWN,
    AppointmentOut,
    ModeName,
    StatusName,
)
from scheduling.slots import london_datetime
from telehealth.kernel.db import table_of
from tests.builders import make_clinic, make_patient, next_weekday

_TABLE = table_of(Appointment)


def _optional(annotation: object) -> tuple[object, bool]:
    """(the type, whether None is allowed) of `int`, `int | None`, ..."""
    if isinstance(annotation, types.UnionType):
        parts = [a for a in typing.get_args(annotation) if a is not type(None)]
        assert len(parts) == 1
        return parts[0], True
    return annotation, False


def _column_read(field: str) -> str:
    """The row's column an AppointmentOut field is read from."""
    alias = AppointmentOut.model_fields[field].validation_alias
    if isinstance(alias, AliasChoices):
        last = alias.choices[-1]
        assert isinstance(last, str)
        return last
    return field


def test_the_response_reads_every_field_from_the_row() -> None:
    read = [_column_read(field) for field in AppointmentOut.model_fields]
    assert len(read) == len(set(read))
    assert set(read) <= set(_TABLE.c.keys())


def test_every_column_is_shown_or_kept_inside_on_purpose() -> None:
    shown = {_column_read(field) for field in AppointmentOut.model_fields}
    assert not shown & APPOINTMENT_COLUMNS_NOT_SHOWN
    assert shown | APPOINTMENT_COLUMNS_NOT_SHOWN == set(_TABLE.c.keys())
    assert "video_room" not in shown  # the room's name is what lets anyone join the call


def test_the_responses_nullability_is_the_columns() -> None:
    hints = typing.get_type_hints(AppointmentOut)
    for field in AppointmentOut.model_fields:
        _, optional = _optional(hints[field])
        assert optional == _TABLE.c[_column_read(field)].nullable, field


def test_status_and_mode_names_are_the_enums() -> None:
    assert set(typing.get_args(StatusName)) == set(Status)
    assert set(typing.get_args(ModeName)) == set(Mode)


async def test_a_booked_row_and_its_entity_show_the_same(session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    patient = await make_patient(session)
    for hour, mode, site_id in ((9, "video_home", None), (10, "video_site", clinic.hub.id)):
        start = london_datetime(next_weekday(1, weeks=2), time(hour))
        placement = await place(
            session,
            service_id=clinic.service.id,
            clinician_id=clinic.clinician.id,
            mode=mode,
            site_id=site_id,
            start=start,
        )
        row = await booking.book(
            session, placement=placement, patient_id=patient.id, booked_by=None
        )
        entity = await booking.get_appointment(session, row.id)
        # The row is the table, column for column, and holds what the entity holds.
        assert row._fields == tuple(_TABLE.c.keys())
        assert tuple(getattr(entity, f) for f in row._fields) == tuple(row)
        shown = AppointmentOut.model_validate(row)
        assert shown == AppointmentOut.model_validate(entity)
        assert shown.start == start and shown.end == start + timedelta(minutes=20)
        assert str(shown.start.tzinfo) == "Europe/London"
