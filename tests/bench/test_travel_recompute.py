"""The recompute benchmark's dataset (bench/travel_recompute.py): Bay homes and hub
postcodes that Code-Point knows, given on top of bench/dataset.py's rows without changing
what bench/run.py generates; and an analyst's matrix from the published miles."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from bench import dataset, travel_recompute
from bench.columns import COLUMNS
from telehealth.travel import codepoint, home_communities, land
from telehealth.travel.estimators import MatrixEstimator


def _small() -> dataset.Dataset:
    return dataset.generate(
        clinicians=20,
        appointments=2_000,
        patients=5_000,
        today=date(2026, 12, 3),
        now=datetime(2026, 12, 3, tzinfo=UTC),
    )


def test_patients_live_in_the_bay_and_hubs_have_their_towns_postcodes() -> None:
    data, untouched = _small(), _small()
    drawn_from = travel_recompute.bay_homes(data)
    known = {p for p, _, _, _ in codepoint.read_area("LA")}
    postcode = COLUMNS["patients"].index("postcode")
    homes = [row[postcode] for row in data.rows["patients"]]
    assert all(h in known and str(h).split()[0] in home_communities.table() for h in homes)
    assert len(set(homes)) > 2_500 and drawn_from > 10_000  # spread over the Bay, not one street
    kind, site_postcode = COLUMNS["sites"].index("kind"), COLUMNS["sites"].index("postcode")
    hubs = [row[site_postcode] for row in data.rows["sites"] if row[kind] == "community_hub"]
    assert hubs == list(travel_recompute.HUB_POSTCODES) and set(hubs) <= known
    # Everything else is bench/dataset.py's, as bench/run.py loads it.
    for table in data.rows:
        if table not in ("patients", "sites"):
            assert data.rows[table] == untouched.rows[table], table
    assert {row[postcode] for row in untouched.rows["patients"]} == {"LA4 5RJ"}


def test_the_matrix_is_the_published_miles_in_km() -> None:
    matrix = MatrixEstimator.from_csv(travel_recompute.matrix_csv())
    km, minutes = matrix.rows[("LA14", 1)]
    assert km == Decimal("80.467")  # 50 miles
    assert minutes == (km * 60 / Decimal(str(land.SPEED_KMH))).quantize(Decimal("0.01"))
    assert set(matrix.rows) == {("LA14", 1), ("LA18", 2), ("LA9", 1)}
