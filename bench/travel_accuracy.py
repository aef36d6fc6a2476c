"""How close each estimator comes to published road distances round Morecambe Bay.

    .venv/bin/python bench/travel_accuracy.py [--write]

Reads telehealth/travel/data/{bay_places,road_distances,journey_times}.csv, fits the land
estimator's two factors (the pair with the least sum of squared relative errors over the
`fit` pairs, on a grid of 0.01 steps) and speed (estimated km over published minutes), and
prints, for every pair, the road miles, the straight line x the default circuity, the land
estimate and their errors, and the land estimate's leave-one-out error: the factors fitted
the same way on every other pair (fit and held out), so that no figure is judged by a fit
that saw it. `--write` puts the table into docs/TRAVEL.md between its two `travel-accuracy`
markers.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from telehealth.travel import land  # noqa: E402
from telehealth.travel.maths import FACTORS_2025, KM_PER_MILE, Point, straight_line_km  # noqa: E402

DATA = ROOT / "telehealth" / "travel" / "data"
DOC = ROOT / "docs" / "TRAVEL.md"
BEGIN, END = "<!-- travel-accuracy:begin -->", "<!-- travel-accuracy:end -->"
MILE_KM = float(KM_PER_MILE)
CIRCUITY = float(FACTORS_2025.default_circuity)


@dataclass(frozen=True)
class Pair:
    origin: str
    destination: str
    road_km: float
    use: str
    crow_km: float
    path_km: float


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def places() -> dict[str, Point]:
    return {
        r["place"]: Point(int(r["easting"]), int(r["northing"])) for r in _rows("bay_places.csv")
    }


def pairs(grid: land.LandGrid, where: dict[str, Point]) -> list[Pair]:
    found = []
    for row in _rows("road_distances.csv"):
        a, b = where[row["origin"]], where[row["destination"]]
        path = land.land_path_km(grid, a, b)
        if path is None:
            raise SystemExit(f"{row['origin']} to {row['destination']}: no land path")
        road = float(Decimal(row["road_miles"])) * MILE_KM
        found.append(
            Pair(row["origin"], row["destination"], road, row["use"], straight_line_km(a, b), path)
        )
    return found


def _search(chosen: list[Pair], worse: Callable[[list[float]], float]) -> tuple[float, float]:
    """The (straight, detour) factors, both from 1.00 (never under the straight line) in
    0.01 steps, whose errors over `chosen` `worse` scores lowest (ties: the smaller)."""
    # Each pair's error is a * x + b * y - 1 with x, y its straight and detour km over its
    # road km: worked out once, so the 7,701 factor pairs cost one multiply-add per pair.
    terms = [(p.crow_km / p.road_km, (p.path_km - p.crow_km) / p.road_km) for p in chosen]
    best: tuple[float, int, int] | None = None
    for a in range(100, 151):
        for b in range(100, 251):
            score = worse([(a * x + b * y) / 100 - 1 for x, y in terms])
            if best is None or score < best[0]:
                best = (score, a, b)
    assert best is not None
    return best[1] / 100, best[2] / 100


def _worst(errors: list[float]) -> float:
    return max(abs(e) for e in errors)


def _squares(errors: list[float]) -> float:
    return sum(e * e for e in errors)


def _worst_with(chosen: list[Pair], straight: float, detour: float) -> float:
    return _worst(
        [(straight * p.crow_km + detour * (p.path_km - p.crow_km)) / p.road_km - 1 for p in chosen]
    )


def least_squares(chosen: list[Pair]) -> tuple[float, float, float]:
    """(worst error, straight factor, detour factor) with the least sum of squared relative
    errors over `chosen`: the fit. Measured by leaving each pair out in turn, it does better
    than the least worst error (docs/TRAVEL.md), which chases the one most extreme pair."""
    straight, detour = _search(chosen, _squares)
    return _worst_with(chosen, straight, detour), straight, detour


def least_worst(chosen: list[Pair]) -> tuple[float, float, float]:
    """(worst error, straight factor, detour factor) with the least worst error over
    `chosen`: over every pair at once, the floor that no choice of factors gets under."""
    straight, detour = _search(chosen, _worst)
    return _worst_with(chosen, straight, detour), straight, detour


def fitted_factors(found: list[Pair]) -> tuple[float, float, float]:
    """(worst fit error, straight factor, detour factor) fitted on the `fit` pairs."""
    return least_squares([p for p in found if p.use == "fit"])


def left_out_errors(found: list[Pair]) -> list[float]:
    """Each pair's signed error with the factors fitted the same way on all the others."""
    errors = []
    for i, pair in enumerate(found):
        _, straight, detour = least_squares(found[:i] + found[i + 1 :])
        estimate = straight * pair.crow_km + detour * (pair.path_km - pair.crow_km)
        errors.append(estimate / pair.road_km - 1)
    return errors


