"""Join tokens: signed, bound to one appointment version; the join window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from telehealth.video.join import (
    RUNNING_LATE,
    JoinClaim,
    Verdict,
    make_token,
    read_token,
    verdict,
)

SECRET = "test-secret"
START = datetime(2027, 1, 12, 9, tzinfo=UTC)
END = START + timedelta(minutes=20)
WINDOW = timedelta(minutes=30)


def test_round_trip() -> None:
    token = make_token(SECRET, appointment_id=42, sequence=3)
    assert read_token(SECRET, token) == JoinClaim(42, 3)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: t.replace(t.split(".")[0], "WzQzLDNd"),  # payload swapped to [43,3]
        lambda t: t[: len(t) // 2],  # truncated
        lambda t: "",
        lambda t: "not-a-token",
    ],
)
def test_tampered_tokens_are_unknown(mangle) -> None:  # type: ignore[no-untyped-def]
    assert read_token(SECRET, mangle(make_token(SECRET, appointment_id=42, sequence=3))) is None


def test_other_secret_is_unknown() -> None:
    assert read_token("other", make_token(SECRET, appointment_id=42, sequence=3)) is None


def _verdict(
    now: datetime, *, status: str = "booked", sequence: int = 0, claimed: int = 0
) -> Verdict:
    return verdict(
        status=status,
        sequence=sequence,
        claim=JoinClaim(1, claimed),
        start=START,
        end=END,
        now=now,
        window=WINDOW,
    )


def test_join_window() -> None:
    assert _verdict(START - WINDOW - timedelta(seconds=1)) == Verdict.TOO_EARLY
    assert _verdict(START - WINDOW) == Verdict.OPEN
    assert _verdict(END - timedelta(seconds=1)) == Verdict.OPEN
    assert _verdict(END) == Verdict.ENDED


def test_cancelled_moved_and_finished() -> None:
    assert _verdict(START, status="cancelled", sequence=1) == Verdict.CANCELLED
    assert _verdict(START, sequence=1, claimed=0) == Verdict.MOVED
    assert _verdict(START, status="fulfilled") == Verdict.ENDED
    assert _verdict(START, status="noshow") == Verdict.ENDED


def test_a_link_carries_the_start_it_was_sent_for() -> None:
    token = make_token(SECRET, appointment_id=42, sequence=3, starts_at=START)
    assert read_token(SECRET, token) == JoinClaim(42, 3, starts_at=START)
    # Links sent before the start was carried still open.
    assert read_token(SECRET, make_token(SECRET, appointment_id=42, sequence=3)) == JoinClaim(42, 3)


def test_a_checked_in_patient_is_not_shut_out_when_the_clinic_runs_late() -> None:
    for status in ("checked-in", "arrived"):
        assert _verdict(END + timedelta(minutes=30), status=status) == Verdict.OPEN
        assert _verdict(END + RUNNING_LATE, status=status) == Verdict.ENDED
    assert _verdict(END, status="booked") == Verdict.ENDED
