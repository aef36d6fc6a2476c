"""The committed district -> home community table (pure: no database)."""

from __future__ import annotations

import csv

from telehealth.demo.sites import ICCS
from telehealth.travel import home_communities
from telehealth.travel.home_communities import TABLE, UNKNOWN, home_icc


def test_every_bay_district_has_one_of_the_nine_communities_and_says_how() -> None:
    with TABLE.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [r["district"] for r in rows] == [f"LA{n}" for n in range(1, 24)]
    assert {r["icc"] for r in rows} == set(ICCS)  # each of the nine is someone's home
    for row in rows:
        assert row["how"].startswith(("a site in", "sites in", "no site in")), row


def test_the_district_decides_not_the_rest_of_the_postcode() -> None:
    assert home_icc("LA14 4LF") == home_icc("LA14 1HA") == "Barrow"
    assert home_icc("LA9 7RG") == "Kendal" and home_icc("LA1 4RP") == "Lancaster"
    assert home_icc("LA4 5RJ") == "Morecambe"
    assert home_icc("LA1 4RP") != home_icc("LA14 4LF")  # Lancaster patients are not Barrow's


def test_no_postcode_or_one_outside_the_bay_is_unknown() -> None:
    assert home_icc(None) == home_icc("") == UNKNOWN
    assert home_icc("CA1 1AA") == home_icc("LA99 1AA") == UNKNOWN
    assert home_communities.table()["LA12"] == "Ulverston"
