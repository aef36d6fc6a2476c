"""The land estimator against published road distances: the bounds docs/TRAVEL.md states,
and a cross-validation that never judges a pair by a fit that saw it."""

from __future__ import annotations

import dataclasses

import pytest

from bench import travel_accuracy
from telehealth.travel import land


@pytest.fixture(scope="module")
def found() -> list[travel_accuracy.Pair]:
    return travel_accuracy.pairs(land.bay_grid(), travel_accuracy.places())


@pytest.fixture(scope="module")
def left_out(found: list[travel_accuracy.Pair]) -> list[float]:
    return travel_accuracy.left_out_errors(found)


def test_every_fit_pair_is_within_ten_percent(found: list[travel_accuracy.Pair]) -> None:
    for p in found:
        if p.use == "fit":
            estimate = land.road_km_from(p.path_km, p.crow_km)
            assert abs(estimate / p.road_km - 1) <= 0.10, (p.origin, p.destination)


def test_every_pair_left_out_is_within_the_documented_fourteen_percent(
    found: list[travel_accuracy.Pair], left_out: list[float]
) -> None:
    assert len(left_out) == len(found) >= 17
    worst = max(zip(left_out, found, strict=True), key=lambda x: abs(x[0]))
    assert abs(worst[0]) <= 0.14, (worst[1].origin, worst[1].destination, worst[0])


def test_a_left_out_pair_is_estimated_without_its_own_figure(
    found: list[travel_accuracy.Pair], left_out: list[float]
) -> None:
    # Double the published figure of the pair that drives the fit most (the longest way
    # round for its straight line): its own left-out estimate must not move, while the
    # others, whose fits now see a very different pair, do.
    i = max(range(len(found)), key=lambda k: found[k].road_km / found[k].crow_km)
    changed = list(found)
    changed[i] = dataclasses.replace(found[i], road_km=found[i].road_km * 2)
    again = travel_accuracy.left_out_errors(changed)
    estimate = (left_out[i] + 1) * found[i].road_km
    assert (again[i] + 1) * changed[i].road_km == pytest.approx(estimate, rel=1e-12)
    assert any(
        abs(a - b) > 1e-6 for k, (a, b) in enumerate(zip(again, left_out, strict=True)) if k != i
    )


def test_no_pair_of_factors_meets_ten_percent_everywhere(
    found: list[travel_accuracy.Pair],
) -> None:
    # The floor docs/TRAVEL.md reports: fitting all pairs at once cannot bring the worst
    # under 10%, so missing the goal is the model's form, not the choice of fit pairs.
    worst, straight, detour = travel_accuracy.least_worst(found)
    assert 0.10 < worst < 0.15
    assert straight >= 1 and detour >= 1


def test_the_doc_table_is_what_the_script_writes(
    found: list[travel_accuracy.Pair], left_out: list[float]
) -> None:
    text = travel_accuracy.DOC.read_text(encoding="utf-8")
    assert travel_accuracy.table(found, left_out) in text
    assert travel_accuracy.summary(found, left_out) in text
