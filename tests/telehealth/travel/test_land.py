"""The land estimator: round the Bay's water, deterministic, symmetric, never under the line."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from telehealth.travel import codepoint, land
from telehealth.travel.maths import Point, straight_line_km

FURNESS_GENERAL = Point(321179, 471847)  # LA14 4LF
LANCASTER_INFIRMARY = Point(347761, 461046)  # LA1 4RP
WESTMORLAND_GENERAL = Point(352493, 490303)  # LA9 7RG
MILLOM = Point(316809, 479764)
HEYSHAM = Point(341616, 461196)
GRANGE = Point(340500, 477500)
ULVERSTON = Point(328800, 478000)
BAY_PAIRS = [
    (FURNESS_GENERAL, LANCASTER_INFIRMARY),
    (MILLOM, FURNESS_GENERAL),
    (HEYSHAM, FURNESS_GENERAL),
    (GRANGE, LANCASTER_INFIRMARY),
    (GRANGE, ULVERSTON),
]


@pytest.fixture(scope="module")
def grid() -> land.LandGrid:
    return land.bay_grid()


def _strip(held: list[tuple[int, int]], *, reach: int = 0) -> land.LandGrid:
    """A small grid of 100 m cells from (col, row) cells that hold a postcode."""
    return land.build_grid(
        [Point(c * 100 + 50, r * 100 + 50) for c, r in held], cell_m=100, reach=reach
    )


def test_the_committed_grid_is_the_bay_with_its_attribution(grid: land.LandGrid) -> None:
    assert grid.cell_m == 400
    assert "Contains OS data" in grid.attribution
    for place in (FURNESS_GENERAL, LANCASTER_INFIRMARY, MILLOM, HEYSHAM, GRANGE):
        cell = grid.cell_of(place)
        assert cell is not None and grid.land[cell] != land.WATER
    assert grid.cell_of(Point(0, 0)) is None


def test_the_committed_grid_is_what_the_build_script_makes() -> None:
    from bench import land_grid

    points = [Point(e, n) for area in land_grid.AREAS for _, _, e, n in codepoint.read_area(area)]
    built = land.build_grid(
        points, cell_m=land_grid.CELL_M, reach=land_grid.REACH, attribution=codepoint.ATTRIBUTION
    )
    assert land.encode(built) == land.GRID_FILE.read_bytes()


def test_the_factors_in_use_are_the_fitted_ones() -> None:
    from bench import travel_accuracy

    found = travel_accuracy.pairs(land.bay_grid(), travel_accuracy.places())
    assert len(found) >= 15 and {p.use for p in found} == {"fit", "held_out"}
    worst, straight, detour = travel_accuracy.fitted_factors(found)
    assert (straight, detour) == (land.STRAIGHT_FACTOR, land.DETOUR_FACTOR)
    assert worst < 0.10  # every fit pair within 10% of its published road distance
    speed = travel_accuracy.fitted_speed(land.bay_grid(), travel_accuracy.places())
    assert round(speed, 1) == land.SPEED_KMH


def test_encoding_round_trips() -> None:
    grid = _strip([(0, 0), (3, 0)], reach=1)
    again = land.decode(land.encode(grid))
    assert (again.cols, again.rows, again.land, again.cell_m) == (
        grid.cols,
        grid.rows,
        grid.land,
        grid.cell_m,
    )
    with pytest.raises(ValueError, match="not a land grid"):
        land.decode(b"something else\n")


def test_a_path_goes_round_water_not_over_it() -> None:
    # A U of held cells: across the gap is 0.4 km over water cells; round the U is 1.2 km
    # with square corners, a little less with the diagonals that cut them.
    u = [(0, r) for r in range(5)] + [(c, 4) for c in range(5)] + [(4, r) for r in range(5)]
    grid = _strip(u)
    a, b = Point(50, 50), Point(450, 50)
    assert straight_line_km(a, b) == pytest.approx(0.4)
    path = land.land_path_km(grid, a, b)
    assert path is not None and 1.0 < path <= 1.2


def test_near_cells_cost_more_so_a_path_keeps_to_settled_ones() -> None:
    # Two settled cells with one near cell between them are crossed (the road across a
    # field); with water between them, no path at all.
    assert land.land_path_km(
        _strip([(0, 0), (2, 0)], reach=1), Point(50, 50), Point(250, 50)
    ) == pytest.approx(0.2)
    assert land.land_path_km(_strip([(0, 0), (3, 0)]), Point(50, 50), Point(350, 50)) is None


def test_off_the_land_is_none(grid: land.LandGrid) -> None:
    irish_sea = Point(280000, 470000)
    assert land.land_path_km(grid, irish_sea, LANCASTER_INFIRMARY) is None
    assert land.land_path_km(grid, LANCASTER_INFIRMARY, Point(10, 10)) is None


@pytest.mark.parametrize(("a", "b"), BAY_PAIRS)
def test_bay_pairs_go_round_the_water(grid: land.LandGrid, a: Point, b: Point) -> None:
    path = land.land_path_km(grid, a, b)
    assert path is not None
    # Every Bay pair's road is well over 1.4 times the straight line (data/road_distances.csv):
    # a path that crossed an estuary would be close to the line.
    assert path > 1.35 * straight_line_km(a, b)


def test_barrow_to_lancaster_is_near_the_published_50_miles(grid: land.LandGrid) -> None:
    km = land.road_km(grid, FURNESS_GENERAL, LANCASTER_INFIRMARY)
    assert km is not None
    assert 45 <= km / 1.609344 <= 55


def test_road_km_is_never_under_the_straight_line_either() -> None:
    assert land.road_km_from(10.0, 10.0) == pytest.approx(10.0 * land.STRAIGHT_FACTOR)
    assert land.road_km_from(30.0, 10.0) > 30.0
    assert land.STRAIGHT_FACTOR >= 1 and land.DETOUR_FACTOR >= 1


@pytest.mark.parametrize(("a", "b"), [*BAY_PAIRS, (WESTMORLAND_GENERAL, LANCASTER_INFIRMARY)])
def test_symmetric_and_never_under_the_straight_line(
    grid: land.LandGrid, a: Point, b: Point
) -> None:
    there, back = land.land_path_km(grid, a, b), land.land_path_km(grid, b, a)
    assert there is not None and back is not None
    assert there == pytest.approx(back, abs=1e-9)
    assert there >= straight_line_km(a, b)


@settings(max_examples=300, deadline=None)
@given(st.integers(300000, 370000), st.integers(450000, 510000))
def test_never_under_the_straight_line_from_anywhere(easting: int, northing: int) -> None:
    grid, home = land.bay_grid(), Point(easting, northing)
    crow = straight_line_km(home, FURNESS_GENERAL)
    path = land.land_path_km(grid, home, FURNESS_GENERAL)
    km = land.road_km(grid, home, FURNESS_GENERAL)
    assert (path is None) == (km is None)
    assert path is None or (km is not None and crow <= path and crow <= km)


def test_the_same_point_is_no_distance(grid: land.LandGrid) -> None:
    assert land.land_path_km(grid, GRANGE, GRANGE) == 0.0


def test_deterministic_across_fresh_grids() -> None:
    first = land.decode(land.GRID_FILE.read_bytes())
    second = land.decode(land.GRID_FILE.read_bytes())
    answers = [land.land_path_km(g, MILLOM, LANCASTER_INFIRMARY) for g in (first, second)]
    assert answers[0] == answers[1]
    assert answers[0] is not None and math.isfinite(answers[0])


def test_building_needs_points() -> None:
    with pytest.raises(ValueError, match="no points"):
        land.build_grid([], cell_m=100, reach=1)
