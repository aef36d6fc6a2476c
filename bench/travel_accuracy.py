"""How close each estimator comes to published road distances round Morecambe Bay.

    .venv/bin/python bench/travel_accuracy.py [--write]

Reads telehealth/travel/data/{bay_places,road_distances,journey_times}.csv, fits the land
estimator's two factors (the pair with the least worst error over the `fit` pairs, on a grid
of 0.01 steps) and speed (estimated km over published minutes), and prints, for every pair,
the road miles, the straight line x the default circuity, the land estimate and their
errors. `--write` puts
the table into docs/TRAVEL.md between its two `travel-accuracy` markers.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
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


def fitted_factors(found: list[Pair]) -> tuple[float, float, float]:
    """(worst fit error, straight factor, detour factor) with the least worst fit error."""
    fit = [p for p in found if p.use == "fit"]
    best: tuple[float, float, float] | None = None
    for a in range(100, 151):
        for b in range(100, 251):
            worst = max(
                abs((a * p.crow_km + b * (p.path_km - p.crow_km)) / 100 / p.road_km - 1)
                for p in fit
            )
            if best is None or worst < best[0]:
                best = (worst, a / 100, b / 100)
    assert best is not None
    return best


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


def table(found: list[Pair]) -> str:
    lines = [
        "| Pair | Road miles | Straight x 1.3 | Error | Land | Error | Used to |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for p in found:
        straight, estimate = p.crow_km * CIRCUITY, land.road_km_from(p.path_km, p.crow_km)
        lines.append(
            f"| {p.origin} to {p.destination} | {p.road_km / MILE_KM:.1f} |"
            f" {straight / MILE_KM:.1f} | {_error(straight, p.road_km)} |"
            f" {estimate / MILE_KM:.1f} | {_error(estimate, p.road_km)} |"
            f" {p.use.replace('_', ' ')} |"
        )
    return "\n".join(lines)


def summary(found: list[Pair]) -> str:
    out = []
    for use in ("fit", "held_out"):
        chosen = [p for p in found if p.use == use]
        for name in ("straight x 1.3", "land"):
            errors = [
                abs(
                    (
                        p.crow_km * CIRCUITY
                        if name != "land"
                        else land.road_km_from(p.path_km, p.crow_km)
                    )
                    / p.road_km
                    - 1
                )
                for p in chosen
            ]
            within = sum(e <= 0.10 for e in errors)
            out.append(
                f"- {use.replace('_', ' ')} pairs ({len(chosen)}), {name}: mean absolute error"
                f" {statistics.mean(errors) * 100:.0f}%, worst {max(errors) * 100:.0f}%,"
                f" {within} within 10%"
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
    report = "\n\n".join(
        [
            f"Fitted: straight factor {straight:.2f}, detour factor {detour:.2f} (worst fit"
            f" error {worst * 100:.1f}%); land.py uses {land.STRAIGHT_FACTOR} and"
            f" {land.DETOUR_FACTOR}. Fitted speed {speed:.1f} km/h; land.py uses"
            f" {land.SPEED_KMH}.",
            table(found),
            summary(found),
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
