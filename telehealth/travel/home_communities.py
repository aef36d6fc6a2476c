"""The patient's home community: the Integrated Care Community of their postcode district.

The table is `data/home_communities.csv` (district -> ICC, with how each was decided; see
docs/TRAVEL.md). Only the district is ever looked at, so a record keeps no more of the
postcode than the district-level community.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from telehealth.travel.estimators import district

TABLE = Path(__file__).parent / "data" / "home_communities.csv"
UNKNOWN = "Unknown"


@functools.cache
def table() -> dict[str, str]:
    """District -> ICC, read once per process (a small committed file)."""
    with TABLE.open(encoding="utf-8", newline="") as file:
        return {row["district"]: row["icc"] for row in csv.DictReader(file)}


def home_icc(postcode: str | None) -> str:
    """The ICC of `postcode`'s district; "Unknown" with no postcode or one outside the Bay."""
    if not postcode:
        return UNKNOWN
    return table().get(district(postcode), UNKNOWN)
