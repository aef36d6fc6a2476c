"""The travel map: a pure function, checked by parsing what it draws."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from markupsafe import Markup

from telehealth.travel.charts import BLUE, RED
from telehealth.travel.land import HELD, NEAR, WATER, LandGrid, bay_grid
from telehealth.travel.map import (
    HOSPITAL,
    HUB,
    LEGEND_HEIGHT,
    MIN_RADIUS,
    MIN_SPAN_M,
    TITLE,
    District,
    Landmark,
    coarse,
    frame_for,
    land_path,
    travel_map,
)
from telehealth.travel.map_labels import Box, Spot, text_box
from telehealth.travel.maths import Point

SVG = "{http://www.w3.org/2000/svg}"
BARROW = District("LA14", Point(319800, 469400), Decimal("1234.50"))
ULVERSTON = District("LA12", Point(328686, 478225), Decimal("308.63"))
KENDAL = District("LA9", Point(351500, 492800), Decimal("0.01"))
MORECAMBE = District("LA4", Point(343600, 464400), Decimal("-12.00"))
NOWHERE = District("LA99", Point(330000, 470000), Decimal("0.00"))
DISTRICTS = [BARROW, ULVERSTON, KENDAL, MORECAMBE, NOWHERE]
SITES = [
    Landmark("Royal Lancaster Infirmary", HOSPITAL, Point(347761, 461046)),
    Landmark("Ulverston <hub> & café", HUB, Point(328686, 478225)),
]


def _parse(drawn: Markup) -> ET.Element:
    assert isinstance(drawn, Markup)
    return ET.fromstring(str(drawn))


def _circles(root: ET.Element) -> dict[str, ET.Element]:
    return {
        c.get("data-district", ""): c
        for c in root.iter(f"{SVG}circle")
        if c.get("class") == "bt-map__district"
    }


def _r(element: ET.Element) -> float:
    return float(element.get("r", "nan"))


def test_the_map_is_an_image_named_and_described_in_words() -> None:
    root = _parse(travel_map(DISTRICTS, SITES, grid=None))
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == TITLE
    assert desc is not None and desc.text is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "Most miles avoided: LA14 1,234.50 miles; LA12 308.63 miles; LA9 0.01 miles." in (
        desc.text
    )
    assert "Extra travel (red): LA4 -12.00 miles." in desc.text
    assert "Hospitals: Royal Lancaster Infirmary." in desc.text
    assert "Community hubs: Ulverston <hub> & café." in desc.text  # escaped, parsed back
    assert "LA99" not in desc.text  # no miles: nothing to draw or name


def test_the_description_names_only_the_five_largest() -> None:
    many = [District(f"LA{n}", Point(330000 + n, 470000), Decimal(n)) for n in range(1, 9)]
    desc = _parse(travel_map(many, [], grid=None)).find(f"{SVG}desc")
    assert desc is not None and desc.text is not None
    assert re.findall(r"LA\d+", desc.text) == ["LA8", "LA7", "LA6", "LA5", "LA4"]


def test_circle_areas_are_in_proportion_to_the_miles() -> None:
    circles = _circles(_parse(travel_map(DISTRICTS, SITES, grid=None)))
    assert set(circles) == {"LA14", "LA12", "LA9", "LA4"}  # LA99 has no miles
    barrow, ulverston, morecambe = _r(circles["LA14"]), _r(circles["LA12"]), _r(circles["LA4"])
    assert abs((ulverston / barrow) ** 2 - 308.63 / 1234.5) < 0.01
    assert abs((morecambe / barrow) ** 2 - 12 / 1234.5) < 0.002
    assert _r(circles["LA9"]) == MIN_RADIUS  # too small to see: drawn at the least size
    assert circles["LA14"].get("fill") == BLUE and circles["LA4"].get("fill") == RED
    assert circles["LA14"].get("data-miles") == "1234.50"
    assert list(circles) == ["LA14", "LA12", "LA4", "LA9"]  # drawn big first: underneath


def test_circles_sit_where_their_districts_are() -> None:
    frame = frame_for([d.point for d in DISTRICTS], width=640, max_height=640)
    circles = _circles(_parse(travel_map(DISTRICTS, [], grid=None)))
    for d in DISTRICTS[:4]:
        circle = circles[d.name]
        assert abs(float(circle.get("cx", "nan")) - frame.x(d.point.easting)) < 0.06
        assert abs(float(circle.get("cy", "nan")) - frame.y(d.point.northing)) < 0.06
    # North is up: Kendal is north of Barrow, and east of it.
    assert float(circles["LA9"].get("cy", 0)) < float(circles["LA14"].get("cy", 0))
    assert float(circles["LA9"].get("cx", 0)) > float(circles["LA14"].get("cx", 0))


def test_the_frame_holds_every_point_and_a_town_keeps_its_surroundings() -> None:
    points = [d.point for d in DISTRICTS] + [s.point for s in SITES]
    frame = frame_for(points, width=640, max_height=400)
    assert frame.width == 640 and frame.height <= 400
    for p in points:
        assert 0 < frame.x(p.easting) < frame.width and 0 < frame.y(p.northing) < frame.height
    one = frame_for([Point(350000, 460000)], width=640, max_height=640)
    assert math.isclose(one.width / one.scale, MIN_SPAN_M)


def test_the_legend_explains_every_shape_and_gives_sizes_to_read_against() -> None:
    root = _parse(travel_map(DISTRICTS, SITES, grid=None))
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "bt-map__legend")
    words = [t.text for t in legend.iter(f"{SVG}text")]
    assert words[:4] == ["Hospital", "Community hub", "Miles avoided", "Extra travel"]
    keys = [c for c in legend.iter(f"{SVG}circle") if c.get("class") == "bt-map__key"]
    assert [k.get("data-miles") for k in keys] == ["1234.50", "200"]
    assert words[4:] == ["1,235 miles", "200 miles"]  # whole miles, as the page reads them
    assert math.isclose(_r(keys[0]), _r(_circles(root)["LA14"]))
    no_extra = _parse(travel_map([BARROW, ULVERSTON], SITES, grid=None))
    assert "Extra travel" not in "".join(no_extra.itertext())


def test_hospitals_and_hubs_are_labelled_markers_of_different_shapes() -> None:
    root = _parse(travel_map(DISTRICTS, SITES, grid=None))
    sites = [g for g in root.iter(f"{SVG}g") if g.get("class") == "bt-map__site"]
    assert [(g.get("data-kind"), g.get("data-name")) for g in sites] == [
        (HOSPITAL, "Royal Lancaster Infirmary"),
        (HUB, "Ulverston <hub> & café"),
    ]
    assert sites[0].find(f"{SVG}rect") is not None and sites[1].find(f"{SVG}path") is not None
    # Each numbered for the key beneath the map; a hospital named too where it fits.
    assert [g.get("data-key") for g in sites] == ["1", "2"]
    labels = [g.find(f"{SVG}text") for g in sites]
    assert [t.text for t in labels if t is not None] == ["1 Royal Lancaster Infirmary", "2"]
    assert [t.text for g in sites for t in g.iter(f"{SVG}title")] == [
        "1: Royal Lancaster Infirmary",
        "2: Ulverston <hub> & café",
    ]


def _boxes(root: ET.Element) -> list[tuple[str, Box]]:
    """Every label on the map (not the legend's words) and the box it takes."""
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "bt-map__legend")
    in_legend = set(legend.iter(f"{SVG}text"))
    return [
        (t.text or "", text_box(t.text or "", Spot(float(t.get("x", "")), float(t.get("y", "")),
                                                   t.get("text-anchor", ""))))
        for t in root.iter(f"{SVG}text")
        if t not in in_legend
    ]  # fmt: skip