def fitted_speed(grid: land.LandGrid, where: dict[str, Point]) -> float:
    km = minutes = 0.0
    for row in _rows("journey_times.csv"):
        estimate = land.road_km(grid, where[row["origin"]], where[row["destination"]])
        assert estimate is not None
        km += estimate
        minutes += float(row["minutes"])
    return km / minutes * 60


def _error(estimate: float, road: float) -> str:
    return f"{(estimate / road - 1) * 100:+.0f}%"


def table(found: list[Pair], left_out: list[float]) -> str:
    lines = [
        "| Pair | Road miles | Straight x 1.3 | Error | Land | Error | Left out | Used to |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p, held in zip(found, left_out, strict=True):
        straight, estimate = p.crow_km * CIRCUITY, land.road_km_from(p.path_km, p.crow_km)
        lines.append(
            f"| {p.origin} to {p.destination} | {p.road_km / MILE_KM:.1f} |"
            f" {straight / MILE_KM:.1f} | {_error(straight, p.road_km)} |"
            f" {estimate / MILE_KM:.1f} | {_error(estimate, p.road_km)} | {held * 100:+.0f}% |"
            f" {p.use.replace('_', ' ')} |"
        )
    return "\n".join(lines)


def _line(label: str, errors: list[float]) -> str:
    within = sum(abs(e) <= 0.10 for e in errors)
    return (
        f"- {label}: mean absolute error {statistics.mean(abs(e) for e in errors) * 100:.0f}%,"
        f" worst {max(abs(e) for e in errors) * 100:.0f}%, {within} of {len(errors)} within 10%"
    )


def summary(found: list[Pair], left_out: list[float]) -> str:
    out = []
    for use in ("fit", "held_out"):
        chosen = [p for p in found if p.use == use]
        group = f"{use.replace('_', ' ')} pairs"
        out.append(
            _line(
                f"{group}, straight x 1.3", [p.crow_km * CIRCUITY / p.road_km - 1 for p in chosen]
            )
        )
        out.append(
            _line(
                f"{group}, land",
                [land.road_km_from(p.path_km, p.crow_km) / p.road_km - 1 for p in chosen],
            )
        )
    out.append(_line("every pair, land, left out (fitted on the others)", left_out))
    bound, straight, detour = least_worst(found)
    out.append(
        f"- no pair of factors does better than a worst error of {bound * 100:.1f}% over all"
        f" {len(found)} pairs at once (straight {straight:.2f}, detour {detour:.2f}, fitted"
        " on them all: a floor, not a result)"
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="update docs/TRAVEL.md")
    args = parser.parse_args(argv)
    grid, where = land.bay_grid(), places()
    found = pairs(grid, where)
    worst, straight, detour = fitted_factors(found)
    speed = fitted_speed(grid, where)
    left_out = left_out_errors(found)
    report = "\n\n".join(
        [
            f"Fitted: straight factor {straight:.2f}, detour factor {detour:.2f} (worst fit"
            f" error {worst * 100:.1f}%); land.py uses {land.STRAIGHT_FACTOR} and"
            f" {land.DETOUR_FACTOR}. Fitted speed {speed:.1f} km/h; land.py uses"
            f" {land.SPEED_KMH}.",
            table(found, left_out),
            summary(found, left_out),
        ]
    )
    print(report)
    if args.write:
        text = DOC.read_text(encoding="utf-8")
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        DOC.write_text(f"{head}{BEGIN}\n{report}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
