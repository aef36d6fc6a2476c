"""The referrals API's request and response shapes (pydantic), also used for OpenAPI."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from scheduling.referral_models import Priority, ReferralStatus
from scheduling.schemas import LondonInstant, Out, Strict
from telehealth.kernel.inputs import MAX_ID, Date, Id
from telehealth.kernel.timefmt import LONDON
from telehealth.kernel.validation import FieldError

# The enums' members as literals, for OpenAPI's inline enums.
PriorityName = Literal[Priority.ROUTINE, Priority.URGENT, Priority.TWO_WEEK_WAIT]
ReferralStatusName = Literal[ReferralStatus.OPEN, ReferralStatus.BOOKED, ReferralStatus.CLOSED]
SourceText = Annotated[str, Field(min_length=1, max_length=100)]


class ReferralIn(Strict):
    patient: Id | dict[str, object] = Field(
        description=(
            "An existing patient's id; or {nhs_number} or {family_name, date_of_birth} to find "
            "one; or a new patient's details (PatientIn), found by NHS number if we have them."
        )
    )
    service_id: Id
    priority: PriorityName = Priority.ROUTINE
    see_by: Date = Field(description="The date by which the patient should be seen")
    notes: Annotated[str, Field(max_length=4000)] | None = Field(
        default=None, description="For the clinician; never in a message to the patient"
    )
    video_suitable: bool = True
    source_system: SourceText | None = Field(
        default=None, description="The sending system: with source_reference, sent twice is one"
    )
    source_reference: SourceText | None = Field(
        default=None, description="The sending system's own id for this referral"
    )

    @field_validator("see_by")
    @classmethod
    def _not_past(cls, value: date) -> date:
        if value < datetime.now(LONDON).date():
            raise ValueError("must not be in the past")
        return value

    @model_validator(mode="after")
    def _source_pair(self) -> ReferralIn:
        if (self.source_system is None) != (self.source_reference is None):
            missing = "source_reference" if self.source_reference is None else "source_system"
            raise FieldError(missing, "give source_system and source_reference together")
        return self


class ReferralOut(Out):
    id: int
    reference: str
    status: ReferralStatusName
    patient_id: int
    service_id: int
    priority: PriorityName
    see_by: date
    notes: str | None
    video_suitable: bool
    source: str
    source_system: str | None
    source_reference: str | None
    invited_at: LondonInstant | None
    help_requested_at: LondonInstant | None
    help_reason: str | None
    appointment_id: int | None
    appointment_reference: str | None = None
    appointment_start: LondonInstant | None = None
    created_at: LondonInstant


class ReferralList(Out):
    items: list[ReferralOut]
    limit: int
    offset: int


class ReferralQuery(Strict):
    status: ReferralStatusName | None = None
    patient_id: Id | None = None
    service_id: Id | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Annotated[int, Field(ge=0, le=MAX_ID)] = 0


class CloseIn(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=500)]
