"""Road-like distances round Morecambe Bay's water, from where the postcodes are.

A road goes where people live: a grid cell that holds a postcode is *held* land, a cell
beside one is *near* land, and the Bay's sands and estuaries, which hold none, are water.
The cheapest path over land (near cells cost NEAR_COST times their length, so a path keeps
to settled cells and crosses open ground only where going round would cost more) has a
length, and from it and the straight line (see STRAIGHT_FACTOR) a road-like distance that
goes round the Kent, Leven and Duddon estuaries instead of over them, where the straight
line crosses them and so understates exactly the journeys across the Bay.

Pure: the grid is read once from a small file committed beside this module (built by
`bench/land_grid.py` from OS Code-Point Open), and every answer is a function of the grid
and the two points alone. Paths are found by Dijkstra's algorithm over 16 moves per cell;
one distance field is kept per destination cell, since journeys go to a handful of sites.
"""

from __future__ import annotations

import heapq
import json
import math
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from telehealth.travel.maths import Point, straight_line_km

GRID_FILE = Path(__file__).with_name("data") / "bay_land.grid"
MAGIC = b"bay-land-grid 1\n"

# Road km = STRAIGHT_FACTOR x the straight line + DETOUR_FACTOR x what the land path adds to
# it: roads that go round an estuary wind more than the land path does, while roads inland
# (the M6, the A65) run close to the line. Both fitted by bench/travel_accuracy.py on the "fit"
# pairs of data/road_distances.csv (least squares of the relative errors, which does better
# left out than the least worst error), and SPEED_KMH as the estimated km over the published
# minutes of data/journey_times.csv; docs/TRAVEL.md has the table.
STRAIGHT_FACTOR = 1.0
DETOUR_FACTOR = 1.35
SPEED_KMH = 53.6
# Cell values: water (no postcode near), near (beside a cell with a postcode), held (has one).
WATER, NEAR, HELD = 0, 1, 2
# Crossing a near cell costs this many metres per metre: a gap between settled cells is
# crossed only where going round would cost more (a road across open country), and an
# estuary several cells wide is gone round.
NEAR_COST = 3.0
# A point further than this from any land cell is off the map: the estimator does not know.
SNAP_LIMIT_M = 2000

# The 16 moves: 4 straight, 4 diagonal and 8 knight's moves. A move is allowed only if every
# cell its segment passes through is land, so no move jumps a channel between two cells.
_STRAIGHT = ((1, 0), (-1, 0), (0, 1), (0, -1))
_DIAGONAL = ((1, 1), (1, -1), (-1, 1), (-1, -1))
_KNIGHT = tuple((sx * a, sy * b) for a, b in ((2, 1), (1, 2)) for sx in (1, -1) for sy in (1, -1))


@dataclass(frozen=True)
class LandGrid:
    """Square cells over the British National Grid; `land[row * cols + col]` is WATER, NEAR
    or HELD."""

    origin_easting: int  # south-west corner of cell (0, 0)
    origin_northing: int
    cell_m: int
    cols: int
    rows: int
    land: bytes
    attribution: str = ""
    _fields: dict[int, array[float]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.land) != self.cols * self.rows:
            raise ValueError(f"a {self.cols}x{self.rows} grid needs {self.cols * self.rows} cells")

    def cell_of(self, point: Point) -> int | None:
        """The index of the cell holding `point`, or None when it is outside the grid."""
        col = (point.easting - self.origin_easting) // self.cell_m
        row = (point.northing - self.origin_northing) // self.cell_m
        if 0 <= col < self.cols and 0 <= row < self.rows:
            return row * self.cols + col
        return None

    def centre(self, cell: int) -> Point:
        row, col = divmod(cell, self.cols)
        half = self.cell_m // 2
        return Point(
            self.origin_easting + col * self.cell_m + half,
            self.origin_northing + row * self.cell_m + half,
        )

    def nearest_land(self, point: Point, limit_m: int = SNAP_LIMIT_M) -> int | None:
        """The cell holding `point` if it is land, else the land cell whose centre is nearest
        (ties: lowest index) within `limit_m`; None when there is none."""
        own = self.cell_of(point)
        if own is not None and self.land[own]:
            return own  # nearly every postcode: its own cell holds it
        col = (point.easting - self.origin_easting) // self.cell_m
        row = (point.northing - self.origin_northing) // self.cell_m
        reach = limit_m // self.cell_m + 1
        best: tuple[float, int] | None = None
        for r in range(max(row - reach, 0), min(row + reach + 1, self.rows)):
            for c in range(max(col - reach, 0), min(col + reach + 1, self.cols)):
                index = r * self.cols + c
                if not self.land[index]:
                    continue
                gap = straight_line_km(point, self.centre(index)) * 1000
                if gap <= limit_m and (best is None or (gap, index) < best):
                    best = (gap, index)
        return None if best is None else best[1]

    def has_field(self, target: int) -> bool:
        return target in self._fields

    def field_to(self, target: int) -> array[float]:
        """Path metres from every cell to land cell `target` (inf where unreachable).

        Kept per target: a site's field is worked out once (a fraction of a second) and every
        later journey to it is a look-up.
        """
        found = self._fields.get(target)
        if found is None:
            found = self._fields[target] = _dijkstra(self, target)
        return found


