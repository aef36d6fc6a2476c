"""A posted form's NUL refusals (`inputs.Posted`) and pydantic's errors in plain words
(`validation.plain_fields`)."""

from __future__ import annotations

from datetime import date
from typing import Literal

import pydantic
import pytest

from telehealth.kernel.errors import InvalidInput
from telehealth.kernel.inputs import Posted
from telehealth.kernel.validation import FieldError, plain_fields


def test_a_posted_form_names_each_field_holding_a_nul_once_and_keeps_the_rest() -> None:
    form = Posted([("a", "ok"), ("b", "x\x00y"), ("c", "fine"), ("b", "\x00"), ("d\x00", "")])
    assert form.refused == ("b", "d\x00")
    assert form["b"] == "\x00"  # the last value sent, as Starlette's form gives it
    assert form.kept() == {"a": "ok", "b": "", "c": "fine", "d\x00": ""}
    assert form.errors({"b": "Reason"}) == {
        "b": "Reason contains a hidden character (NUL) that cannot be saved: type it again",
        "d\x00": "This answer contains a hidden character (NUL) that cannot be saved: "
        "type it again",
    }
    with pytest.raises(InvalidInput) as caught:
        form.refuse()
    assert caught.value.fields == {"b": "must not contain a NUL character (U+0000)"}
    Posted([("a", "ok")]).refuse()  # nothing to refuse


class _Leave(pydantic.BaseModel):
    reason: str = pydantic.Field(max_length=200)
    start_date: date
    mode: Literal["video_home", "in_person"]
    video_rooms: int = pydantic.Field(le=50)
    notes: str
    site_id: int | None = None

    @pydantic.model_validator(mode="after")
    def _site(self) -> _Leave:
        if self.mode == "in_person" and self.site_id is None:
            raise FieldError("site_id", "is required when the session offers in_person")
        return self


LABELS = {
    "reason": "Reason",
    "start_date": "Start date",
    "mode": "How the patient is seen",
    "video_rooms": "Video rooms",
    "notes": "Notes for the clinician",
    "site_id": "Site",
}


def test_pydantics_errors_read_as_the_nhs_service_manual_words_them() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        _Leave.model_validate(
            {"reason": "x" * 201, "start_date": "2027-02-30", "mode": "bus", "video_rooms": 51}
        )
    assert plain_fields(caught.value, LABELS) == {
        "reason": "Reason must be 200 characters or fewer",
        "start_date": "Start date must be a real date",
        "mode": "Select how the patient is seen",
        "video_rooms": "Video rooms must be 50 or less",
        "notes": "Enter notes for the clinician",
    }


def test_a_rule_of_the_services_own_names_its_field_by_label() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        _Leave.model_validate(
            {"reason": "", "start_date": "2027-03-01", "mode": "in_person", "video_rooms": 1,
             "notes": ""}
        )  # fmt: skip
    assert plain_fields(caught.value, LABELS) == {
        "site_id": "Site is required when the session offers in person"
    }
