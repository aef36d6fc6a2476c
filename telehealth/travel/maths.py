"""Travel-avoided arithmetic: grid distances, grid to GPS, and one appointment's record.

Pure: plain values in, plain values out, no I/O. Money, distance and carbon are `Decimal`
so that every recorded figure can be reproduced by hand from the record and its factor set.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType

KM_PER_MILE = Decimal("1.609344")  # the international mile, exact by definition

# Weakest first: a record is only as good as the weakest leg it was built from.
METHODS = ("none", "straight_line", "land", "matrix", "osrm")
CONFIDENCES = ("none", "low", "medium", "high")
MODES = ("video_home", "video_site", "in_person")

_KM = Decimal("0.01")
_MINUTES = Decimal("0.1")
_KG = Decimal("0.001")
_GBP = Decimal("0.01")


@dataclass(frozen=True)
class Point:
    """A British National Grid (OSGB36) position in whole metres."""

    easting: int
    northing: int


def straight_line_km(a: Point, b: Point) -> float:
    """Distance on the grid plane in km (grid scale error is under 0.04% within Great Britain)."""
    return math.hypot(b.easting - a.easting, b.northing - a.northing) / 1000


@dataclass(frozen=True)
class FactorSet:
    """The conversion factors behind a record, versioned so old records stay explainable."""

    version: str
    valid_from: date
    co2e_kg_per_km: Decimal
    co2e_source: str
    cost_per_mile: Decimal  # GBP
    cost_source: str
    average_speed_kmh: Decimal
    default_circuity: Decimal  # road km per straight-line km
    # Per destination site: routes round Morecambe Bay's estuaries are far longer than the
    # straight line. A site-wide factor is still crude (it applies from every direction);
    # calibrated district-to-site distances belong in the matrix estimator.
    site_circuity: Mapping[int, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        positive = ("co2e_kg_per_km", "cost_per_mile", "average_speed_kmh")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        circuities = {"default_circuity": self.default_circuity} | {
            f"site_circuity[{site_id}]": value for site_id, value in self.site_circuity.items()
        }
        for name, value in circuities.items():
            if not value >= 1:
                raise ValueError(f"{name} must be at least 1 (a road is never shorter)")
        object.__setattr__(self, "site_circuity", MappingProxyType(dict(self.site_circuity)))

    def circuity(self, site_id: int) -> Decimal:
        return self.site_circuity.get(site_id, self.default_circuity)


FACTORS_2025 = FactorSet(
    version="2025.1",
    valid_from=date(2025, 4, 6),  # tax year 2025/26, the mileage rate's year
    # *confirm*: DESNZ "Greenhouse gas reporting: conversion factors 2025", Business travel -
    # land, Cars (by size), "Average car", "Unknown" fuel, kg CO2e per km (0.26915 per mile).
    co2e_kg_per_km=Decimal("0.16725"),
    co2e_source="DESNZ 2025 GHG conversion factors",
    # *confirm*: HMRC approved mileage allowance payments, cars and vans, first 10,000 miles.
    cost_per_mile=Decimal("0.45"),
    cost_source="HMRC approved mileage allowance payments 2025/26",
    average_speed_kmh=Decimal("48"),
    default_circuity=Decimal("1.3"),
)

FACTORS_2026 = FactorSet(
    version="2026.1",
    valid_from=date(2026, 4, 6),
    # DESNZ 2026 factors were not yet published when this was written: still the 2025 figure.
    co2e_kg_per_km=Decimal("0.16725"),
    co2e_source="DESNZ 2025 GHG conversion factors",
    # *confirm*: reported as 55p per mile from 6 April 2026; check GOV.UK before relying on it.
    cost_per_mile=Decimal("0.55"),
    cost_source="HMRC approved mileage allowance payments 2026/27 (reported)",
    average_speed_kmh=Decimal("48"),
    default_circuity=Decimal("1.3"),
)


def factors_on(day: date, sets: tuple[FactorSet, ...] = (FACTORS_2025, FACTORS_2026)) -> FactorSet:
    """The set in force on `day`: the latest `valid_from` not after it."""
    in_force = [s for s in sets if s.valid_from <= day]
    if not in_force:
        raise ValueError(f"no factor set is valid on {day.isoformat()}")
    return max(in_force, key=lambda s: s.valid_from)


@dataclass(frozen=True)
class Leg:
    """One-way road distance and driving time, and how they were found."""

    km: Decimal
    minutes: Decimal
    method: str  # "osrm" | "matrix" | "land" | "straight_line" | "none"
    confidence: str  # "high" | "medium" | "low" | "none"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}")
        if self.confidence not in CONFIDENCES:
            raise ValueError(f"unknown confidence {self.confidence!r}")
        if self.km < 0 or self.minutes < 0:
            raise ValueError("a leg cannot be negative")


NO_ESTIMATE = Leg(Decimal(0), Decimal(0), "none", "none")


@dataclass(frozen=True)
class TravelRecord:
    """Round-trip travel for one appointment: what it would have been, was, and was avoided.

    Each figure is derived from the rounded figures before it (avoided_km from the rounded
    round trips, miles from avoided_km, CO2e from avoided_km, cost from avoided_miles), so an
    analyst can reproduce every column from the row and the named factor set alone.
    Avoided figures may be negative: a hub further away than the hospital is extra travel.
    """

    baseline_km: Decimal
    baseline_minutes: Decimal
    actual_km: Decimal
    actual_minutes: Decimal
    avoided_km: Decimal
    avoided_miles: Decimal
    avoided_minutes: Decimal
    avoided_co2e_kg: Decimal
    avoided_cost_gbp: Decimal
    method: str
    confidence: str
    factor_version: str


def _q(value: Decimal, step: Decimal) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def travel_record(mode: str, baseline: Leg, to_hub: Leg | None, factors: FactorSet) -> TravelRecord:
    """Build the record from ONE-WAY legs; the record itself is a ROUND trip (two legs).

    `baseline` is home to the service's usual in-person site; `to_hub` is home to the
    community hub and is required for "video_site" (and ignored otherwise).
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}")
    used = [baseline]
    if mode == "video_site":
        if to_hub is None:
            raise ValueError("video_site needs the leg to the hub")
        used.append(to_hub)
        actual = to_hub
    elif mode == "in_person":
        actual = baseline
    else:
        actual = Leg(Decimal(0), Decimal(0), baseline.method, baseline.confidence)

    baseline_km = _q(2 * baseline.km, _KM)
    baseline_minutes = _q(2 * baseline.minutes, _MINUTES)
    actual_km = _q(2 * actual.km, _KM)
    actual_minutes = _q(2 * actual.minutes, _MINUTES)
    # Not clamped at zero: a hub further than the hospital is extra travel, and reports show
    # it as such rather than hiding it.
    avoided_km = baseline_km - actual_km
    avoided_miles = _q(avoided_km / KM_PER_MILE, _KM)
    return TravelRecord(
        baseline_km=baseline_km,
        baseline_minutes=baseline_minutes,
        actual_km=actual_km,
        actual_minutes=actual_minutes,
        avoided_km=avoided_km,
        avoided_miles=avoided_miles,
        avoided_minutes=baseline_minutes - actual_minutes,
        avoided_co2e_kg=_q(avoided_km * factors.co2e_kg_per_km, _KG),
        avoided_cost_gbp=_q(avoided_miles * factors.cost_per_mile, _GBP),
        method=min((leg.method for leg in used), key=METHODS.index),
        confidence=min((leg.confidence for leg in used), key=CONFIDENCES.index),
        factor_version=factors.version,
    )


