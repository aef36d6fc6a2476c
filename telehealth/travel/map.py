"""A map of where the avoided travel came from, as inline SVG: a pure function, no I/O, no tiles.

Everything is drawn from the project's own coordinates (British National Grid metres): the
land is the land grid's cells (`telehealth/travel/land.py`, the cells near a postcode), each
home postcode district is a circle whose *area* is in proportion to its miles (red where the
district's journeys grew: a hub further away than the hospital), and the hospitals and hubs
are markers of different shapes, so colour is never the only cue, each numbered for the key
beneath the map (`site_keys`; a hospital named too where its name fits). Labels never leave the
map nor cover each other (`map_labels.py`). Like the charts
(`charts.py`) the map is an image (`role="img"`) whose `<title>` names it and whose `<desc>`
says what it shows in words; every figure is also in the table the page puts beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

from telehealth.travel.charts import BLUE, FAMILY, RED, TEXT, _open, number
from telehealth.travel.land import HELD, WATER, LandGrid
from telehealth.travel.map_labels import Box, Labeller, Placed, Spot, around
from telehealth.travel.maths import Point

TITLE = "Miles avoided by home postcode district"
EMPTY = "No travel avoided to map for this selection."
HOSPITAL, HUB = "hospital", "hub"
KIND_NAMES = {HOSPITAL: "Hospitals", HUB: "Community hubs"}
WATER_FILL = "#d6e6f5"  # the sea and the sands: a pale blue
LAND_FILL = "#ffffff"  # white: the page round the map is NHS pale grey
HOSPITAL_FILL = "#003087"  # NHS dark blue; 13:1 against the land
HUB_FILL = "#007f3b"  # NHS dark green; 5:1 against the land
MAX_RADIUS = 30.0  # px, the largest district's circle
# The smallest figures would be circles too small to see or to point at: they are drawn this
# wide, and the table has their exact figure.
MIN_RADIUS = 2.5
MARGIN_M = 8000  # land shown round the outermost district or site: room for its circle
MIN_SPAN_M = 20_000  # a map of one town still shows its surroundings
LAND_BLOCK = 2  # land drawn in blocks of 2 x 2 grid cells (800 m): see `coarse`
LEGEND_HEIGHT = 136  # two rows of shapes, then the size key
LEGEND_COLUMN = 180
MARKER_PX = 8.0  # half a marker's width and its white edge: labels keep off it
NAMED = 5  # districts named in the text alternative


@dataclass(frozen=True, slots=True)
class District:
    """A home postcode district's position (e.g. the mean of its postcodes) and its miles."""

    name: str
    point: Point
    miles: Decimal


@dataclass(frozen=True, slots=True)
class Landmark:
    """A hospital or a community hub (`kind` is HOSPITAL or HUB)."""

    name: str
    kind: str
    point: Point


@dataclass(frozen=True, slots=True)
class Frame:
    """The grid metres the map shows (west and north edges) and their pixel scale."""

    west: float
    north: float
    scale: float  # px per metre
    width: int
    height: int

    def x(self, easting: float) -> float:
        return (easting - self.west) * self.scale

    def y(self, northing: float) -> float:
        return (self.north - northing) * self.scale


def frame_for(points: Sequence[Point], *, width: int, max_height: int) -> Frame:
    """The smallest frame holding every point with MARGIN_M round it, at least MIN_SPAN_M
    across each way, filling `width`; a tall area is widened rather than squeezed."""
    west, east = _at_least(
        min(p.easting for p in points) - MARGIN_M, max(p.easting for p in points) + MARGIN_M
    )
    south, north = _at_least(
        min(p.northing for p in points) - MARGIN_M, max(p.northing for p in points) + MARGIN_M
    )
    scale = width / (east - west)
    if (north - south) * scale > max_height:
        scale = max_height / (north - south)
        middle = (west + east) / 2
        west = middle - width / scale / 2
    return Frame(west, north, scale, width, round((north - south) * scale))


def _at_least(low: float, high: float) -> tuple[float, float]:
    middle, half = (low + high) / 2, max(high - low, MIN_SPAN_M) / 2
    return middle - half, middle + half


def radius(miles: Decimal, largest: Decimal) -> float:
    """Area in proportion to the miles (either sign); at least MIN_RADIUS unless zero."""
    if not miles or not largest:
        return 0.0
    share = float(abs(miles) / largest)
    return max(MAX_RADIUS * math.sqrt(share), MIN_RADIUS)


