"""The sweeps that make slot expansion fast (`slots.expand_slots`): the starts a clinician's
leave and bookings forbid, and a hub's rooms in use, each kept as sorted lists so a grid point
is tested by one comparison or two bisections instead of a scan of every interval.

Pure: plain values in, plain values out. Instants are aware UTC; intervals half-open.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol


class _Interval(Protocol):
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...


class ForbiddenStarts:
    """Slot start times a clinician cannot take, as sorted disjoint open intervals (a, b).

    A slot [s, s + length) overlaps leave [a, b) exactly when a - length < s < b, and its
    buffered interval [s, s + length + buffer) overlaps busy [a, b) exactly when
    a - length - buffer < s < b. Turning every interval into the starts it forbids lets the
    sweep in `free_starts` test each grid point with one comparison.
    """

    __slots__ = ("_ends", "_starts")

    def __init__(self, blocks: Iterable[tuple[datetime, datetime]]) -> None:
        self._starts: list[datetime] = []
        self._ends: list[datetime] = []
        for low, high in sorted(blocks):
            # Open intervals that merely touch leave the shared point free: merge on overlap only.
            if self._ends and low < self._ends[-1]:
                self._ends[-1] = max(self._ends[-1], high)
            else:
                self._starts.append(low)
                self._ends.append(high)

    def free_starts(
        self,
        run: tuple[datetime, datetime],
        length: timedelta,
        earliest: datetime,
        latest: datetime,
    ) -> list[datetime]:
        """Grid starts run.start + k * length with the slot inside the run, not forbidden,
        and earliest <= start <= latest."""
        start, run_end = run
        if start < earliest:
            start += -((start - earliest) // length) * length  # first grid point >= earliest
        last = min(run_end - length, latest)
        starts, ends, count = self._starts, self._ends, len(self._starts)
        i = bisect.bisect_right(ends, start)  # first interval ending after `start`
        free: list[datetime] = []
        while start <= last:
            if i < count and starts[i] < start:  # inside (starts[i], ends[i]): jump past it
                start += -((start - ends[i]) // length) * length
            else:
                free.append(start)
                start += length
            while i < count and ends[i] <= start:
                i += 1
        return free


class HubRooms:
    """A hub's video rooms; each busy interval occupies one room."""

    __slots__ = ("_ends", "_rooms", "_starts")

    def __init__(self, rooms: int, busy: Iterable[_Interval]) -> None:
        real = [i for i in busy if i.start < i.end]
        self._rooms = rooms
        self._starts = sorted(i.start for i in real)
        self._ends = sorted(i.end for i in real)

    def free(self, start: datetime, end: datetime) -> bool:
        # Intervals overlapping [start, end) = those starting before `end` minus those ending
        # by `start` (which, being non-empty, all start before `end` too).
        overlapping = bisect.bisect_left(self._starts, end) - bisect.bisect_right(self._ends, start)
        return overlapping < self._rooms
