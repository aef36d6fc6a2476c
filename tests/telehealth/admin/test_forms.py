"""The admin forms' shared plumbing, without a database: a service's refusal read onto the
form's fields (labelled, renamed, or at the fallback), and the fields a form really changes."""

from __future__ import annotations

from types import SimpleNamespace

import pydantic
import pytest

from scheduling.directory_schemas import SiteIn
from telehealth.admin import forms
from telehealth.kernel.errors import Conflict, InvalidInput

LABELS = {"name": "Name", "postcode": "Postcode", "video_rooms": "Video rooms", "hubs": "Hubs"}


def _refusal(**body: object) -> pydantic.ValidationError:
    with pytest.raises(pydantic.ValidationError) as caught:
        SiteIn.model_validate({"organisation_id": 1, "kind": "community_hub", **body})
    return caught.value


def test_pydantics_messages_take_the_fields_label() -> None:
    refusal = _refusal(name="Hub", postcode="nowhere", video_rooms=51)
    assert forms.field_errors(refusal, LABELS, fallback="name") == {
        "postcode": "Postcode is not a valid UK postcode",
        "video_rooms": "Video rooms must be 50 or less",
    }
    assert forms.status_of(refusal) == 422


def test_a_message_that_names_its_field_is_kept_as_it_is() -> None:
    refusal = InvalidInput.field("name", "name must be 1 to 200 characters")
    assert forms.field_errors(refusal, LABELS, fallback="postcode") == {
        "name": "Name must be 1 to 200 characters"
    }


def test_the_services_name_for_a_field_is_renamed_and_an_unknown_one_falls_back() -> None:
    refusal = InvalidInput("two", fields={"site": "no community hub with id 9", "icc": "too long"})
    found = forms.field_errors(refusal, LABELS, fallback="name", rename={"site": "hubs"})
    assert found == {"hubs": "Hubs no community hub with id 9", "name": "Name too long"}


def test_a_refusal_naming_no_field_is_shown_at_the_fallback_as_a_sentence() -> None:
    refusal = Conflict("a site named 'Hub' already exists")
    assert forms.field_errors(refusal, LABELS, fallback="name") == {
        "name": "A site named 'Hub' already exists"
    }
    assert forms.status_of(refusal) == 409


def test_only_the_values_that_differ_are_changes() -> None:
    row = SimpleNamespace(name="Hub", active=True, modes=("video_home",))
    wanted = {"name": "Hub", "active": False, "modes": ["video_home"]}
    assert forms.changed(row, wanted) == {"active": False}
    assert forms.changed(row, {"modes": ["in_person"]}) == {"modes": ["in_person"]}
