"""Travel maths: grid distance, grid to GPS, and round-trip records worked out by hand."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telehealth.travel.maths import (
    FACTORS_2025,
    FACTORS_2026,
    KM_PER_MILE,
    NO_ESTIMATE,
    Leg,
    Point,
    _osgb36_lat_lon,
    bng_to_wgs84,
    factors_on,
    straight_line_km,
    travel_record,
)

D = Decimal
LANCASTER_INFIRMARY = Point(347761, 461046)  # LA1 4RP
FURNESS_GENERAL = Point(321179, 471847)  # LA14 4LF
WESTMORLAND_GENERAL = Point(352493, 490303)  # LA9 7RG


def leg(km: str, minutes: str, method: str = "matrix", confidence: str = "medium") -> Leg:
    return Leg(D(km), D(minutes), method, confidence)


def metres_apart(a: tuple[float, float], b: tuple[float, float]) -> float:
    north = (a[0] - b[0]) * 111_320
    east = (a[1] - b[1]) * 111_320 * math.cos(math.radians(a[0]))
    return math.hypot(north, east)


def test_straight_line_is_grid_pythagoras() -> None:
    assert straight_line_km(Point(0, 0), Point(3000, 4000)) == 5.0
    # Lancaster to Barrow across the bay: the "~29 km straight" of the reference notes.
    assert straight_line_km(LANCASTER_INFIRMARY, FURNESS_GENERAL) == pytest.approx(28.69, abs=0.01)


def test_inverse_projection_matches_the_os_guide_worked_example() -> None:
    # OS "A guide to coordinate systems in Great Britain", Annex C.2: E 651409.903,
    # N 313177.270 is OSGB36 latitude 52°39'27.2531"N, longitude 1°43'4.5177"E.
    lat, lon = _osgb36_lat_lon(651409.903, 313177.270)
    assert math.degrees(lat) == pytest.approx(52 + 39 / 60 + 27.2531 / 3600, abs=1e-7)
    assert math.degrees(lon) == pytest.approx(1 + 43 / 60 + 4.5177 / 3600, abs=1e-7)


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        # Reference positions from OSTN15 (the OS's centimetre transformation, via convertbng).
        (LANCASTER_INFIRMARY, (54.042736, -2.799228)),
        (FURNESS_GENERAL, (54.136403, -3.207897)),
        (WESTMORLAND_GENERAL, (54.306116, -2.731605)),
        (Point(530046, 179386), (51.498464, -0.127893)),  # SW1A 1AA
        (Point(170000, 20000), (50.035597, -5.213250)),  # Cornwall: Helmert's worst corner
    ],
)
def test_grid_to_gps_within_five_metres(point: Point, expected: tuple[float, float]) -> None:
    assert metres_apart(bng_to_wgs84(point.easting, point.northing), expected) < 5


def test_factor_sets_validate_and_pick_by_date() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        replace(FACTORS_2025, site_circuity={7: D("0.9")})
    with pytest.raises(ValueError, match="co2e_kg_per_km must be positive"):
        replace(FACTORS_2025, co2e_kg_per_km=D(0))
    assert factors_on(date(2026, 4, 5)) is FACTORS_2025
    assert factors_on(date(2026, 4, 6)) is FACTORS_2026
    with pytest.raises(ValueError, match="no factor set"):
        factors_on(date(2020, 1, 1))
    overridden = replace(FACTORS_2025, site_circuity={2: D("2.6")})
    assert (overridden.circuity(2), overridden.circuity(3)) == (D("2.6"), D("1.3"))


def test_legs_reject_unknown_labels() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        leg("1", "1", method="guess")
    with pytest.raises(ValueError, match="unknown confidence"):
        leg("1", "1", confidence="certain")
    with pytest.raises(ValueError, match="negative"):
        leg("-1", "1")


# LA1 1AA (Code-Point 347467, 461653) to Furness General (321179, 471847), by hand:
#   straight line  hypot(26288, 10194) = 28195.33 m -> 28.195 km
#   x circuity 2.6 (routes round the bay)  = 73.307 km one way
#   at 48 km/h: 73.307 x 60 / 48           = 91.63375 -> 91.63 min one way
BARROW_FROM_LANCASTER = leg("73.307", "91.63", "straight_line", "low")
# Hub at Grange-over-Sands LA11 6AA (340691, 477874): hypot(6776, 16221) = 17579.39 m
#   x default circuity 1.3 = 22.853 km; 22.853 x 60 / 48 = 28.56625 -> 28.57 min one way
GRANGE_HUB = leg("22.853", "28.57", "straight_line", "low")


def test_video_home_avoids_the_whole_round_trip() -> None:
    record = travel_record("video_home", BARROW_FROM_LANCASTER, None, FACTORS_2025)
    # round trip 2 x 73.307 = 146.614 -> 146.61 km; 2 x 91.63 = 183.26 -> 183.3 min
    # miles 146.61 / 1.609344 = 91.0992... -> 91.10
    # CO2e 146.61 x 0.16725 = 24.5205225 -> 24.521 kg; cost 91.10 x 0.45 = 40.995 -> £41.00
    assert record.baseline_km == D("146.61")
    assert record.baseline_minutes == D("183.3")
    assert (record.actual_km, record.actual_minutes) == (D("0.00"), D("0.0"))
    assert record.avoided_km == D("146.61")
    assert record.avoided_miles == D("91.10")
    assert record.avoided_minutes == D("183.3")
    assert record.avoided_co2e_kg == D("24.521")
    assert record.avoided_cost_gbp == D("41.00")
    assert (record.method, record.confidence) == ("straight_line", "low")
    assert record.factor_version == "2025.1"


def test_video_site_avoids_the_baseline_less_the_hub_trip() -> None:
    record = travel_record("video_site", BARROW_FROM_LANCASTER, GRANGE_HUB, FACTORS_2025)
    # hub round trip 2 x 22.853 = 45.706 -> 45.71 km; 2 x 28.57 = 57.14 -> 57.1 min
    # avoided 146.61 - 45.71 = 100.90 km; 183.3 - 57.1 = 126.2 min
    # miles 100.90 / 1.609344 = 62.6963... -> 62.70; CO2e 100.90 x 0.16725 = 16.875525 -> 16.876
    # cost 62.70 x 0.45 = 28.215 -> £28.22
    assert (record.actual_km, record.actual_minutes) == (D("45.71"), D("57.1"))
    assert record.avoided_km == D("100.90")
    assert record.avoided_minutes == D("126.2")
    assert record.avoided_miles == D("62.70")
    assert record.avoided_co2e_kg == D("16.876")
    assert record.avoided_cost_gbp == D("28.22")


def test_in_person_avoids_nothing() -> None:
    record = travel_record("in_person", BARROW_FROM_LANCASTER, GRANGE_HUB, FACTORS_2025)
    assert record.actual_km == record.baseline_km == D("146.61")
    assert record.avoided_km == record.avoided_miles == record.avoided_cost_gbp == D("0.00")
    assert record.avoided_minutes == D("0.0")
    assert record.avoided_co2e_kg == D("0.000")


def test_a_hub_further_than_the_hospital_is_extra_travel() -> None:
    # Kept negative on purpose: reports show it as extra travel instead of hiding it.
    record = travel_record("video_site", leg("5", "10"), leg("30", "40"), FACTORS_2025)
    # (10 - 60) km = -50.00; miles -50 / 1.609344 = -31.0686 -> -31.07
    # CO2e -50 x 0.16725 = -8.3625 -> -8.363 (half away from zero); cost -31.07 x 0.45 = -13.98
    assert record.avoided_km == D("-50.00")
    assert record.avoided_minutes == D("-60.0")
    assert record.avoided_miles == D("-31.07")
    assert record.avoided_co2e_kg == D("-8.363")
    assert record.avoided_cost_gbp == D("-13.98")


def test_the_weakest_leg_names_the_method_and_confidence() -> None:
    osrm = leg("40", "45", "osrm", "high")
    assert travel_record("video_site", osrm, GRANGE_HUB, FACTORS_2025).method == "straight_line"
    assert travel_record("video_site", osrm, GRANGE_HUB, FACTORS_2025).confidence == "low"
    # The hub leg is not used for video_home, so it does not weaken the record.
    assert travel_record("video_home", osrm, GRANGE_HUB, FACTORS_2025).confidence == "high"
    nothing = travel_record("video_home", NO_ESTIMATE, None, FACTORS_2025)
    assert (nothing.method, nothing.confidence, nothing.avoided_km) == ("none", "none", D("0.00"))


def test_two_factor_sets_give_different_figures_and_name_themselves() -> None:
    a = travel_record("video_home", BARROW_FROM_LANCASTER, None, FACTORS_2025)
    b = travel_record("video_home", BARROW_FROM_LANCASTER, None, FACTORS_2026)
    assert (a.factor_version, b.factor_version) == ("2025.1", "2026.1")
    assert a.avoided_km == b.avoided_km
    assert (a.avoided_cost_gbp, b.avoided_cost_gbp) == (D("41.00"), D("50.11"))  # 91.10 x 0.55
    greener = replace(FACTORS_2025, version="test.1", co2e_kg_per_km=D("0.1"))
    assert travel_record("video_home", BARROW_FROM_LANCASTER, None, greener).avoided_co2e_kg == (
        D("14.661")
    )


def test_bad_calls_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        travel_record("telephone", GRANGE_HUB, None, FACTORS_2025)
    with pytest.raises(ValueError, match="needs the leg to the hub"):
        travel_record("video_site", GRANGE_HUB, None, FACTORS_2025)


kms = st.decimals(min_value=0, max_value=500, places=3)


@given(kms, kms, kms, kms)
def test_every_figure_follows_from_the_row(b_km: D, b_min: D, h_km: D, h_min: D) -> None:
    record = travel_record(
        "video_site", leg(str(b_km), str(b_min)), leg(str(h_km), str(h_min)), FACTORS_2025
    )
    assert record.avoided_km == record.baseline_km - record.actual_km
    assert record.avoided_minutes == record.baseline_minutes - record.actual_minutes
    assert (
        abs(record.avoided_miles * KM_PER_MILE - record.avoided_km) <= D("0.01") * KM_PER_MILE / 2
    )
    assert abs(record.avoided_co2e_kg - record.avoided_km * D("0.16725")) <= D("0.0005")
    assert abs(record.avoided_cost_gbp - record.avoided_miles * D("0.45")) <= D("0.005")
    assert record.avoided_co2e_kg * record.avoided_km >= 0  # never of opposite signs