# Grid to GPS, after Ordnance Survey, "A guide to coordinate systems in Great Britain":
# the inverse Transverse Mercator projection on the Airy 1830 ellipsoid (Annex C) gives
# OSGB36 latitude and longitude; a 7-parameter Helmert transformation (section 6.6, table 6,
# applied in reverse) moves them to WGS84. The Helmert step is good to a few metres, far finer
# than a postcode's centroid; OSTN15 would be needed for centimetres.
_AIRY_A, _AIRY_B = 6377563.396, 6356256.909
_GRS80_A, _GRS80_B = 6378137.000, 6356752.3141
_F0 = 0.9996012717
_LAT0, _LON0 = math.radians(49), math.radians(-2)
_E0, _N0 = 400000.0, -100000.0
# OSGB36 -> WGS84: the guide's WGS84 -> OSGB36 parameters with every sign flipped.
_TX, _TY, _TZ = 446.448, -125.157, 542.060
_S = -20.4894e-6
_RX, _RY, _RZ = (math.radians(sec / 3600) for sec in (0.1502, 0.2470, 0.8421))


def _meridional_arc(lat: float) -> float:
    n = (_AIRY_A - _AIRY_B) / (_AIRY_A + _AIRY_B)
    d, s = lat - _LAT0, lat + _LAT0
    return (
        _AIRY_B
        * _F0
        * (
            (1 + n + 5 / 4 * n**2 + 5 / 4 * n**3) * d
            - (3 * n + 3 * n**2 + 21 / 8 * n**3) * math.sin(d) * math.cos(s)
            + (15 / 8 * n**2 + 15 / 8 * n**3) * math.sin(2 * d) * math.cos(2 * s)
            - 35 / 24 * n**3 * math.sin(3 * d) * math.cos(3 * s)
        )
    )