def test_a_name_that_would_run_off_the_map_goes_to_the_left_of_its_marker() -> None:
    east = Landmark("Westmorland General Hospital", HOSPITAL, Point(360000, 470000))
    root = _parse(travel_map([BARROW], [east], grid=None))
    label = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "bt-map__site")
    text = label.find(f"{SVG}text")
    assert text is not None and text.get("text-anchor") == "end"
    assert all(box.inside(640, float(root.get("height", ""))) for _, box in _boxes(root))


def test_a_crowded_map_keeps_every_label_inside_it_and_apart() -> None:
    """The Bay's hubs and hospitals round Kendal and Barrow, where the names once piled up
    and ran off the map's edge: every site keeps its number, no two labels touch, and only
    the smallest districts' names may be left off."""
    sites = [
        Landmark("Westmorland General Hospital", HOSPITAL, Point(352493, 490303)),
        Landmark("Furness General Hospital", HOSPITAL, Point(321179, 471847)),
        Landmark("Kendal Library video hub (demo)", HUB, Point(351600, 492900)),
        Landmark("Sedbergh Medical Practice video hub (demo)", HUB, Point(365800, 492100)),
        Landmark("Windermere Health Centre video hub (demo)", HUB, Point(341300, 498400)),
        Landmark("Barrow Town Centre Health Centre video hub (demo)", HUB, Point(319900, 469300)),
        Landmark("Carnforth Health Centre video hub (demo)", HUB, Point(349800, 470700)),
    ]
    districts = [
        District(name, Point(e, n), Decimal(m))
        for name, e, n, m in [("LA8", 349000, 494500, "250"), ("LA9", 351700, 492500, "640"),
                              ("LA10", 368500, 491200, "300"), ("LA23", 340400, 498600, "120"),
                              ("LA14", 320500, 470400, "380"), ("LA13", 322500, 470800, "200"),
                              ("LA15", 322200, 474100, "40"), ("LA5", 350300, 471600, "300"),
                              ("LA3", 343200, 460200, "60"), ("LA17", 321800, 482700, "35")]
    ]  # fmt: skip
    root = _parse(travel_map(districts, sites, grid=None, width=460))
    boxes = _boxes(root)
    height = float(root.get("height", "")) - LEGEND_HEIGHT
    assert all(box.inside(460, height) for _, box in boxes), boxes
    for n, (text, box) in enumerate(boxes):
        assert not any(box.overlaps(other) for _, other in boxes[n + 1 :]), text
    numbers = {t.split()[0] for t, _ in boxes if t.split()[0].isdigit()}
    assert numbers == {str(n) for n in range(1, len(sites) + 1)}
    named = {t for t, _ in boxes if t.startswith("LA")}
    assert {"LA9", "LA14", "LA10", "LA5", "LA8", "LA13", "LA23"} <= named


