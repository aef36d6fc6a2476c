"""The side-by-side report of a run with --baseline: each measurement for the baseline and
the current tree, their ratio over the whole run and round by round (the rounds alternate
between the trees, so a round's ratio compares figures taken a few seconds apart), and the
two bounds issue 11 sets for both trees."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from bench.booking import BookingResult
from bench.slot_search import SlotSearchResult
from bench.trees import BASELINE, CURRENT

BOOKING_FLOOR = 0.55  # booking at least this share of the bare INSERT rate
SEARCH_CEILING = 2.0  # slot search handler p50 at most this many times the bare fetch p50
MIN_ROUNDS = 4  # fewer rounds all on one side of 1 happen too easily by chance


@dataclass(frozen=True)
class Row:
    name: str
    baseline: float
    current: float
    rounds: list[float]  # current / baseline, round by round
    higher_is_better: bool
    unit: str

    @property
    def ratio(self) -> float:
        return self.current / self.baseline if self.baseline else 0.0

    def verdict(self) -> str:
        """Whether the current tree differs beyond the spread of the rounds: only when every
        round's ratio falls on the same side of 1."""
        if len(self.rounds) < MIN_ROUNDS:
            return f"too few rounds to tell ({len(self.rounds)})"
        low, high = min(self.rounds), max(self.rounds)
        if low <= 1.0 <= high:
            return "same, within noise"
        better = (low > 1.0) == self.higher_is_better
        return "**better** in every round" if better else "**worse** in every round"


def _per_round(current: list[float], baseline: list[float]) -> list[float]:
    return [c / b if b else 0.0 for c, b in zip(current, baseline, strict=True)]


def rows(searches: dict[str, SlotSearchResult], booking: BookingResult) -> list[Row]:
    base, cur = searches[BASELINE], searches[CURRENT]
    found: list[Row] = []
    for i, (name, timings) in enumerate(
        (("Slot search p50: handler", "orm"), ("Slot search p50: GET /api/v1/slots", "http"),
         ("Slot search p50: bare SQL fetch", "bare"))
    ):  # fmt: skip
        per_round = _per_round([r[i] for r in cur.round_p50s], [r[i] for r in base.round_p50s])
        b, c = getattr(base, timings).p50, getattr(cur, timings).p50
        found.append(Row(name, b, c, per_round, False, "ms"))
    search_ratio = [[r[0] / r[2] for r in s.round_p50s] for s in (base, cur)]
    found.append(
        Row("Slot search handler / bare fetch (p50)", base.ratio, cur.ratio,
            _per_round(search_ratio[1], search_ratio[0]), False, "x")
    )  # fmt: skip
    rates = booking.round_rates
    found.append(
        Row("Booking rate", booking.apps[BASELINE].rate, booking.app.rate,
            _per_round(rates[CURRENT], rates[BASELINE]), True, "req/s")
    )  # fmt: skip
    found.append(
        Row("Booking rate / bare INSERT rate", booking.ratio_of(BASELINE), booking.ratio,
            _per_round(booking.round_ratios_of(CURRENT), booking.round_ratios_of(BASELINE)),
            True, "")
    )  # fmt: skip
    return found


def _figure(value: float, unit: str) -> str:
    if unit == "req/s":
        return f"{value:.0f} req/s"
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:.2f}" + unit


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def _range(values: list[float], unit: str = "") -> str:
    return f"{min(values):.2f}-{max(values):.2f}{unit}" if values else "-"


def lines(
    searches: dict[str, SlotSearchResult], booking: BookingResult, trees: dict[str, str]
) -> list[str]:
    """The comparison as Markdown (console and docs/PERFORMANCE.md alike)."""
    if BASELINE not in searches:
        return []
    base, cur = searches[BASELINE], searches[CURRENT]
    bounds = [
        ("Booking rate / bare INSERT rate", f">= {BOOKING_FLOOR:.2f}",
         {t: (booking.ratio_of(t), booking.round_ratios_of(t)) for t in (BASELINE, CURRENT)},
         booking.ratio >= BOOKING_FLOOR, ""),
        ("Slot search handler p50 / bare fetch p50", f"<= {SEARCH_CEILING:.0f}x",
         {t: (s.ratio, [r[0] / r[2] for r in s.round_p50s]) for t, s in searches.items()},
         cur.ratio <= SEARCH_CEILING, "x"),
    ]  # fmt: skip
    out = [
        f"Baseline: `{trees[BASELINE]}`. Current: `{trees[CURRENT]}`. Both measured in this "
        f"run against the same database: slot search in {len(cur.round_p50s)} rounds per tree "
        f"(the trees taking turns; {base.orm.count} timed runs of the baseline, {cur.orm.count} "
        "of the current), booking in "
        f"{len(booking.round_rates[CURRENT])} rounds of the three servers (the order turning "
        "each round; one bare INSERT server for both). Every process was checked at start to "
        "import the app from its own tree.",
        "",
        "| measurement | baseline | current | current / baseline | per round: median (range) "
        "| verdict |",
        "|---|---:|---:|---:|---|---|",
        *(f"| {r.name} | {_figure(r.baseline, r.unit)} | {_figure(r.current, r.unit)} "
          f"| {r.ratio:.2f} | {_spread(r.rounds)} | {r.verdict()} |"
          for r in rows(searches, booking)),
        "",
        f"Slots found: baseline {base.slots} from {base.rows_fetched} rows, current {cur.slots} "
        f"from {cur.rows_fetched} rows"
        + (" (the same)." if (base.slots, base.rows_fetched) == (cur.slots, cur.rows_fetched)
           else " (**they differ**)."),
        "",
        "The bare SQL fetch is the same SQL in both trees' workers: its ratio shows how far two "
        "identical measurements drift apart in this run. A verdict other than \"within noise\" "
        f"means every round's ratio fell on the same side of 1 (at least {MIN_ROUNDS} rounds).",
        "",
        summary(searches, booking),
        "",
        "| issue 11 bound | wanted | baseline (rounds) | current (rounds) | met by current |",
        "|---|---|---|---|---|",
        *(f"| {name} | {wanted} | {_figure(v[BASELINE][0], unit)} ({_range(v[BASELINE][1], unit)}) "
          f"| {_figure(v[CURRENT][0], unit)} ({_range(v[CURRENT][1], unit)}) "
          f"| {'yes' if met else '**no**'} |"
          for name, wanted, v, met, unit in bounds),
    ]  # fmt: skip
    return out


def summary(searches: dict[str, SlotSearchResult], booking: BookingResult) -> str:
    """One sentence: which measurements of the app (not the bare controls) got worse."""
    compared = [r for r in rows(searches, booking) if "bare SQL fetch" not in r.name]
    worse = [f"{r.name} ({r.ratio:.2f}x the baseline)" for r in compared if "worse" in r.verdict()]
    met = booking.ratio >= BOOKING_FLOOR and searches[CURRENT].ratio <= SEARCH_CEILING
    bounds = "meets both of issue 11's bounds" if met else "**misses** an issue 11 bound"
    if any(r.verdict().startswith("too few") for r in compared):
        return f"**Verdict**: too few rounds to compare the trees; the current tree {bounds}."
    if not worse:
        return (
            "**Verdict**: the current tree is not slower than the baseline beyond the noise "
            f"of the rounds, and {bounds}."
        )
    return (
        f"**Verdict**: worse than the baseline in every round: {'; '.join(worse)}; the "
        f"current tree {bounds}."
    )