def _osgb36_lat_lon(easting: float, northing: float) -> tuple[float, float]:
    a, b = _AIRY_A, _AIRY_B
    e2 = 1 - b**2 / a**2
    lat = _LAT0 + (northing - _N0) / (a * _F0)
    while abs(northing - _N0 - _meridional_arc(lat)) >= 0.00001:
        lat += (northing - _N0 - _meridional_arc(lat)) / (a * _F0)
    sin2 = math.sin(lat) ** 2
    nu = a * _F0 / math.sqrt(1 - e2 * sin2)
    rho = a * _F0 * (1 - e2) / (1 - e2 * sin2) ** 1.5
    eta2 = nu / rho - 1
    t, sec = math.tan(lat), 1 / math.cos(lat)
    t2, t4, t6 = t**2, t**4, t**6
    vii = t / (2 * rho * nu)
    viii = t / (24 * rho * nu**3) * (5 + 3 * t2 + eta2 - 9 * t2 * eta2)
    ix = t / (720 * rho * nu**5) * (61 + 90 * t2 + 45 * t4)
    x = sec / nu
    xi = sec / (6 * nu**3) * (nu / rho + 2 * t2)
    xii = sec / (120 * nu**5) * (5 + 28 * t2 + 24 * t4)
    xiia = sec / (5040 * nu**7) * (61 + 662 * t2 + 1320 * t4 + 720 * t6)
    de = easting - _E0
    lat = lat - vii * de**2 + viii * de**4 - ix * de**6
    lon = _LON0 + x * de - xi * de**3 + xii * de**5 - xiia * de**7
    return lat, lon


def _to_cartesian(lat: float, lon: float, a: float, b: float) -> tuple[float, float, float]:
    e2 = 1 - b**2 / a**2
    nu = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
    return (
        nu * math.cos(lat) * math.cos(lon),
        nu * math.cos(lat) * math.sin(lon),
        (1 - e2) * nu * math.sin(lat),
    )


def _from_cartesian(x: float, y: float, z: float, a: float, b: float) -> tuple[float, float]:
    e2 = 1 - b**2 / a**2
    p = math.hypot(x, y)
    lat = math.atan2(z, p * (1 - e2))
    for _ in range(10):  # converges to well under a millimetre in three or four rounds
        nu = a / math.sqrt(1 - e2 * math.sin(lat) ** 2)
        lat = math.atan2(z + e2 * nu * math.sin(lat), p)
    return lat, math.atan2(y, x)


def bng_to_wgs84(easting: float, northing: float) -> tuple[float, float]:
    """(latitude, longitude) in WGS84 degrees for a British National Grid position."""
    lat, lon = _osgb36_lat_lon(easting, northing)
    x, y, z = _to_cartesian(lat, lon, _AIRY_A, _AIRY_B)
    x, y, z = (
        _TX + (1 + _S) * x - _RZ * y + _RY * z,
        _TY + _RZ * x + (1 + _S) * y - _RX * z,
        _TZ - _RY * x + _RX * y + (1 + _S) * z,
    )
    lat, lon = _from_cartesian(x, y, z, _GRS80_A, _GRS80_B)
    return math.degrees(lat), math.degrees(lon)
