"""The demo's outcomes and hub choice: pure, so checked over many draws."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from scheduling.transitions import AppointmentState, next_status
from telehealth.demo.appointments import (
    Outcome,
    draw_outcome,
    nearest_hub,
    outcome_steps,
    patients_by_hub,
)
from telehealth.travel.maths import Point

FINAL = {
    Outcome.ATTENDED: "fulfilled",
    Outcome.TELEPHONE: "fulfilled",
    Outcome.DID_NOT_ATTEND: "noshow",
    Outcome.CANCELLED: "cancelled",
}
CASES = [
    (outcome, mode)
    for outcome in Outcome
    for mode in ("video_home", "video_site", "in_person")
    if outcome != Outcome.TELEPHONE or mode == "video_home"
]


@pytest.mark.parametrize(("outcome", "mode"), CASES)
def test_each_outcome_is_reached_by_changes_the_clinic_allows(outcome: Outcome, mode: str) -> None:
    start = datetime(2026, 6, 16, 8, 0, tzinfo=UTC)  # 09:00 in London
    for length in (15, 20, 30, 45):
        end = start + timedelta(minutes=length)
        for seed in range(200):
            steps = outcome_steps(outcome, mode, start, end, random.Random(seed))
            state = AppointmentState(status="booked", start=start, end=end)
            for before, step in zip([None, *steps], steps, strict=False):
                assert before is None or before.at < step.at
                # Refused (TransitionRefused) if the clinic would not allow it then.
                status = next_status(state, step.action, now=step.at)
                state = AppointmentState(status=status, start=start, end=end)
            assert state.status == FINAL[outcome]
            if outcome == Outcome.CANCELLED:
                assert steps[-1].at < start - timedelta(hours=12) and steps[-1].reason
            else:
                assert steps[-1].at > start
            actions = [s.action.value for s in steps]
            assert ("start_call" in actions) == (
                mode != "in_person" and outcome in (Outcome.ATTENDED, Outcome.TELEPHONE)
            )
            assert ("switch_to_phone" in actions) == (outcome == Outcome.TELEPHONE)


def test_outcomes_come_at_a_clinic_s_rates() -> None:
    rng = random.Random(1)
    home = Counter(draw_outcome(rng, "video_home") for _ in range(20_000))
    hub = Counter(draw_outcome(rng, "video_site") for _ in range(20_000))
    assert hub[Outcome.TELEPHONE] == 0 and home[Outcome.TELEPHONE] > 0
    for counts in (home, hub):
        assert 0.08 < counts[Outcome.CANCELLED] / 20_000 < 0.12
        assert 0.06 < counts[Outcome.DID_NOT_ATTEND] / 20_000 < 0.10


def test_the_nearest_hub_is_chosen() -> None:
    hubs = {1: Point(347000, 464000), 2: Point(365000, 491000), 3: Point(349000, 470000)}
    assert nearest_hub(Point(346000, 463000), hubs) == 1
    assert nearest_hub(Point(364000, 490000), hubs) == 2
    assert nearest_hub(Point(348000, 467000), {1: hubs[1], 3: hubs[3]}) == 1  # a tie: lower id
    by_hub = patients_by_hub({10: Point(346000, 463000), 11: None, 12: Point(349500, 470500)}, hubs)
    assert by_hub == {1: [10], 2: [], 3: [12]}
