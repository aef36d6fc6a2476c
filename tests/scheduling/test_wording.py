"""Appointments in people's words, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scheduling import wording
from scheduling.wording import Visit

TUESDAY = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)  # 9:30am GMT
WEDNESDAY = datetime(2026, 3, 4, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("mode", "place", "medium", "expected"),
    [
        ("video_home", None, None, "Video call from home"),
        ("video_site", "Morecambe hub", None, "Video call at Morecambe hub"),
        ("in_person", "Royal Lancaster Infirmary", None, "In person at Royal Lancaster Infirmary"),
        ("video_home", None, "telephone", "Telephone"),
        ("video_site", "Morecambe hub", "telephone", "Telephone"),
        ("video_home", None, "video", "Video call from home"),
    ],
)
def test_how(mode: str, place: str | None, medium: str | None, expected: str) -> None:
    assert wording.how(mode, place=place, medium=medium) == expected


def test_an_unknown_mode_is_a_bug_not_a_word() -> None:
    with pytest.raises(ValueError, match="unknown appointment mode"):
        wording.how("video_moon")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Diabetes review", "Diabetes review"),
        ("Video review", "Video review"),
        ("Cardiology follow-up", "Cardiology follow-up"),
        ("Physiotherapy appointment", "Physiotherapy appointment"),
        ("Video appointment (cardiology)", "Video appointment (cardiology)"),
        ("Dermatology", "Dermatology appointment"),
        ("Heart failure nurse clinic", "Heart failure nurse clinic appointment"),
    ],
)
def test_service_phrase_never_doubles_up(name: str, expected: str) -> None:
    assert wording.service_phrase(name) == expected


def test_lower_first_keeps_a_place_s_capitals() -> None:
    assert wording.lower_first("Video call at Morecambe hub") == "video call at Morecambe hub"


def test_a_change_of_everything_says_it_all() -> None:
    was = Visit(TUESDAY, "Video call from home", "Dr A")
    now = Visit(WEDNESDAY, "Video call at Morecambe hub", "Dr A")
    assert wording.change_lines(was, now) == (
        "Was: Tuesday 3 March 2026 at 9:30am, video call from home.",
        "Now: Wednesday 4 March 2026 at 10am, video call at Morecambe hub.",
    )


def test_a_change_says_only_what_changed() -> None:
    home = Visit(TUESDAY, "Video call from home", "Dr A")
    later = Visit(WEDNESDAY, "Video call from home", "Dr A")
    assert wording.change_lines(home, later) == (
        "Was: Tuesday 3 March 2026 at 9:30am.",
        "Now: Wednesday 4 March 2026 at 10am.",
    )
    hub = Visit(TUESDAY, "Video call at Morecambe hub", "Dr A")
    assert wording.change_lines(home, hub) == (
        "Was: video call from home.",
        "Now: video call at Morecambe hub.",
    )
    other = Visit(TUESDAY, "Video call from home", "Dr B")
    assert wording.change_lines(home, other) == ("Was: with Dr A.", "Now: with Dr B.")
    assert wording.change_lines(home, home) is None
