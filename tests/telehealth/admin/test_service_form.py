"""Reading the service form without a database: numbers in the form's units, a new service's
extra questions, and what is not a number of hours (including "inf" and "nan")."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from telehealth.admin.service_form import BLANK, changes_from, new_service_from


def _posted(**changes: str | list[str]) -> FormData:
    values = {k: v for k, v in BLANK.items() if k != "modes"} | {
        "length_minutes": "20",
        "usual_site_id": "3",
    }
    items = [(k, v) for k, v in (values | changes).items() if not isinstance(v, list)]
    modes = changes.get("modes", ["video_home"])
    return FormData(items + [("modes", m) for m in modes])


def test_hours_become_the_services_minutes() -> None:
    shown, changes = changes_from(_posted(min_notice_hours="1.5", change_notice_hours="24"))
    assert shown.errors == {}
    assert (changes["min_notice_minutes"], changes["change_notice_minutes"]) == (90, 1440)
    assert (changes["length_minutes"], changes["usual_site_id"]) == (20, 3)


@pytest.mark.parametrize("typed", ["inf", "nan", "-1", "a day", "1.001", ""])
def test_what_is_not_a_number_of_hours_is_named(typed: str) -> None:
    shown, changes = changes_from(_posted(min_notice_hours=typed))
    assert shown.errors == {"min_notice_hours": "Enter the booking notice in hours"}
    assert "min_notice_minutes" not in changes


def test_a_new_service_asks_its_organisation_name_and_specialty() -> None:
    shown, _ = new_service_from(_posted(modes=[]))
    assert list(shown.ordered_errors()) == ["organisation_id", "name", "specialty", "modes"]
    shown, wanted = new_service_from(
        _posted(organisation_id="7", name="Heart failure", specialty="Cardiology")
    )
    assert shown.errors == {} and "active" not in wanted
    assert (wanted["organisation_id"], wanted["modes"]) == (7, ["video_home"])
