"""The scheduling API's request and response shapes (pydantic), also used for OpenAPI."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from scheduling.models import ContactPreference, Mode, SiteKind, Status
from telehealth.api import FieldError
from telehealth.identifiers import parse_nhs_number, parse_postcode

LONDON = ZoneInfo("Europe/London")
LocalDate = date  # fields named `date` shadow the type inside their class
ModeName = Literal["video_home", "video_site", "in_person"]
StatusName = Literal[
    "booked", "checked-in", "arrived", "fulfilled", "cancelled", "noshow", "entered-in-error"
]
MAX_SLOT_RANGE_DAYS = 62

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UK_MOBILE = re.compile(r"^(?:\+44|0044|0)7\d{9}$")

Id = Annotated[int, Field(gt=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _postcode(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    return parse_postcode(value)


class PatientIn(Strict):
    given_name: Annotated[str, Field(min_length=1, max_length=100)]
    family_name: Annotated[str, Field(min_length=1, max_length=100)]
    date_of_birth: date
    nhs_number: str | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    mobile: str | None = None
    postcode: str | None = None
    contact_preference: ContactPreference = ContactPreference.EMAIL
    interpreter_language: Annotated[str, Field(max_length=50)] | None = None
    access_needs: Annotated[str, Field(max_length=2000)] | None = None

    @field_validator("date_of_birth")
    @classmethod
    def _born(cls, value: date) -> date:
        if value > datetime.now(LONDON).date():
            raise ValueError("must not be in the future")
        if value.year < 1900:
            raise ValueError("must be after 1900")
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
        if not _EMAIL.match(value):
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


class PatientOut(BaseModel):
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


class PatientQuery(Strict):
    nhs_number: str | None = None
    family_name: str | None = None
    date_of_birth: date | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50

    @field_validator("nhs_number")
    @classmethod
    def _nhs(cls, value: str | None) -> str | None:
        return parse_nhs_number(value) if value else None


class SlotQuery(Strict):
    service_id: Id
    start: date
    end: date
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


class SlotOut(BaseModel):
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
    start: AwareDatetime
    mode: ModeName
    site_id: Id | None = None
    patient: int | dict[str, object] = Field(
        description="An existing patient's id, or the details of a new patient (PatientIn)."
    )


class RescheduleIn(Strict):
    start: AwareDatetime
    clinician_id: Id | None = None
    mode: ModeName | None = None
    site_id: Id | None = None


class CancelIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class AppointmentOut(BaseModel):
    id: int
    reference: str
    uid: str
    status: StatusName
    start: datetime
    end: datetime
    mode: ModeName
    site_id: int | None
    room_id: int | None
    clinician_id: int
    service_id: int
    patient_id: int
    sequence: int
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime


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
    offset: Annotated[int, Field(ge=0)] = 0

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


# Directory: organisations, sites, clinicians, services, availability.


class OrganisationIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    ods_code: Annotated[str, Field(max_length=10)] | None = None


class OrganisationOut(BaseModel):
    id: int
    name: str
    ods_code: str | None


class SiteIn(Strict):
    organisation_id: Id
    kind: SiteKind
    name: Annotated[str, Field(min_length=1, max_length=200)]
    address: Annotated[str, Field(max_length=500)] = ""
    postcode: str
    icc: Annotated[str, Field(max_length=100)] | None = None
    video_rooms: Annotated[int, Field(ge=0, le=50)] = 0

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str) -> str:
        return parse_postcode(value)

    @model_validator(mode="after")
    def _rooms(self) -> SiteIn:
        if self.video_rooms and self.kind != SiteKind.COMMUNITY_HUB:
            raise FieldError("video_rooms", "only community hubs have video rooms")
        return self


class SiteOut(BaseModel):
    id: int
    organisation_id: int
    kind: str
    name: str
    address: str
    postcode: str
    icc: str | None
    video_rooms: int
    active: bool


class ClinicianIn(Strict):
    organisation_id: Id
    name: Annotated[str, Field(min_length=1, max_length=200)]
    profession: Annotated[str, Field(min_length=1, max_length=100)]
    email: Annotated[str, Field(max_length=254)]
    user_id: Id | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError("is not an email address")
        return value.lower()


class ClinicianOut(BaseModel):
    id: int
    organisation_id: int
    user_id: int | None
    name: str
    profession: str
    email: str
    active: bool


class ServiceIn(Strict):
    organisation_id: Id
    name: Annotated[str, Field(min_length=1, max_length=200)]
    specialty: Annotated[str, Field(min_length=1, max_length=100)]
    length_minutes: Annotated[int, Field(ge=5, le=480)]
    modes: Annotated[list[Mode], Field(min_length=1)]
    usual_site_id: Id
    min_notice_minutes: Annotated[int, Field(ge=0, le=60 * 24 * 90)] = 0
    horizon_days: Annotated[int, Field(ge=1, le=730)] = 56
    buffer_minutes: Annotated[int, Field(ge=0, le=240)] = 0

    @field_validator("modes")
    @classmethod
    def _unique(cls, value: list[Mode]) -> list[Mode]:
        if len(set(value)) != len(value):
            raise ValueError("must not repeat a mode")
        return value


class ServiceOut(BaseModel):
    id: int
    organisation_id: int
    name: str
    specialty: str
    length_minutes: int
    modes: list[str]
    usual_site_id: int
    min_notice_minutes: int
    horizon_days: int
    buffer_minutes: int
    active: bool


class SessionIn(Strict):
    """A weekly session; give `date` instead of weekday/valid_from/valid_until for a one-off."""

    weekday: Annotated[int, Field(ge=0, le=6, description="0 = Monday")] | None = None
    date: LocalDate | None = None
    start_time: time
    end_time: time
    valid_from: LocalDate | None = None
    valid_until: LocalDate | None = None
    modes: Annotated[list[Mode], Field(min_length=1)]
    service_ids: Annotated[list[Id], Field(min_length=1)]
    site_id: Id | None = None
    hub_ids: list[Id] | None = None
    bank_holidays: bool | None = None

    @model_validator(mode="after")
    def _shape(self) -> SessionIn:
        if self.end_time <= self.start_time:
            raise FieldError("end_time", "must be after start_time")
        if self.date is None and (self.weekday is None or self.valid_from is None):
            raise FieldError("weekday", "give weekday and valid_from for a weekly session, or date")
        if self.date is not None and (self.weekday is not None or self.valid_from is not None):
            raise FieldError("date", "a one-off session takes date only, not weekday or valid_from")
        if self.valid_until and self.valid_from and self.valid_until < self.valid_from:
            raise FieldError("valid_until", "must not be before valid_from")
        if Mode.IN_PERSON in self.modes and self.site_id is None:
            raise FieldError("site_id", "is required when the session offers in_person")
        return self


class SessionOut(BaseModel):
    id: int
    clinician_id: int
    weekday: int
    start_time: time
    end_time: time
    valid_from: date
    valid_until: date | None
    modes: list[str]
    service_ids: list[int]
    site_id: int | None
    hub_ids: list[int] | None
    bank_holidays: bool
    one_off: bool


class ExceptionIn(Strict):
    """An availability exception. `leave`: whole local dates (start_date..end_date), or part of
    a day with start_time/end_time. `extra`: a one-off session on start_date."""

    kind: Literal["leave", "extra"] = "leave"
    start_date: date
    end_date: date | None = None
    start_time: time | None = None
    end_time: time | None = None
    reason: Annotated[str, Field(max_length=200)] = ""
    modes: list[Mode] | None = None
    service_ids: list[Id] | None = None
    site_id: Id | None = None
    hub_ids: list[Id] | None = None

    @model_validator(mode="after")
    def _shape(self) -> ExceptionIn:
        if self.end_date and self.end_date < self.start_date:
            raise FieldError("end_date", "must not be before start_date")
        if (self.start_time is None) != (self.end_time is None):
            raise FieldError("end_time", "give both start_time and end_time, or neither")
        if self.start_time and self.end_time:
            last = self.end_date or self.start_date
            if last == self.start_date and self.end_time <= self.start_time:
                raise FieldError("end_time", "must be after start_time")
        if self.kind == "extra":
            if self.start_time is None or not self.modes or not self.service_ids:
                raise FieldError(
                    "modes", "an extra session needs start_time, end_time, modes, service_ids"
                )
            if self.end_date not in (None, self.start_date):
                raise FieldError("end_date", "an extra session is on one date: leave end_date out")
        return self

    def as_session(self) -> SessionIn:
        assert self.start_time and self.end_time and self.modes and self.service_ids
        return SessionIn(
            date=self.start_date,
            start_time=self.start_time,
            end_time=self.end_time,
            modes=self.modes,
            service_ids=self.service_ids,
            site_id=self.site_id,
            hub_ids=self.hub_ids,
            bank_holidays=True,
        )


class LeaveOut(BaseModel):
    id: int
    clinician_id: int
    kind: Literal["leave"] = "leave"
    start: datetime
    end: datetime
    reason: str


class ExceptionList(BaseModel):
    leave: list[LeaveOut]
    extra_sessions: list[SessionOut]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str


__all__ = ["Status"]


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


class EventOut(BaseModel):
    id: int
    at: datetime
    action: str
    from_status: str
    to_status: str
    actor: str
    actor_user_id: int | None
    message: str | None


class RoomOut(BaseModel):
    id: int
    site_id: int
    name: str
    active: bool


class ClosureIn(Strict):
    start: AwareDatetime
    end: AwareDatetime
    reason: Annotated[str, Field(max_length=200)] = ""


class ClosureOut(BaseModel):
    id: int
    room_id: int
    start: datetime
    end: datetime
    reason: str
    to_rebook: list[int] = Field(
        description="Appointments in the room during the closure: rebook each with the patient"
    )
