"""The scheduling API's request and response shapes (pydantic), also used for OpenAPI."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from scheduling.models import ContactPreference, Mode, Status
from scheduling.slots import to_london
from telehealth.kernel.identifiers import parse_nhs_number, parse_postcode
from telehealth.kernel.inputs import MAX_ID, Date, Id, Instant
from telehealth.kernel.timefmt import LONDON
from telehealth.kernel.validation import FieldError

LocalDate = Date  # fields named `date` shadow the type inside their class
# The enums' members as literals, for OpenAPI's inline enums (test_appointment_shape.py keeps
# them equal to the enums).
ModeName = Literal[Mode.VIDEO_HOME, Mode.VIDEO_SITE, Mode.IN_PERSON]
StatusName = Literal[
    Status.BOOKED,
    Status.CHECKED_IN,
    Status.ARRIVED,
    Status.FULFILLED,
    Status.CANCELLED,
    Status.NOSHOW,
    Status.ENTERED_IN_ERROR,
]
# An instant as the API shows it: Europe/London wall-clock time with its offset.
LondonInstant = Annotated[datetime, AfterValidator(to_london)]
MAX_SLOT_RANGE_DAYS = 62

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UK_MOBILE = re.compile(r"^(?:\+44|0044|0)7\d{9}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# A response shape. The one way an entity (or a row, or any object) becomes a response is
# `SomeOut.model_validate(entity)`, reading the attributes its fields name. (A comment, not a
# docstring: pydantic would publish one in every response's schema.)
class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _postcode(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    return parse_postcode(value)


class PatientIn(Strict):
    given_name: Annotated[str, Field(min_length=1, max_length=100)]
    family_name: Annotated[str, Field(min_length=1, max_length=100)]
    date_of_birth: Date
    nhs_number: str | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    mobile: str | None = None
    postcode: str | None = None
    contact_preference: ContactPreference = ContactPreference.EMAIL
    interpreter_language: Annotated[str, Field(max_length=50)] | None = None
    access_needs: Annotated[str, Field(max_length=2000)] | None = None
    accessible_information: Annotated[str, Field(max_length=200)] | None = None
    companion: Annotated[bool, Field(description="Someone comes with them")] = False

    @field_validator("date_of_birth")
    @classmethod
    def _born(cls, value: date) -> date:
        if value > datetime.now(LONDON).date():
            raise ValueError("must not be in the future")
        return value

    @field_validator("nhs_number")
    @classmethod
    def _nhs(cls, value: str | None) -> str | None:
        return parse_nhs_number(value) if value else None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not EMAIL.match(value):
            raise ValueError("is not an email address")
        return value

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str | None) -> str | None:
        if not value:
            return None
        compact = re.sub(r"[\s()-]", "", value)
        if not _UK_MOBILE.match(compact):
            raise ValueError("is not a UK mobile number (07xxx xxxxxx)")
        return "+44" + compact[-10:]

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str | None) -> str | None:
        return _postcode(value)

    @model_validator(mode="after")
    def _reachable(self) -> PatientIn:
        wants = self.contact_preference
        if wants in (ContactPreference.EMAIL, ContactPreference.BOTH) and not self.email:
            raise FieldError("email", f"is required when contact_preference is {wants.value}")
        if wants in (ContactPreference.SMS, ContactPreference.BOTH) and not self.mobile:
            raise FieldError("mobile", f"is required when contact_preference is {wants.value}")
        return self


class PatientOut(Out):
    id: int
    given_name: str
    family_name: str
    date_of_birth: date
    nhs_number: str | None
    email: str | None
    mobile: str | None
    postcode: str | None
    contact_preference: str
    interpreter_language: str | None
    access_needs: str | None
    accessible_information: str | None
    companion: bool


class PatientQuery(Strict):
    nhs_number: str | None = None
    family_name: str | None = None
    date_of_birth: Date | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50

    @field_validator("nhs_number")
    @classmethod
    def _nhs(cls, value: str | None) -> str | None:
        return parse_nhs_number(value) if value else None


class SlotQuery(Strict):
    service_id: Id
    start: Date
    end: Date
    mode: ModeName | None = None
    site_id: Id | None = None
    clinician_id: Id | None = None

    @model_validator(mode="after")
    def _range(self) -> SlotQuery:
        if self.end < self.start:
            raise FieldError("end", "must not be before start")
        if (self.end - self.start).days >= MAX_SLOT_RANGE_DAYS:
            raise FieldError("end", f"the range may cover at most {MAX_SLOT_RANGE_DAYS} days")
        return self


class SlotOut(Out):
    start: datetime
    end: datetime
    clinician_id: int
    mode: ModeName
    site_id: int | None


class SlotList(BaseModel):
    service_id: int
    timezone: str
    slots: list[SlotOut]


class BookingIn(Strict):
    service_id: Id
    clinician_id: Id
    start: Instant
    mode: ModeName
    site_id: Id | None = None
    patient: Id | dict[str, object] = Field(
        description="An existing patient's id, or the details of a new patient (PatientIn)."
    )


class RescheduleIn(Strict):
    start: Instant
    clinician_id: Id | None = None
    mode: ModeName | None = None
    site_id: Id | None = None


class CancelIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


# An appointment as the API shows it, read straight from an `Appointment` or the row booking
# returns (`AppointmentRow`): the table's columns, less the ones kept inside, with start and
# end named as FHIR names them.
class AppointmentOut(Out):
    id: int
    reference: str
    uid: str
    status: StatusName
    start: LondonInstant = Field(validation_alias=AliasChoices("start", "starts_at"))
    end: LondonInstant = Field(validation_alias=AliasChoices("end", "ends_at"))
    mode: ModeName
    site_id: int | None
    room_id: int | None
    clinician_id: int
    service_id: int
    patient_id: int
    sequence: int
    cancel_reason: str | None
    created_at: LondonInstant
    updated_at: LondonInstant


# The table's columns AppointmentOut leaves out, each on purpose: a new column is either shown
# or listed here (test_appointment_shape.py fails otherwise). The video room's name is a secret.
APPOINTMENT_COLUMNS_NOT_SHOWN = frozenset(
    {
        "busy_until",
        "booked_by_user_id",
        "video_room",
        "medium",
        "checked_in_at",
        "arrived_at",
        "call_started_at",
        "finished_at",
    }
)


class AppointmentList(BaseModel):
    items: list[AppointmentOut]
    limit: int
    offset: int


class AppointmentQuery(Strict):
    clinician_id: Id | None = None
    patient_id: Id | None = None
    service_id: Id | None = None
    site_id: Id | None = None
    status: list[StatusName] | StatusName | None = None
    date: LocalDate | None = Field(default=None, description="One local (Europe/London) date")
    start: LocalDate | None = Field(default=None, description="From this local date, inclusive")
    end: LocalDate | None = Field(default=None, description="To this local date, inclusive")
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=MAX_ID)] = 0

    @model_validator(mode="after")
    def _dates(self) -> AppointmentQuery:
        if self.date is not None and (self.start is not None or self.end is not None):
            raise FieldError("date", "give either date, or start and end, not both")
        if self.start and self.end and self.end < self.start:
            raise FieldError("end", "must not be before start")
        return self

    def statuses(self) -> list[str]:
        if self.status is None:
            return []
        return [self.status] if isinstance(self.status, str) else list(self.status)


class StatusChangeIn(Strict):
    action: Literal[
        "check_in",
        "arrive",
        "start_call",
        "finish",
        "no_show",
        "switch_to_phone",
        "cancel",
        "entered_in_error",
    ]
    reason: Annotated[str, Field(max_length=500)] | None = None


class MessageIn(Strict):
    message: Annotated[str, Field(min_length=1, max_length=280)]


class EventOut(Out):
    id: int
    at: datetime
    action: str
    from_status: str
    to_status: str
    actor: str
    actor_user_id: int | None
    message: str | None


class RoomOut(Out):
    id: int
    site_id: int
    name: str
    active: bool


class ClosureIn(Strict):
    start: Instant
    end: Instant
    reason: Annotated[str, Field(max_length=200)] = ""


class ClosureOut(Out):
    id: int
    room_id: int
    start: datetime
    end: datetime
    reason: str
    to_rebook: list[int] = Field(
        description="Appointments in the room during the closure: rebook each with the patient"
    )
