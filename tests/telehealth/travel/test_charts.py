"""The report's SVG charts: pure functions, checked by parsing what they draw."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from markupsafe import Markup

from telehealth.travel.charts import BLUE, RED, bar_chart, column_chart

SVG = "{http://www.w3.org/2000/svg}"
ROWS = [
    ("Kendal", Decimal("1234.5")),
    ("A & B <x>", Decimal("20.25")),
    ("Furness", Decimal("-40.00")),
]


def _parse(chart: Markup) -> ET.Element:
    assert isinstance(chart, Markup)
    return ET.fromstring(str(chart))


def _bars(root: ET.Element) -> list[ET.Element]:
    return root.findall(f"{SVG}rect")


def _zero(root: ET.Element) -> ET.Element:
    lines = [e for e in root.iter(f"{SVG}line") if e.get("class") == "bt-chart__zero"]
    assert len(lines) == 1
    return lines[0]


def _values(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == "bt-chart__value"]


def test_bar_chart_is_an_image_with_every_value_in_words() -> None:
    root = _parse(bar_chart(ROWS, title="Miles avoided by ICC", unit="miles"))
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == "Miles avoided by ICC"
    assert desc is not None
    assert desc.text == "Kendal: 1,234.5 miles; A & B <x>: 20.25 miles; Furness: -40.00 miles."
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert _values(root) == ["1,234.5", "20.25", "-40.00"]
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert "A & B <x>" in labels


def test_bar_lengths_follow_the_values_and_negatives_go_the_other_way() -> None:
    root = _parse(bar_chart(ROWS, title="t", unit="miles"))
    bars = _bars(root)
    assert len(bars) == 3
    zero = float(_zero(root).get("x1", "nan"))
    kendal, ab, furness = ((float(b.get("x", 0)), float(b.get("width", 0))) for b in bars)
    assert kendal[0] == ab[0] == zero and kendal[1] > ab[1] > 0
    assert abs(kendal[1] / ab[1] - 1234.5 / 20.25) < 1  # lengths in proportion (rounded px)
    assert abs(furness[0] + furness[1] - zero) < 0.2  # ends at the zero line, to its left
    assert [b.get("fill") for b in bars] == [BLUE, BLUE, RED]


def test_text_is_escaped_in_the_markup() -> None:
    chart = str(bar_chart([("A & B <x>", Decimal(1))], title="<Title> & co", unit="m"))
    assert "A &amp; B &lt;x&gt;" in chart and "<x>" not in chart
    assert "&lt;Title&gt; &amp; co" in chart
    _parse(column_chart([("A & B <x>", Decimal(1))], title="<T>", unit="m"))


def test_column_chart_draws_a_column_per_month_either_side_of_zero() -> None:
    rows = [("Jan", Decimal("10.5")), ("Feb", Decimal("-5")), ("Mar", Decimal("21"))]
    root = _parse(column_chart(rows, title="Trend", unit="miles"))
    bars = _bars(root)
    zero = float(_zero(root).get("y1", "nan"))
    tops = [float(b.get("y", 0)) for b in bars]
    heights = [float(b.get("height", 0)) for b in bars]
    assert abs(tops[0] + heights[0] - zero) < 0.2 and abs(tops[2] + heights[2] - zero) < 0.2
    assert tops[1] == zero and heights[2] > heights[0] > heights[1] > 0
    assert [b.get("fill") for b in bars] == [BLUE, RED, BLUE]
    assert _values(root) == ["10.5", "-5", "21"]
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "bt-chart__label"]
    assert labels == ["Jan", "Feb", "Mar"]
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text == "Jan: 10.5 miles; Feb: -5 miles; Mar: 21 miles."


def test_many_months_turn_their_labels() -> None:
    rows = [(f"Month {n}", Decimal(n)) for n in range(36)]
    root = _parse(column_chart(rows, title="Three years", unit="miles"))
    assert len(_bars(root)) == 36
    labels = [t for t in root.iter(f"{SVG}text") if t.get("class") == "bt-chart__label"]
    assert all("rotate(" in (t.get("transform") or "") for t in labels)


def test_empty_data_says_so() -> None:
    for chart in (bar_chart([], title="t", unit="miles"), column_chart([], title="t", unit="m")):
        root = _parse(chart)
        assert root.get("role") == "img" and not _bars(root)
        assert [t.text for t in root.iter(f"{SVG}text")] == ["No data"]


def test_all_zero_values_still_draw_a_zero_line() -> None:
    root = _parse(bar_chart([("Kendal", Decimal(0))], title="t", unit="miles"))
    _zero(root)
    assert _values(root) == ["0"]


def test_output_is_deterministic() -> None:
    assert bar_chart(ROWS, title="t", unit="u") == bar_chart(list(ROWS), title="t", unit="u")
    assert column_chart(ROWS, title="t", unit="u") == column_chart(ROWS, title="t", unit="u")