def _px(value: float) -> str:
    return f"{value:.1f}"


def coarse(grid: LandGrid, factor: int) -> LandGrid:
    """The grid in blocks of `factor` x `factor` cells, a block land if any of its cells is:
    the open fells between settlements hold no postcode, and at a map's scale the fine grid
    would draw them as lakes; blocks keep the Bay's sands and estuaries, which are wider."""
    cols, rows = -(-grid.cols // factor), -(-grid.rows // factor)
    land = bytearray(cols * rows)
    for index, value in enumerate(grid.land):
        if value != WATER:
            row, col = divmod(index, grid.cols)
            land[(row // factor) * cols + col // factor] = HELD
    return LandGrid(
        grid.origin_easting,
        grid.origin_northing,
        grid.cell_m * factor,
        cols,
        rows,
        bytes(land),
        grid.attribution,
    )


def land_path(grid: LandGrid, frame: Frame) -> str:
    """The land cells inside the frame as one SVG path: each run of land cells along a row is
    a rectangle, and a run repeated in the rows above it grows taller instead of starting a
    new one, so the path stays a few kilobytes."""
    cell = grid.cell_m
    first_col = max(int((frame.west - grid.origin_easting) // cell), 0)
    last_col = min(
        int((frame.west + frame.width / frame.scale - grid.origin_easting) // cell), grid.cols - 1
    )
    south = frame.north - frame.height / frame.scale
    first_row = max(int((south - grid.origin_northing) // cell), 0)
    last_row = min(int((frame.north - grid.origin_northing) // cell), grid.rows - 1)
    parts: list[str] = []
    open_runs: dict[tuple[int, int], int] = {}  # (first col, last col) -> first row

    def close(run: tuple[int, int], bottom_row: int, top_row: int) -> None:
        x0 = frame.x(grid.origin_easting + run[0] * cell)
        x1 = frame.x(grid.origin_easting + (run[1] + 1) * cell)
        y0 = frame.y(grid.origin_northing + (top_row + 1) * cell)
        y1 = frame.y(grid.origin_northing + bottom_row * cell)
        parts.append(f"M{_px(x0)} {_px(y0)}H{_px(x1)}V{_px(y1)}H{_px(x0)}z")

    for row in range(first_row, last_row + 2):
        runs = set(_runs(grid, row, first_col, last_col)) if row <= last_row else set()
        for run in sorted(set(open_runs) - runs):
            close(run, open_runs.pop(run), row - 1)
        for run in runs - set(open_runs):
            open_runs[run] = row
    return "".join(parts)


def _runs(grid: LandGrid, row: int, first: int, last: int) -> Iterable[tuple[int, int]]:
    start = None
    offset = row * grid.cols
    for col in range(first, last + 1):
        if grid.land[offset + col] != WATER:
            start = col if start is None else start
        elif start is not None:
            yield start, col - 1
            start = None
    if start is not None:
        yield start, last


def describe(districts: Sequence[District], landmarks: Sequence[Landmark], note: str = "") -> str:
    """The text alternative: the districts with most miles, any with extra travel, the sites;
    `note` says which districts are left out, if any are."""
    ranked = sorted(districts, key=lambda d: (-d.miles, d.name))
    gained = [d for d in ranked if d.miles > 0][:NAMED]
    lost = [d for d in reversed(ranked) if d.miles < 0][:NAMED]
    words = ["Circles sized by miles avoided, one per home postcode district."]
    if note:
        words.append(note)
    if gained:
        words.append("Most miles avoided: " + _listed(gained) + ".")
    if lost:
        words.append("Extra travel (red): " + _listed(lost) + ".")
    for kind, heading in KIND_NAMES.items():
        names = sorted(m.name for m in landmarks if m.kind == kind)
        if names:
            words.append(f"{heading}: {', '.join(names)}.")
    words.append(f'Every district\'s figure is in the table "{TITLE}".')
    return " ".join(words)


def _listed(districts: Sequence[District]) -> str:
    return "; ".join(f"{d.name} {number(d.miles)} miles" for d in districts)


def _empty(width: int, note: str) -> Markup:
    # With districts left out (`note`), there may be travel avoided, just none to draw.
    said = "No district to draw for this selection." if note else EMPTY
    parts = _open(TITLE, f"{said} {note}".strip(), width, 60)
    parts.append(f'<text x="8" y="36" fill="{TEXT}" {FAMILY} font-size="16">{said}</text></svg>')
    return Markup("".join(parts))


def travel_map(
    districts: Sequence[District],
    landmarks: Sequence[Landmark],
    *,
    grid: LandGrid | None,
    width: int = 640,
    max_height: int = 640,
    note: str = "",
) -> Markup:
    """The map; with no district to draw (none has a position and miles), a message instead.
    `note`, when districts were left out, says which in its text alternative."""
    drawn = [d for d in districts if d.miles]
    if not drawn:
        return _empty(width, note)
    frame = frame_for(
        [d.point for d in drawn] + [m.point for m in landmarks], width=width, max_height=max_height
    )
    height = frame.height + LEGEND_HEIGHT
    parts = _open(TITLE, describe(drawn, landmarks, note), width, height)
    parts.append(f'<rect width="{width}" height="{frame.height}" fill="{WATER_FILL}"/>')
    if grid is not None:
        land = land_path(coarse(grid, LAND_BLOCK), frame)
        parts.append(f'<path d="{land}" fill="{LAND_FILL}" class="bt-map__land"/>')
    largest = max(abs(d.miles) for d in drawn)
    keyed = site_keys(landmarks)
    at = {n: (frame.x(m.point.easting), frame.y(m.point.northing)) for n, m in keyed}
    # Markers first, so no label covers one; then the sites' keys and the districts' names
    # in order of importance, so a crowded map drops the smallest district's name.
    labeller = Labeller(width, frame.height, [_marker_box(x, y) for x, y in at.values()])
    ranked = sorted(drawn, key=_biggest_first)
    parts.extend(_circle(frame, d, largest) for d in ranked)
    parts.extend(_landmark(labeller, n, m, *at[n]) for n, m in keyed)
    parts.extend(_district_label(labeller, frame, d, largest, list(at.values())) for d in ranked)
    parts.append(  # the map's edge, over the land that runs up to it
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{frame.height - 1}" fill="none" '
        f'stroke="{TEXT}"/>'
    )
    parts.append(_legend(frame.height, largest, any(d.miles < 0 for d in drawn)))
    parts.append("</svg>")
    return Markup("".join(parts))


def _biggest_first(d: District) -> tuple[Decimal, str]:
    """Large circles underneath, so a small one on top of a large one can still be seen."""
    return -abs(d.miles), d.name


def site_keys(landmarks: Sequence[Landmark]) -> list[tuple[int, Landmark]]:
    """Each site's number on the map and in the key beneath it: hospitals, then hubs, by name."""
    return list(enumerate(sorted(landmarks, key=lambda m: (m.kind, m.name)), start=1))


def _marker_box(x: float, y: float) -> Box:
    return Box(x - MARKER_PX, y - MARKER_PX, x + MARKER_PX, y + MARKER_PX)


def _circle(frame: Frame, d: District, largest: Decimal) -> str:
    colour = BLUE if d.miles > 0 else RED
    r = radius(d.miles, largest)
    x, y = frame.x(d.point.easting), frame.y(d.point.northing)
    return (
        f'<circle cx="{_px(x)}" cy="{_px(y)}" r="{_px(r)}" fill="{colour}" fill-opacity="0.45" '
        f'stroke="{colour}" stroke-width="1.5" class="bt-map__district" '
        f'data-district="{escape(d.name)}" data-miles="{d.miles}">'
        f"<title>{escape(d.name)}: {escape(number(d.miles))} miles</title></circle>"
    )


def _district_label(
    labeller: Labeller,
    frame: Frame,
    d: District,
    largest: Decimal,
    marks: Sequence[tuple[float, float]],
) -> str:
    """The district's name inside its circle where it is big enough and no site's marker is
    in it, else beside it (under it first); none where no clear place is left."""
    r = radius(d.miles, largest)
    x, y = frame.x(d.point.easting), frame.y(d.point.northing)
    covered = any(math.hypot(x - mx, y - my) < r for mx, my in marks)
    inside = [] if r < 12 or covered else [Spot(x, y + 4, "middle")]
    placed = labeller.place([d.name], [*inside, *around(x, y, r + 3, below_first=True)])
    if placed is None:  # its circle's title and the table name it
        return ""
    return _label(placed, f'class="bt-map__label" data-district="{escape(d.name)}"')


def _label(placed: Placed, attributes: str = "") -> str:
    # A white halo under the letters keeps them readable over circles and the coast.
    spot = placed.spot
    return (
        f'<text x="{_px(spot.x)}" y="{_px(spot.y)}" text-anchor="{spot.anchor}" fill="{TEXT}" '
        f'{FAMILY} font-size="12" stroke="#ffffff" stroke-width="3" paint-order="stroke"'
        f"{' ' + attributes if attributes else ''}>{escape(placed.text)}</text>"
    )


def _marker(x: float, y: float, kind: str) -> str:
    if kind == HOSPITAL:  # a square
        return (
            f'<rect x="{_px(x - 5)}" y="{_px(y - 5)}" width="10" height="10" '
            f'fill="{HOSPITAL_FILL}" stroke="#ffffff" stroke-width="1.5"/>'
        )
    return (  # a hub: a diamond
        f'<path d="M{_px(x)} {_px(y - 7)}L{_px(x + 7)} {_px(y)}L{_px(x)} {_px(y + 7)}'
        f'L{_px(x - 7)} {_px(y)}z" fill="{HUB_FILL}" stroke="#ffffff" stroke-width="1.5"/>'
    )


def _landmark(labeller: Labeller, key: int, m: Landmark, x: float, y: float) -> str:
    """A site's marker and its number (a hospital's name after it, where that fits); the
    number is shown even on a crowded map, as the key beneath the map needs it."""
    wordings = [f"{key} {m.name}", str(key)] if m.kind == HOSPITAL else [str(key)]
    spots = around(x, y, MARKER_PX + 2)
    placed = labeller.place(wordings, spots) or labeller.force(str(key), spots[0])
    return (
        f'<g class="bt-map__site" data-kind="{m.kind}" data-name="{escape(m.name)}" '
        f'data-key="{key}"><title>{key}: {escape(m.name)}</title>'
        f"{_marker(x, y, m.kind)}{_label(placed)}</g>"
    )


def _key_value(largest: Decimal) -> Decimal | None:
    """A round figure (1, 2 or 5 times a power of ten) at most a quarter of the largest, for
    the size key: 1,234.5 -> 200, so the two key circles differ visibly; None where that
    would be under a mile (the page reads whole miles)."""
    quarter = largest / 4
    if quarter < 1:
        return None
    power = Decimal(10) ** quarter.adjusted()
    return max(power * step for step in (1, 2, 5) if power * step <= quarter)


def whole_miles(value: Decimal) -> str:
    """Miles as the page shows them: whole, half up, thousands separated."""
    return number(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _legend(top: int, largest: Decimal, extra: bool) -> str:
    """What the shapes and colours mean (two columns, so it fits a half-width map), and two
    circles to read sizes against."""
    blue = f'<circle cx="14" cy="0" r="7" fill="{BLUE}" fill-opacity="0.45" stroke="{BLUE}"/>'
    red = f'<circle cx="14" cy="0" r="7" fill="{RED}" fill-opacity="0.45" stroke="{RED}"/>'
    items = [
        (_marker(14, 0, HOSPITAL), "Hospital"),
        (_marker(14, 0, HUB), "Community hub"),
        (blue, "Miles avoided"),
        *([(red, "Extra travel")] if extra else []),
    ]
    parts = ['<g class="bt-map__legend">']
    for n, (shape, words) in enumerate(items):
        row, col = divmod(n, 2)
        parts.append(f'<g transform="translate({col * LEGEND_COLUMN} {top + 20 + row * 26})">')
        parts.append(
            f'{shape}<text x="28" y="5" fill="{TEXT}" {FAMILY} font-size="14">{words}</text></g>'
        )
    x, base = 8.0, top + LEGEND_HEIGHT - 8
    key = _key_value(largest)
    for value in (largest, *([key] if key is not None else [])):
        r = radius(value, largest)
        parts.append(
            f'<circle cx="{_px(x + r)}" cy="{_px(base - r)}" r="{_px(r)}" fill="none" '
            f'stroke="{TEXT}" class="bt-map__key" data-miles="{value}"/>'
            f'<text x="{_px(x + 2 * r + 6)}" y="{base - 4}" fill="{TEXT}" {FAMILY} '
            f'font-size="14">{escape(whole_miles(value))} miles</text>'
        )
        x += 2 * r + 150
    parts.append("</g>")
    return "".join(parts)
