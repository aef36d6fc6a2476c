"""Estimating one road leg from a patient's postcode to a site, best source first.

`estimate` walks a chain of estimators: a routing engine (OSRM over HTTP, "high"), an
analyst's district-to-site matrix ("medium"), the path over land round the Bay's water
(telehealth/travel/land.py, "medium"), then straight line times circuity ("low");
`offline_chain` is that chain without the routing engine.
Each may answer None ("I don't know"); an exception is logged and the next one is asked.
If none answers, the leg is `NO_ESTIMATE` (method and confidence "none").
"""

from __future__ import annotations

import asyncio
import csv
import functools
import io
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Protocol

import httpx

from telehealth.kernel.identifiers import parse_postcode
from telehealth.travel import land
from telehealth.travel.maths import (
    NO_ESTIMATE,
    FactorSet,
    Leg,
    Point,
    bng_to_wgs84,
    straight_line_km,
)

logger = logging.getLogger(__name__)

_METRE = Decimal("0.001")
_CENTIMINUTE = Decimal("0.01")
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")


# Asked several times per record (the matrix, the logs, the home community): a year's
# recompute parsed each postcode eight times, a sixth of its time, before this cache.
@functools.lru_cache(maxsize=1 << 16)
def district(postcode: str) -> str:
    """The outward code (postcode district): district("LA14 4LF") == "LA14"."""
    return parse_postcode(postcode).split(" ")[0]


@dataclass(frozen=True)
class Journey:
    """What an estimator is asked: one way, from the patient's home to a site."""

    origin: Point
    origin_postcode: str
    site_id: int
    destination: Point


class Estimator(Protocol):
    async def leg(self, journey: Journey) -> Leg | None:
        """The one-way leg, or None when this estimator cannot say."""
        ...


async def estimate(
    origin: Point,
    origin_postcode: str,
    site_id: int,
    destination: Point,
    *,
    chain: Sequence[Estimator],
) -> Leg:
    """The first answer from `chain`, in order; `NO_ESTIMATE` when nobody knows.

    An estimator that raises is logged and skipped. A malformed `origin_postcode` raises
    ValueError before any estimator is asked (the caller parsed it at booking).
    """
    journey = Journey(origin, origin_postcode, site_id, destination)
    # Logs name the district, never the full postcode: with a date and a clinic it could
    # point at one patient.
    where = f"{district(origin_postcode)} to site {site_id}"
    for estimator in chain:
        name = type(estimator).__name__
        try:
            leg = await estimator.leg(journey)
        except Exception:
            logger.warning("%s failed for %s; trying the next", name, where, exc_info=True)
            continue
        if leg is not None:
            return leg
        logger.debug("%s had no answer for %s", name, where)  # the chain at work, not news
    logger.warning("no estimator could place %s", where)
    return NO_ESTIMATE


