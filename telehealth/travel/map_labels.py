"""Where the travel map's words go: a deterministic pass that keeps every label inside the map
and off every other label and marker. Pure: positions in, positions out.

Each label comes with the places it may stand, best first (beside its marker, to the left
where the right would run off the map, above, below...); the first place that is inside the
map and clear of what is already placed wins. Labels are placed in order of importance (the
sites' keys, then districts by size), so when the map is crowded it is the smallest district's
name that is left off: its circle keeps its `<title>`, and the table beside the map names it.
The widths are estimates (the browser's font is not known here), a little generous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CHAR_PX = 7.0  # about the widest a letter or digit of 12px Arial is on average
ASCENT, DESCENT = 10.0, 3.0  # 12px text above and below its baseline
PAD = 1.5  # between two labels, so their white halos do not touch the letters


@dataclass(frozen=True, slots=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box) -> bool:
        return not (
            self.x1 <= other.x0 or other.x1 <= self.x0 or self.y1 <= other.y0 or other.y1 <= self.y0
        )

    def inside(self, width: float, height: float) -> bool:
        return self.x0 >= 0 and self.y0 >= 0 and self.x1 <= width and self.y1 <= height


@dataclass(frozen=True, slots=True)
class Spot:
    """Where a label may stand: its baseline point and `text-anchor`."""

    x: float
    y: float
    anchor: str  # start, middle or end


@dataclass(frozen=True, slots=True)
class Placed:
    text: str
    spot: Spot


def text_box(text: str, spot: Spot) -> Box:
    width = len(text) * CHAR_PX
    left = {"start": spot.x, "middle": spot.x - width / 2, "end": spot.x - width}[spot.anchor]
    return Box(left - PAD, spot.y - ASCENT - PAD, left + width + PAD, spot.y + DESCENT + PAD)


def around(x: float, y: float, gap: float, *, below_first: bool = False) -> list[Spot]:
    """The places round a point for a label `gap` px clear of it: right, left, above, below
    (below first for a circle's name, as maps put it), then the four corners; right before
    left, as names read from their marker."""
    below = Spot(x, y + gap + ASCENT, "middle")
    sides = [
        Spot(x + gap, y + 4, "start"),
        Spot(x - gap, y + 4, "end"),
        Spot(x, y - gap - DESCENT, "middle"),
    ]
    return [
        *([below, *sides] if below_first else [*sides, below]),
        Spot(x + gap * 0.7, y - gap * 0.7, "start"),
        Spot(x + gap * 0.7, y + gap * 0.7 + ASCENT, "start"),
        Spot(x - gap * 0.7, y - gap * 0.7, "end"),
        Spot(x - gap * 0.7, y + gap * 0.7 + ASCENT, "end"),
    ]


class Labeller:
    """The labels placed so far on a `width` x `height` map, and what they must keep off."""

    def __init__(self, width: float, height: float, obstacles: Sequence[Box] = ()) -> None:
        self.width, self.height = width, height
        self.taken: list[Box] = list(obstacles)

    def place(self, texts: Sequence[str], spots: Sequence[Spot]) -> Placed | None:
        """The first text (longest wording first) at the first spot that is inside the map
        and clear; None if no wording fits anywhere."""
        for text in texts:
            for spot in spots:
                box = text_box(text, spot)
                if box.inside(self.width, self.height) and not any(
                    box.overlaps(t) for t in self.taken
                ):
                    self.taken.append(box)
                    return Placed(text, spot)
        return None

    def force(self, text: str, spot: Spot) -> Placed:
        """A label that must be shown (a site's key) where no clear spot is left: at `spot`,
        moved sideways or down only as far as keeps it inside the map."""
        box = text_box(text, spot)
        dx = max(0.0, -box.x0) - max(0.0, box.x1 - self.width)
        dy = max(0.0, -box.y0) - max(0.0, box.y1 - self.height)
        moved = Spot(spot.x + dx, spot.y + dy, spot.anchor)
        self.taken.append(text_box(text, moved))
        return Placed(text, moved)