def _moves(grid: LandGrid) -> list[tuple[int, int, float, tuple[tuple[int, int], ...]]]:
    """(dx, dy, metres, cells crossed on the way) for each of the 16 moves."""
    moves = []
    for dx, dy in _STRAIGHT + _DIAGONAL + _KNIGHT:
        crossed: tuple[tuple[int, int], ...] = ()
        if abs(dx) == 2:
            crossed = ((dx // 2, 0), (dx // 2, dy))
        elif abs(dy) == 2:
            crossed = ((0, dy // 2), (dx, dy // 2))
        moves.append((dx, dy, math.hypot(dx, dy) * grid.cell_m, crossed))
    return moves


def _open(
    grid: LandGrid, col: int, row: int, dx: int, dy: int, crossed: tuple[tuple[int, int], ...]
) -> bool:
    cols, land = grid.cols, grid.land
    if dx and dy and abs(dx) == abs(dy):
        # Diagonal: one land side is enough; two water sides mean a channel between them.
        return bool(land[row * cols + col + dx] or land[(row + dy) * cols + col])
    return all(land[(row + cy) * cols + col + cx] for cx, cy in crossed)


def _dijkstra(grid: LandGrid, target: int) -> array[float]:
    """Length in metres of the cheapest path from each cell to `target` (inf: none)."""
    cols, rows, land = grid.cols, grid.rows, grid.land
    cost = array("d", [math.inf]) * (cols * rows)
    length = array("d", [math.inf]) * (cols * rows)
    if not land[target]:
        return length
    moves = _moves(grid)
    cost[target] = length[target] = 0.0
    heap = [(0.0, target)]
    while heap:
        here, cell = heapq.heappop(heap)
        if here > cost[cell]:
            continue
        row, col = divmod(cell, cols)
        for dx, dy, metres, crossed in moves:
            c, r = col + dx, row + dy
            if not (0 <= c < cols and 0 <= r < rows):
                continue
            step = r * cols + c
            kind = land[step]
            if not kind:
                continue
            there = here + (metres if kind == HELD else metres * NEAR_COST)
            # (cost, cell) pairs order the heap, so equal costs pop the lowest cell first.
            if there < cost[step] and _open(grid, col, row, dx, dy, crossed):
                cost[step] = there
                length[step] = length[cell] + metres
                heapq.heappush(heap, (there, step))
    return length


def land_path_km(grid: LandGrid, origin: Point, destination: Point) -> float | None:
    """Length in km of the cheapest land path from `origin` to `destination`, never less than
    the straight line; None when either point is off the land or no land path joins them."""
    start, end = grid.nearest_land(origin), grid.nearest_land(destination)
    if start is None or end is None:
        return None
    if start == end:
        return straight_line_km(origin, destination)
    metres = grid.field_to(end)[start]
    if math.isinf(metres):
        return None
    # Cell centres stand for the points: add the two snaps so the path reaches the points.
    metres += straight_line_km(origin, grid.centre(start)) * 1000
    metres += straight_line_km(grid.centre(end), destination) * 1000
    return max(metres / 1000, straight_line_km(origin, destination))


def road_km(grid: LandGrid, origin: Point, destination: Point) -> float | None:
    """The road-like one-way km from `origin` to `destination` (None: off the land)."""
    path = land_path_km(grid, origin, destination)
    if path is None:
        return None
    crow = straight_line_km(origin, destination)
    return road_km_from(path, crow)


def road_km_from(path_km: float, crow_km: float) -> float:
    """Never less than the straight line: both factors are at least 1 and path >= crow."""
    return STRAIGHT_FACTOR * crow_km + DETOUR_FACTOR * (path_km - crow_km)


def build_grid(
    points: Iterable[Point], *, cell_m: int, reach: int, attribution: str = ""
) -> LandGrid:
    """Cells holding one of `points` are HELD; every other cell within `reach` cells (a
    square) of one is NEAR; the rest WATER."""
    held = {(p.easting // cell_m, p.northing // cell_m) for p in points}
    if not held:
        raise ValueError("no points: a land grid needs at least one postcode")
    # One spare ring of cells round the edge so that moves never leave the array.
    west = min(c for c, _ in held) - reach - 2
    south = min(r for _, r in held) - reach - 2
    cols = max(c for c, _ in held) + reach + 3 - west
    rows = max(r for _, r in held) + reach + 3 - south
    land = bytearray(cols * rows)
    for c, r in held:
        for dr in range(-reach, reach + 1):
            start = (r - south + dr) * cols + c - west - reach
            land[start : start + 2 * reach + 1] = bytes(
                max(v, NEAR) for v in land[start : start + 2 * reach + 1]
            )
    for c, r in held:
        land[(r - south) * cols + c - west] = HELD
    return LandGrid(west * cell_m, south * cell_m, cell_m, cols, rows, bytes(land), attribution)


def encode(grid: LandGrid) -> bytes:
    header = {
        "origin_easting": grid.origin_easting,
        "origin_northing": grid.origin_northing,
        "cell_m": grid.cell_m,
        "cols": grid.cols,
        "rows": grid.rows,
        "attribution": grid.attribution,
    }
    return MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + zlib.compress(grid.land, 9)


def decode(blob: bytes) -> LandGrid:
    if not blob.startswith(MAGIC):
        raise ValueError("not a land grid file (bad first line)")
    header_line, _, packed = blob[len(MAGIC) :].partition(b"\n")
    header = json.loads(header_line)
    return LandGrid(
        origin_easting=int(header["origin_easting"]),
        origin_northing=int(header["origin_northing"]),
        cell_m=int(header["cell_m"]),
        cols=int(header["cols"]),
        rows=int(header["rows"]),
        land=zlib.decompress(packed),
        attribution=str(header["attribution"]),
    )


@cache
def bay_grid() -> LandGrid:
    """The committed grid, read on first use (a few kB; milliseconds)."""
    return decode(GRID_FILE.read_bytes())
