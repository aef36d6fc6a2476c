"""Calendar invites, read back by icalendar and by an independent parser (`ics`, whose
VTIMEZONE handling is dateutil's `tzical`), so a mistake shared with icalendar still shows."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any, cast

import ics
import pytest
from dateutil.tz import tzical
from icalendar import Calendar, Event, vCalAddress

from notifications.invites import Attendee, Invite, build_calendar, build_feed

JOIN_URL = "https://video.bay-telehealth.nhs.uk/room/3f2a9c1e-1234-4c5d-9e8f-0123456789ab"
STAMP = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def make_invite(**changes: Any) -> Invite:
    invite = Invite(
        uid="5b0c6a52-96a4-4f3e-9d0a-2c1f7f3b8e11@bay-telehealth.nhs.uk",
        sequence=0,
        method="REQUEST",
        start=datetime(2027, 3, 30, 8, 0, tzinfo=UTC),
        end=datetime(2027, 3, 30, 8, 30, tzinfo=UTC),
        summary="Cardiology follow-up (video)",
        location="Video call from home",
        organizer_email="appointments@bay-telehealth.nhs.uk",
        organizer_name="Bay Telehealth appointments",
        attendees=(
            Attendee("patient@example.org", "Siân O'Brien, Jr"),
            Attendee("clinician@example.nhs.uk", "Dr Ada Clinician", role="CHAIR", rsvp=False),
        ),
        join_url=JOIN_URL,
        description="Join from a quiet, private place. To change or cancel, call 01524 583954.",
        dtstamp=STAMP,
    )
    return dataclasses.replace(invite, **changes)


def parse(data: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(data)
    [event] = calendar.events
    return calendar, event


def parse_independently(data: bytes) -> ics.Calendar:
    return ics.Calendar(data.decode("utf-8"))


def sequence_of(event: ics.Event) -> int:
    [line] = [line for line in event.extra if line.name == "SEQUENCE"]
    return int(line.value)


def lines(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


# --- times and time zones ---------------------------------------------------------------

CLOCK_CHANGES = [
    # (UTC start, London wall clock): 2027-03-28 clocks go forward, 2027-10-31 back.
    pytest.param(datetime(2027, 3, 23, 9, 0, tzinfo=UTC), "20270323T090000", id="GMT-before-march"),
    pytest.param(datetime(2027, 3, 28, 8, 0, tzinfo=UTC), "20270328T090000", id="BST-change-day"),
    pytest.param(datetime(2027, 3, 30, 8, 0, tzinfo=UTC), "20270330T090000", id="BST-after-march"),
    pytest.param(datetime(2027, 10, 26, 8, 0, tzinfo=UTC), "20271026T090000", id="BST-before-oct"),
    pytest.param(datetime(2027, 10, 31, 9, 0, tzinfo=UTC), "20271031T090000", id="GMT-change-day"),
    pytest.param(datetime(2027, 11, 2, 9, 0, tzinfo=UTC), "20271102T090000", id="GMT-after-oct"),
]


@pytest.mark.parametrize(("start", "wall_clock"), CLOCK_CHANGES)
def test_times_are_london_local_and_parse_back_to_the_same_instant(
    start: datetime, wall_clock: str
) -> None:
    end = start + timedelta(minutes=30)
    data = build_calendar(make_invite(start=start, end=end))

    assert f"DTSTART;TZID=Europe/London:{wall_clock}".encode() in lines(data)
    _, event = parse(data)
    assert event.start == start and event.end == end
    assert isinstance(event.start, datetime)
    assert str(event.start.tzinfo) == "Europe/London"
    other = next(iter(parse_independently(data).events))
    assert other.begin.to("UTC").datetime == start
    assert other.end.to("UTC").datetime == end


@pytest.mark.parametrize(("start", "wall_clock"), CLOCK_CHANGES)
def test_the_vtimezone_itself_gives_the_right_offset(start: datetime, wall_clock: str) -> None:
    """Clients such as Outlook read the VTIMEZONE, not their own database: check it alone."""
    data = build_calendar(make_invite(start=start, end=start + timedelta(minutes=30)))
    calendar, _ = parse(data)

    [timezone] = calendar.timezones
    assert timezone.tz_name == "Europe/London"
    assert {c.name for c in timezone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    wall = datetime.strptime(wall_clock, "%Y%m%dT%H%M%S")
    block = re.search(rb"BEGIN:VTIMEZONE\r\n.*?END:VTIMEZONE\r\n", data, re.S)
    assert block is not None
    by_dateutil = tzical(StringIO(block.group(0).decode())).get("Europe/London")
    assert wall.replace(tzinfo=by_dateutil).astimezone(UTC) == start
    assert wall.replace(tzinfo=timezone.to_tz()).astimezone(UTC) == start


def test_vtimezone_covers_the_events_year_without_rdates() -> None:
    data = build_calendar(
        make_invite(
            start=datetime(2027, 12, 31, 10, tzinfo=UTC), end=datetime(2027, 12, 31, 11, tzinfo=UTC)
        )
    )
    calendar, _ = parse(data)

    [timezone] = calendar.timezones
    onsets = sorted(c.DTSTART for c in timezone.subcomponents)
    assert onsets[0] <= datetime(2027, 1, 1) and onsets[-1].year == 2027
    assert b"RDATE" not in data  # Outlook ignores RDATE in VTIMEZONE


def test_an_appointment_crossing_new_year_gets_both_years() -> None:
    data = build_calendar(
        make_invite(
            start=datetime(2027, 12, 31, 23, 30, tzinfo=UTC),
            end=datetime(2028, 1, 1, 0, 30, tzinfo=UTC),
        )
    )
    _, event = parse(data)
    assert b"This timezone only works from 2027-01-01 to 2029-01-01." in data
    assert event.end == datetime(2028, 1, 1, 0, 30, tzinfo=UTC)


def test_the_repeated_hour_in_october_is_written_in_utc() -> None:
    first = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 01:30 BST
    second = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 01:30 GMT, an hour later
    data = build_calendar(make_invite(start=first, end=second + timedelta(minutes=15)))

    assert b"DTSTART;TZID=Europe/London:20271031T013000" in lines(data)
    assert b"DTEND:20271031T014500Z" in lines(data)
    _, event = parse(data)
    # PEP 495: a time in the repeated hour never compares equal across zones; convert first.
    assert isinstance(event.start, datetime) and isinstance(event.end, datetime)
    assert event.start.astimezone(UTC) == first
    assert event.end.astimezone(UTC) == second + timedelta(minutes=15)
    other = next(iter(parse_independently(data).events))
    assert other.begin.to("UTC").datetime == first
    assert other.end.to("UTC").datetime == second + timedelta(minutes=15)


def test_dtstamp_is_utc_and_defaults_to_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    _, event = parse(build_calendar(make_invite(dtstamp=None)))
    assert before <= event.DTSTAMP <= datetime.now(UTC)
    assert b"DTSTAMP:20270301T120000Z" in lines(build_calendar(make_invite()))


# --- the iTIP life of one appointment ----------------------------------------------------


def test_request_then_reschedule_then_cancel() -> None:
    booked = make_invite()
    moved = dataclasses.replace(
        booked,
        sequence=1,
        start=datetime(2027, 11, 2, 9, 0, tzinfo=UTC),
        end=datetime(2027, 11, 2, 9, 30, tzinfo=UTC),
    )
    cancelled = dataclasses.replace(moved, sequence=2, method="CANCEL")

    seen = []
    for invite in (booked, moved, cancelled):
        data = build_calendar(invite)
        calendar, event = parse(data)
        other = parse_independently(data)
        [other_event] = other.events
        assert calendar["METHOD"] == other.method == invite.method
        assert event.uid == other_event.uid == booked.uid
        assert event.sequence == sequence_of(other_event) == invite.sequence
        assert event.start == other_event.begin.to("UTC").datetime == invite.start
        assert event["STATUS"] == other_event.status
        seen.append(
            (invite.method, event["STATUS"], event.sequence, [c.name for c in event.subcomponents])
        )

    assert seen == [
        ("REQUEST", "CONFIRMED", 0, ["VALARM"]),
        ("REQUEST", "CONFIRMED", 1, ["VALARM"]),
        ("CANCEL", "CANCELLED", 2, []),  # RFC 5546: no VALARM in CANCEL
    ]


def test_calendar_headers() -> None:
    data = build_calendar(make_invite())
    calendar, _ = parse(data)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"] == "-//Bay Telehealth//Appointment invites//EN"
    assert "UID" not in calendar  # only the event has one
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert build_calendar(make_invite()) == data  # deterministic given a DTSTAMP


def test_event_properties() -> None:
    data = build_calendar(make_invite())
    _, event = parse(data)

    assert event["SUMMARY"] == "Cardiology follow-up (video)"
    assert event["LOCATION"] == "Video call from home"
    assert str(event["DESCRIPTION"]).startswith("Join from a quiet, private place.")
    assert event["CLASS"] == "PRIVATE"
    assert event["TRANSP"] == "OPAQUE"
    assert event["STATUS"] == "CONFIRMED"
    assert event["URL"] == JOIN_URL
    organizer = event["ORGANIZER"]
    assert organizer == "mailto:appointments@bay-telehealth.nhs.uk"
    assert organizer.params["CN"] == "Bay Telehealth appointments"


def test_attendees() -> None:
    data = build_calendar(make_invite())
    _, event = parse(data)

    patient, clinician = cast(list[vCalAddress], event["ATTENDEE"])
    assert patient == "mailto:patient@example.org"
    assert dict(patient.params) == {
        "CN": "Siân O'Brien, Jr",
        "ROLE": "REQ-PARTICIPANT",
        "PARTSTAT": "NEEDS-ACTION",
        "RSVP": "TRUE",
    }
    assert clinician.params["ROLE"] == "CHAIR" and clinician.params["RSVP"] == "FALSE"
    other = next(iter(parse_independently(data).events))
    by_email = {a.email: a for a in other.attendees}
    assert by_email["patient@example.org"].common_name == "Siân O'Brien, Jr"
    assert by_email["clinician@example.nhs.uk"].role == "CHAIR"


def test_conference_property_for_video() -> None:
    data = build_calendar(make_invite())
    _, event = parse(data)

    unfolded = data.replace(b"\r\n ", b"")
    expected = "CONFERENCE;FEATURE=AUDIO,VIDEO;LABEL=Join the video call;VALUE=URI:"
    assert (expected + JOIN_URL).encode() in unfolded.split(b"\r\n")
    [conference] = event.conferences
    assert conference.uri == JOIN_URL
    assert conference.feature == ["AUDIO", "VIDEO"]
    assert conference.label == "Join the video call"


def test_no_join_url_means_no_url_or_conference() -> None:
    data = build_calendar(make_invite(join_url=None, location="Westmorland General Hospital"))
    _, event = parse(data)
    assert "URL" not in event and "CONFERENCE" not in event
    assert event["LOCATION"] == "Westmorland General Hospital"


def test_reminder_alarm() -> None:
    _, event = parse(build_calendar(make_invite()))
    [alarm] = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm["TRIGGER"].to_ical() == b"-PT1H"
    assert alarm["DESCRIPTION"] == "Reminder: Cardiology follow-up (video)"
    other = next(iter(parse_independently(build_calendar(make_invite())).events))
    assert [a.trigger for a in other.alarms] == [timedelta(hours=-1)]

    _, event = parse(build_calendar(make_invite(reminder=timedelta(minutes=15))))
    assert event.walk("VALARM")[0]["TRIGGER"].to_ical() == b"-PT15M"
    _, event = parse(build_calendar(make_invite(reminder=None)))
    assert event.walk("VALARM") == []


def test_long_lines_are_folded_at_75_octets_with_crlf() -> None:
    description = "Cliciwch y ddolen i ymuno â'r alwad fideo. " * 20 + "\nThen wait to be let in."
    data = build_calendar(make_invite(description=description, summary="Ymgynghoriad ffôn " * 6))

    assert b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in lines(data))
    assert any(line.startswith(b" ") for line in lines(data))
    _, event = parse(data)
    assert event["DESCRIPTION"] == description
    other = next(iter(parse_independently(data).events))
    assert other.description == description


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize("nhs_number", ["485 777 3456", "4857773456", "485-777-3456"])
@pytest.mark.parametrize("field", ["summary", "description", "location"])
def test_refuses_text_that_looks_like_an_nhs_number(field: str, nhs_number: str) -> None:
    invite = make_invite(**{field: f"Patient ref: {nhs_number}."})
    with pytest.raises(ValueError, match="NHS number"):
        build_calendar(invite)
    with pytest.raises(ValueError, match="NHS number"):
        build_feed([invite], name="Appointments")


@pytest.mark.parametrize(
    "text",
    [
        "Call 01524 583954 or 0300 123 4567 to change.",
        f"Join at {JOIN_URL}?jwt=eyJhbGciOi.1234567890ab",
        "Booking reference BT-2027-0001234567-X",
        "Room 485 777",
    ],
)
def test_allows_phone_numbers_links_and_references(text: str) -> None:
    _, event = parse(build_calendar(make_invite(description=text)))
    assert event["DESCRIPTION"] == text


@pytest.mark.parametrize(
    "changes",
    [
        {"start": datetime(2027, 3, 30, 8, 0)},  # naive
        {"end": datetime(2027, 3, 30, 7, 0, tzinfo=UTC)},  # before start
        {"sequence": -1},
        {"attendees": ()},
        {"attendees": (Attendee("a@example.org", "A", role="BOSS"),)},
        {"reminder": timedelta(hours=-1)},
    ],
)
def test_refuses_invites_that_must_not_be_sent(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        build_calendar(make_invite(**changes))


# --- subscription feed -------------------------------------------------------------------


def test_feed_lists_events_including_a_cancelled_one() -> None:
    kept = make_invite(uid="a@bay-telehealth.nhs.uk")
    moved = make_invite(
        uid="b@bay-telehealth.nhs.uk",
        sequence=1,
        start=datetime(2027, 11, 2, 9, 0, tzinfo=UTC),
        end=datetime(2027, 11, 2, 9, 30, tzinfo=UTC),
        join_url=None,
        location="Furness General Hospital, Dalton Lane, Barrow-in-Furness LA14 4LF",
    )
    dropped = make_invite(
        uid="c@bay-telehealth.nhs.uk",
        sequence=2,
        method="CANCEL",
        start=datetime(2028, 3, 23, 9, 0, tzinfo=UTC),
        end=datetime(2028, 3, 23, 9, 30, tzinfo=UTC),
    )
    data = build_feed([kept, moved, dropped], name="My Bay Telehealth appointments")

    calendar = Calendar.from_ical(data)
    assert "METHOD" not in calendar
    assert calendar["X-WR-CALNAME"] == calendar["NAME"] == "My Bay Telehealth appointments"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in lines(data)
    [timezone] = calendar.timezones
    assert timezone.tz_name == "Europe/London"
    events = {e.uid: e for e in calendar.events}
    assert {uid: (e["STATUS"], e.sequence, e.start) for uid, e in events.items()} == {
        kept.uid: ("CONFIRMED", 0, kept.start),
        moved.uid: ("CONFIRMED", 1, moved.start),
        dropped.uid: ("CANCELLED", 2, dropped.start),
    }
    assert events[dropped.uid].walk("VALARM") == [] and len(events[kept.uid].walk("VALARM")) == 1
    for event in events.values():  # a feed is not an invitation: no e-mail addresses
        assert "ORGANIZER" not in event and "ATTENDEE" not in event

    other = {e.uid: e for e in parse_independently(data).events}
    assert {uid: (e.status, e.begin.to("UTC").datetime) for uid, e in other.items()} == {
        kept.uid: ("CONFIRMED", kept.start),
        moved.uid: ("CONFIRMED", moved.start),
        dropped.uid: ("CANCELLED", dropped.start),
    }


def test_empty_feed() -> None:
    calendar = Calendar.from_ical(build_feed([], name="Nothing booked"))
    assert calendar.events == [] and calendar.timezones == []