def test_an_empty_report_draws_a_message_not_a_broken_map() -> None:
    for districts in ([], [NOWHERE]):
        root = _parse(travel_map(districts, SITES, grid=bay_grid()))
        assert root.get("role") == "img"
        desc = root.find(f"{SVG}desc")
        assert desc is not None and desc.text == "No travel avoided to map for this selection."
        assert not _circles(root) and root.find(f"{SVG}path") is None
        assert "No travel avoided" in "".join(root.itertext())


def test_districts_left_out_are_said_in_the_text_alternative() -> None:
    note = "Districts with fewer than 5 appointments are not drawn."
    desc = _parse(travel_map([BARROW], SITES, grid=None, note=note)).find(f"{SVG}desc")
    assert desc is not None and desc.text and note in desc.text
    # None left to draw: not "no travel avoided", which may not be so.
    for districts in ([], [NOWHERE]):
        root = _parse(travel_map(districts, SITES, grid=None, note=note))
        desc = root.find(f"{SVG}desc")
        assert desc is not None and desc.text == f"No district to draw for this selection. {note}"
        assert "No travel avoided" not in "".join(root.itertext())


def test_the_map_is_the_same_whatever_order_its_inputs_come_in() -> None:
    once = travel_map(DISTRICTS, SITES, grid=bay_grid())
    assert travel_map(DISTRICTS[::-1], SITES[::-1], grid=bay_grid()) == once


def _grid(rows: list[str]) -> LandGrid:
    """A grid from rows of text, the top row northernmost: '#' held, '+' near, '.' water."""
    cells = {"#": HELD, "+": NEAR, ".": WATER}
    land = bytes(cells[c] for row in reversed(rows) for c in row)
    return LandGrid(0, 0, 100, len(rows[0]), len(rows), land)


def test_land_is_one_rectangle_per_run_of_cells_and_runs_repeated_grow_taller() -> None:
    grid = _grid(["##..", "#.+.", "#.#."])
    frame = frame_for([Point(0, 0), Point(400, 300)], width=400, max_height=400)
    # Frame covers far more than the grid (the least span): a cell is 2 px here.
    scale = frame.scale * 100
    path = land_path(grid, frame)
    boxes = [
        tuple(map(float, m)) for m in re.findall(r"M([\d.]+) ([\d.]+)H([\d.]+)V([\d.]+)", path)
    ]
    assert path.count("M") == len(boxes) == 3
    sizes = sorted(
        (round((x1 - x0) / scale, 1), round((y1 - y0) / scale, 1)) for x0, y0, x1, y1 in boxes
    )
    # Two one-cell columns two rows tall (held and near alike are land), and the top row's
    # run of two: no rectangle per cell.
    assert sizes == [(1.0, 2.0), (1.0, 2.0), (2.0, 1.0)]


def test_coarse_blocks_are_land_where_any_of_their_cells_is() -> None:
    grid = _grid(["#...", "....", "....", "...+"])
    blocks = coarse(grid, 2)
    assert (blocks.cols, blocks.rows, blocks.cell_m) == (2, 2, 200)
    assert list(blocks.land) == [WATER, HELD, HELD, WATER]


def test_the_bay_map_draws_its_land_and_stays_small() -> None:
    drawn = travel_map(DISTRICTS, SITES, grid=bay_grid())
    land = next(p for p in _parse(drawn).iter(f"{SVG}path") if p.get("class") == "bt-map__land")
    assert land.get("d", "").count("M") > 50
    assert len(drawn) < 40_000


def test_a_district_name_moves_under_its_circle_when_a_site_is_inside_it() -> None:
    root = _parse(travel_map(DISTRICTS, SITES, grid=None))
    circles = _circles(root)
    texts = {t.text: float(t.get("y", "nan")) for t in root.iter(f"{SVG}text")}
    barrow, ulverston = circles["LA14"], circles["LA12"]  # the Ulverston hub is in LA12's
    assert abs(texts["LA14"] - float(barrow.get("cy", "nan"))) < 5
    assert texts["LA12"] > float(ulverston.get("cy", "nan")) + _r(ulverston)
    # Too small a circle to hold its name: the name stands beside it.
    kendal = circles["LA9"]
    assert texts["LA9"] > float(kendal.get("cy", "nan")) + _r(kendal)