class OsrmEstimator:
    """Road distance and time from an OSRM server's route service (car profile)."""

    def __init__(self, base_url: str, client: httpx.AsyncClient, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = client
        self.timeout = timeout

    async def leg(self, journey: Journey) -> Leg | None:
        start = bng_to_wgs84(journey.origin.easting, journey.origin.northing)
        end = bng_to_wgs84(journey.destination.easting, journey.destination.northing)
        # OSRM takes longitude first; six decimals is about 0.1 m.
        coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in (start, end))
        response = await self.client.get(
            f"{self.base_url}/route/v1/driving/{coordinates}",
            params={"overview": "false"},
            timeout=self.timeout,
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("code") not in (None, "Ok"):
            # OSRM's own refusal ("NoRoute", "NoSegment", ...), sent with HTTP 400.
            logger.info("OSRM answered %s: %s", body.get("code"), body.get("message", ""))
            return None
        response.raise_for_status()
        if not isinstance(body, dict):
            raise ValueError("OSRM response is not a JSON object")
        return _route_leg(body)


def _route_leg(body: Mapping[str, object]) -> Leg | None:
    routes = body.get("routes")
    if not isinstance(routes, list) or not routes or not isinstance(routes[0], dict):
        return None
    distance, duration = routes[0].get("distance"), routes[0].get("duration")
    for value in (distance, duration):
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ValueError(f"OSRM route has a bad distance or duration: {value!r}")
    km = (Decimal(str(distance)) / 1000).quantize(_METRE, ROUND_HALF_UP)
    minutes = (Decimal(str(duration)) / 60).quantize(_CENTIMINUTE, ROUND_HALF_UP)
    return Leg(km, minutes, "osrm", "high")


class MatrixEstimator:
    """One-way road km and minutes per (postcode district, site id), calibrated by an analyst."""

    HEADER = ("district", "site_id", "road_km", "drive_minutes")

    def __init__(self, rows: Mapping[tuple[str, int], tuple[Decimal, Decimal]]) -> None:
        self.rows = dict(rows)

    @classmethod
    def from_csv(cls, text: str) -> MatrixEstimator:
        """Parse `district,site_id,road_km,drive_minutes`; ValueError names the bad line."""
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None or tuple(c.strip().lower() for c in header) != cls.HEADER:
            raise ValueError(f"line 1: the header must be {','.join(cls.HEADER)}")
        rows: dict[tuple[str, int], tuple[Decimal, Decimal]] = {}
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            key, value = _matrix_row(cells, line)
            if key in rows:
                raise ValueError(f"line {line}: {key[0]} to site {key[1]} is listed twice")
            rows[key] = value
        return cls(rows)

    async def leg(self, journey: Journey) -> Leg | None:
        found = self.rows.get((district(journey.origin_postcode), journey.site_id))
        if found is None:
            return None
        km, minutes = found
        return Leg(km, minutes, "matrix", "medium")


def _matrix_row(cells: list[str], line: int) -> tuple[tuple[str, int], tuple[Decimal, Decimal]]:
    if len(cells) != 4:
        raise ValueError(f"line {line}: expected 4 columns, found {len(cells)}")
    name, site, km, minutes = (c.strip() for c in cells)
    name = name.upper()
    if not _DISTRICT.match(name):
        raise ValueError(f"line {line}: {name!r} is not a postcode district such as LA14")
    try:
        site_id = int(site)
    except ValueError:
        site_id = 0
    if site_id <= 0:
        raise ValueError(f"line {line}: site_id {site!r} is not a positive whole number")
    return (name, site_id), (
        _positive(km, "road_km", line),
        _positive(minutes, "drive_minutes", line),
    )


def _positive(text: str, column: str, line: int) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"line {line}: {column} {text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"line {line}: {column} {text!r} must be a positive number")
    return value


class StraightLineEstimator:
    """Straight line times circuity (the site's own, else the default) at an average speed."""

    def __init__(self, factors: FactorSet) -> None:
        self.factors = factors

    async def leg(self, journey: Journey) -> Leg | None:
        crow = Decimal(f"{straight_line_km(journey.origin, journey.destination):.3f}")
        km = (crow * self.factors.circuity(journey.site_id)).quantize(_METRE, ROUND_HALF_UP)
        minutes = (km * 60 / self.factors.average_speed_kmh).quantize(_CENTIMINUTE, ROUND_HALF_UP)
        return Leg(km, minutes, "straight_line", "low")


class LandEstimator:
    """The road-like distance round the water (land.py), at the speed fitted with it.

    Unknown (None) when either end is off the grid's land: a postcode outside the Bay's
    areas falls through to the straight line. The first journey to a site works out its
    distance field (a fraction of a second); every later one is a look-up.
    """

    def __init__(self, grid: land.LandGrid | None = None) -> None:
        self.grid = grid

    async def leg(self, journey: Journey) -> Leg | None:
        grid = self.grid if self.grid is not None else land.bay_grid()
        site = grid.nearest_land(journey.destination)
        if site is not None and not grid.has_field(site):
            # A site's first journey works out its field (up to a second of pure Python): in
            # a thread, so that a booking page waiting for it does not hold up the others.
            await asyncio.to_thread(grid.field_to, site)
        found = land.road_km(grid, journey.origin, journey.destination)
        if found is None:
            return None
        km = Decimal(f"{found:.3f}")
        minutes = (km * 60 / Decimal(str(land.SPEED_KMH))).quantize(_CENTIMINUTE, ROUND_HALF_UP)
        return Leg(km, minutes, "land", "medium")


def offline_chain(matrix: MatrixEstimator, factors: FactorSet) -> list[Estimator]:
    """The estimators that need no network, best first: matrix, land, straight line."""
    return [matrix, LandEstimator(), StraightLineEstimator(factors)]
