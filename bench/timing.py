"""Latency samples and their summary figures (p50, p95, mean), in milliseconds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass
class Timings:
    """Wall-clock durations of repeated runs of one operation, in seconds."""

    samples: list[float] = field(default_factory=list)

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile in milliseconds (0.0 when there are no samples)."""
        if not self.samples:
            return 0.0
        ordered = sorted(self.samples)
        rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    @property
    def p50(self) -> float:
        return self.percentile(0.50)

    @property
    def p95(self) -> float:
        return self.percentile(0.95)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples) * 1000 if self.samples else 0.0

    @property
    def count(self) -> int:
        return len(self.samples)


async def measure(
    operation: Callable[[], Awaitable[object]],
    *,
    iterations: int,
    warmup: int,
    max_seconds: float,
) -> Timings:
    """Run `operation` `warmup` times untimed, then up to `iterations` times or until
    `max_seconds` have passed, whichever comes first."""
    for _ in range(warmup):
        await operation()
    timings = Timings()
    deadline = time.perf_counter() + max_seconds
    for _ in range(iterations):
        started = time.perf_counter()
        await operation()
        timings.samples.append(time.perf_counter() - started)
        if started > deadline:
            break
    return timings


async def measure_together(
    operations: dict[str, Callable[[], Awaitable[object]]],
    *,
    iterations: int,
    warmup: int,
    max_seconds: float,
) -> dict[str, Timings]:
    """Like `measure`, for several operations taking turns in each round, so that drift in
    the machine's background load falls on all of them alike."""
    for _ in range(warmup):
        for operation in operations.values():
            await operation()
    timings = {name: Timings() for name in operations}
    deadline = time.perf_counter() + max_seconds
    for _ in range(iterations):
        for name, operation in operations.items():
            started = time.perf_counter()
            await operation()
            timings[name].samples.append(time.perf_counter() - started)
        if time.perf_counter() > deadline:
            break
    return timings
