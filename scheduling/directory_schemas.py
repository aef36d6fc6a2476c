"""The directory's and availability's request and response shapes: organisations, sites,
clinicians, services, sessions and their exceptions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import phonenumbers
from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator

from scheduling.fit import Reason
from scheduling.models import Mode, SiteKind
from scheduling.schemas import EMAIL, AppointmentOut, LocalDate, Out, Strict
from telehealth.kernel.identifiers import parse_postcode
from telehealth.kernel.inputs import MAX_ID, Id, LocalTime
from telehealth.kernel.partial import partial_of
from telehealth.kernel.validation import FieldError


def _uk_phone(value: str) -> str:
    """A UK number people can dial, written as they read it ("0113 496 0000")."""
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        raise ValueError("is not a phone number") from None
    if number.country_code != 44 or not phonenumbers.is_valid_number(number):
        raise ValueError("is not a UK phone number, like 01524 65944")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


# The number messages give patients to call about an appointment.
Phone = Annotated[str, Field(max_length=30), AfterValidator(_uk_phone)]


class OrganisationIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    ods_code: Annotated[str, Field(max_length=10)] | None = None


class OrganisationOut(Out):
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
    directions: (
        Annotated[
            str,
            Field(
                max_length=1000,
                description="How to get there and where to go inside (entrance, desk, floor); "
                "messages give it to patients coming here",
            ),
        ]
        | None
    ) = None
    phone: Phone | None = None

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str) -> str:
        return parse_postcode(value)

    @model_validator(mode="after")
    def _rooms(self) -> SiteIn:
        if self.video_rooms and self.kind != SiteKind.COMMUNITY_HUB:
            raise FieldError("video_rooms", "only community hubs have video rooms")
        return self


class SiteOut(Out):
    id: int
    organisation_id: int
    kind: str
    name: str
    address: str
    postcode: str
    icc: str | None
    video_rooms: int
    active: bool
    directions: str | None
    phone: str | None


class ClinicianIn(Strict):
    organisation_id: Id
    name: Annotated[str, Field(min_length=1, max_length=200)]
    profession: Annotated[str, Field(min_length=1, max_length=100)]
    email: Annotated[str, Field(max_length=254)]
    user_id: Id | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL.match(value):
            raise ValueError("is not an email address")
        return value.lower()


class ClinicianOut(Out):
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
    phone: Annotated[
        Phone | None, Field(description="The number patients call about an appointment")
    ] = None
    change_notice_minutes: Annotated[
        int,
        Field(
            ge=0,
            le=60 * 24 * 30,
            description="Patients may change or cancel online until this long before the start",
        ),
    ] = 0

    @field_validator("modes")
    @classmethod
    def _unique(cls, value: list[Mode]) -> list[Mode]:
        if len(set(value)) != len(value):
            raise ValueError("must not repeat a mode")
        return value


class ServiceOut(Out):
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
    phone: str | None
    change_notice_minutes: int


class SessionIn(Strict):
    """A weekly session; give `date` instead of weekday/valid_from/valid_until for a one-off."""

    weekday: Annotated[int, Field(ge=0, le=6, description="0 = Monday")] | None = None
    date: LocalDate | None = None
    start_time: LocalTime
    end_time: LocalTime
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


class SessionOut(Out):
    id: int
    clinician_id: int
    weekday: int
    start_time: LocalTime
    end_time: LocalTime
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
    start_date: LocalDate
    end_date: LocalDate | None = None
    start_time: LocalTime | None = None
    end_time: LocalTime | None = None
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


class LeaveOut(Out):
    id: int
    clinician_id: int
    kind: Literal["leave"] = "leave"
    start: datetime
    end: datetime
    reason: str


class ExceptionList(BaseModel):
    leave: list[LeaveOut]
    extra_sessions: list[SessionOut]


# --- changes (PATCH) and the appointments they leave to rebook --------------------------------
# Each PATCH body is its create model's fields, optional; the whole is validated by the create
# model itself (`telehealth.kernel.partial`). `active` is what deactivates, and has no create field.

SitePatch = partial_of(
    SiteIn, name="SitePatch", exclude=("organisation_id", "video_rooms"), extra={"active": bool}
)
ClinicianPatch = partial_of(
    ClinicianIn,
    name="ClinicianPatch",
    exclude=("organisation_id",),
    extra={"active": bool},
    doc="Any of a clinician's fields; those left out stay as they are. `user_id` links their "
    "staff login (a clinician's), null unlinks it.",
)
ServicePatch = partial_of(
    ServiceIn, name="ServicePatch", exclude=("organisation_id",), extra={"active": bool}
)


class ClashOut(Out):
    reason: Reason
    message: str


class AppointmentToRebook(BaseModel):
    appointment: AppointmentOut
    clashes: list[ClashOut] = Field(description="Every reason it no longer fits")


AFFECTED = Field(
    description="Future booked appointments this change leaves not fitting. They keep their "
    "times: rebook each with the patient (GET /api/v1/appointments/to-rebook lists them all)."
)


class SiteChangeOut(SiteOut):
    appointments_affected: list[AppointmentToRebook] = AFFECTED


class ClinicianChangeOut(ClinicianOut):
    appointments_affected: list[AppointmentToRebook] = AFFECTED


class ServiceChangeOut(ServiceOut):
    appointments_affected: list[AppointmentToRebook] = AFFECTED


class LeaveCreatedOut(LeaveOut):
    appointments_affected: list[AppointmentToRebook] = Field(
        description="Booked appointments during this leave. They keep their times: rebook "
        "each with the patient."
    )


class SessionRemovedOut(Out):
    appointments_affected: list[AppointmentToRebook] = AFFECTED


class ToRebookQuery(Strict):
    clinician_id: Id | None = None
    service_id: Id | None = None
    site_id: Id | None = None
    start: LocalDate | None = Field(default=None, description="From this local date (default now)")
    end: LocalDate | None = Field(default=None, description="To this local date, inclusive")
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=MAX_ID)] = 0

    @model_validator(mode="after")
    def _dates(self) -> ToRebookQuery:
        if self.start and self.end and self.end < self.start:
            raise FieldError("end", "must not be before start")
        return self


class ToRebookList(BaseModel):
    items: list[AppointmentToRebook]
    limit: int
    offset: int
