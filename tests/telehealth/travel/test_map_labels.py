"""Where the map's labels go: the first clear spot inside the map, in order of importance."""

from __future__ import annotations

from telehealth.travel.map_labels import Box, Labeller, Spot, around, text_box


def test_a_label_takes_the_first_spot_inside_the_map_and_clear_of_the_others() -> None:
    labeller = Labeller(200, 100, [Box(92, 42, 108, 58)])  # a marker at (100, 50)
    spots = around(100, 50, 10)
    first = labeller.place(["Kendal"], spots)
    assert first is not None and first.spot == spots[0]  # to the right
    second = labeller.place(["Kents"], spots)  # the right is taken: to the left
    assert second is not None and second.spot == spots[1]
    boxes = [text_box(p.text, p.spot) for p in (first, second)]
    assert not boxes[0].overlaps(boxes[1]) and all(b.inside(200, 100) for b in boxes)


def test_a_name_that_would_leave_the_map_stands_the_other_side() -> None:
    placed = Labeller(200, 100).place(["Westmorland General"], around(190, 50, 10))
    assert placed is not None and placed.spot.anchor == "end"


def test_a_shorter_wording_is_tried_before_none_and_none_when_nothing_fits() -> None:
    labeller = Labeller(60, 20)
    placed = labeller.place(["1 Royal Lancaster Infirmary", "1"], around(30, 10, 6))
    assert placed is not None and placed.text == "1"
    assert labeller.place(["LA1"], [Spot(30, 14, "middle")]) is None  # on top of the "1"


def test_a_forced_label_moves_only_as_far_as_keeps_it_inside() -> None:
    labeller = Labeller(100, 50)
    forced = labeller.force("12", Spot(99, 4, "start"))
    box = text_box(forced.text, forced.spot)
    assert box.inside(100, 50) and box.x1 > 99 and box.y0 < 1
