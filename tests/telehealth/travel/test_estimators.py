"""The estimator chain: a real OSRM-shaped server on loopback, then matrix, then straight line."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from telehealth.travel import land
from telehealth.travel.estimators import (
    Journey,
    LandEstimator,
    MatrixEstimator,
    OsrmEstimator,
    StraightLineEstimator,
    district,
    estimate,
    offline_chain,
)
from telehealth.travel.maths import (
    FACTORS_2025,
    NO_ESTIMATE,
    Leg,
    Point,
    bng_to_wgs84,
    straight_line_km,
)

D = Decimal
FURNESS_SITE = 2
FURNESS_GENERAL = Point(321179, 471847)  # LA14 4LF
PATIENT = Point(347467, 461653)  # LA1 1AA, Lancaster
FACTORS = replace(FACTORS_2025, site_circuity={FURNESS_SITE: D("2.6")})
MATRIX_CSV = "district,site_id,road_km,drive_minutes\nLA1,2,76.4,71\nLA14,2,3.2,8\n"

# OSRM's documented route response (api docs, "Route service"), trimmed to what we read.
ROUTE_OK = {
    "code": "Ok",
    "routes": [
        {"distance": 75123.4, "duration": 4012.5, "weight": 4012.5, "weight_name": "routability"}
    ],
    "waypoints": [
        {"name": "Queen Street", "location": [-2.8022, 54.0467], "distance": 3.1, "hint": "x"},
        {"name": "Dalton Lane", "location": [-3.2079, 54.1364], "distance": 12.0, "hint": "y"},
    ],
}
NO_ROUTE = {"code": "NoRoute", "message": "Impossible route between points"}


@dataclass
class FakeOsrm:
    """What the loopback server answers, and the requests it saw."""

    status: int = 200
    body: Any = field(default_factory=lambda: ROUTE_OK)
    delay: threading.Event | None = None
    seen: list[str] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    osrm: FakeOsrm

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (the timeout test) is not a failure of the test


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        osrm = self.server.osrm
        osrm.seen.append(self.path)
        if osrm.delay is not None:
            osrm.delay.wait(5)
        payload = json.dumps(osrm.body).encode()
        self.send_response(osrm.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def osrm_server() -> Iterator[tuple[str, FakeOsrm, _Server]]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.osrm = FakeOsrm()
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", server.osrm, server
    finally:
        if server.osrm.delay is not None:
            server.osrm.delay.set()
        server.shutdown()
        server.server_close()
        thread.join()


async def to_furness(chain: list[Any]) -> Leg:
    return await estimate(PATIENT, "LA1 1AA", FURNESS_SITE, FURNESS_GENERAL, chain=chain)


def test_district_is_the_outward_code() -> None:
    assert district("LA14 4LF") == "LA14"
    assert district(" la144lf ") == "LA14"
    assert district("EC1A 1BB") == "EC1A"
    with pytest.raises(ValueError):
        district("LA14")


async def test_osrm_answers_first(osrm_server: tuple[str, FakeOsrm, _Server]) -> None:
    base, osrm, _ = osrm_server
    async with httpx.AsyncClient() as client:
        chain = [
            OsrmEstimator(base, client),
            MatrixEstimator.from_csv(MATRIX_CSV),
            StraightLineEstimator(FACTORS),
        ]
        leg = await to_furness(chain)
    # 75123.4 m -> 75.123 km; 4012.5 s / 60 = 66.875 -> 66.88 min
    assert leg == Leg(D("75.123"), D("66.88"), "osrm", "high")
    (path,) = osrm.seen
    url = urlsplit(path)
    assert parse_qs(url.query) == {"overview": ["false"]}
    start, end = url.path.removeprefix("/route/v1/driving/").split(";")
    # OSRM wants longitude first.
    lat, lon = bng_to_wgs84(PATIENT.easting, PATIENT.northing)
    assert start == f"{lon:.6f},{lat:.6f}"
    assert start.startswith("-2.80") and ",54.04" in start
    assert end.startswith("-3.20") and ",54.13" in end


async def test_no_route_then_down_falls_back_to_matrix_then_straight_line(
    osrm_server: tuple[str, FakeOsrm, _Server], caplog: pytest.LogCaptureFixture
) -> None:
    base, osrm, server = osrm_server
    caplog.set_level(logging.INFO, logger="telehealth.travel.estimators")
    matrix = MatrixEstimator.from_csv(MATRIX_CSV)
    async with httpx.AsyncClient() as client:
        chain = [OsrmEstimator(base, client), matrix, StraightLineEstimator(FACTORS)]
        osrm.status, osrm.body = 400, NO_ROUTE  # OSRM sends its refusals with HTTP 400
        assert await to_furness(chain) == Leg(D("76.4"), D("71"), "matrix", "medium")
        assert "NoRoute" in caplog.text

        server.shutdown()
        server.server_close()
        assert await to_furness(chain) == Leg(D("76.4"), D("71"), "matrix", "medium")
        assert "OsrmEstimator failed for LA1 to site 2" in caplog.text

        # Neither the server nor the matrix knows this route: straight line, by hand:
        # hypot(26288, 10194) = 28195.33 m -> 28.195 km x 2.6 = 73.307 km;
        # 73.307 x 60 / 48 = 91.63375 -> 91.63 min.
        leg = await to_furness([OsrmEstimator(base, client), StraightLineEstimator(FACTORS)])
        assert leg == Leg(D("73.307"), D("91.63"), "straight_line", "low")
    # The logs name the district only, never the patient's full postcode.
    assert "LA1 1AA" not in caplog.text


async def test_a_slow_server_times_out_and_falls_through(
    osrm_server: tuple[str, FakeOsrm, _Server],
) -> None:
    base, osrm, _ = osrm_server
    osrm.delay = threading.Event()
    async with httpx.AsyncClient() as client:
        chain = [OsrmEstimator(base, client, timeout=0.2), MatrixEstimator.from_csv(MATRIX_CSV)]
        assert (await to_furness(chain)).method == "matrix"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"code": "Ok", "routes": []}),
        (200, {"code": "Ok", "routes": [{"distance": -1, "duration": 10}]}),
        (200, "not an object"),
        (502, None),
    ],
)
async def test_odd_osrm_answers_fall_through(
    osrm_server: tuple[str, FakeOsrm, _Server], status: int, body: Any
) -> None:
    base, osrm, _ = osrm_server
    osrm.status, osrm.body = status, body
    async with httpx.AsyncClient() as client:
        chain = [OsrmEstimator(base, client), StraightLineEstimator(FACTORS)]
        assert (await to_furness(chain)).method == "straight_line"


async def test_nobody_knows_gives_no_estimate() -> None:
    empty = MatrixEstimator({})
    assert await to_furness([empty]) == NO_ESTIMATE
    assert await to_furness([]) == NO_ESTIMATE


async def test_straight_line_uses_the_default_circuity_elsewhere() -> None:
    journey = Journey(Point(0, 0), "LA1 1AA", 99, Point(3000, 4000))
    # 5 km x 1.3 = 6.5 km; 6.5 x 60 / 48 = 8.125 -> 8.13 min
    assert await StraightLineEstimator(FACTORS).leg(journey) == Leg(
        D("6.500"), D("8.13"), "straight_line", "low"
    )


async def test_the_offline_chain_is_matrix_then_land_then_straight_line() -> None:
    chain = offline_chain(MatrixEstimator.from_csv(MATRIX_CSV), FACTORS)
    assert [type(e) for e in chain] == [MatrixEstimator, LandEstimator, StraightLineEstimator]
    assert (await to_furness(chain)).method == "matrix"  # LA1 has a matrix row
    ulverston = await estimate(
        Point(328686, 478225), "LA12 7AA", FURNESS_SITE, FURNESS_GENERAL, chain=chain
    )
    assert ulverston.method == "land" and ulverston.confidence == "medium"
    # Off the grid's land (a London postcode): the land estimator does not know.
    london = await estimate(
        Point(531000, 181000), "EC1A 1BB", FURNESS_SITE, FURNESS_GENERAL, chain=chain
    )
    assert london.method == "straight_line"


async def test_land_goes_round_the_bay_at_the_fitted_speed() -> None:
    journey = Journey(PATIENT, "LA1 1AA", FURNESS_SITE, FURNESS_GENERAL)
    leg = await LandEstimator().leg(journey)
    assert leg is not None and leg.method == "land"
    crow = straight_line_km(PATIENT, FURNESS_GENERAL)
    # About 29 km over the water, about 75 km round it: well past the 1.3 circuity's 38 km.
    assert 65 < leg.km < 85 and leg.km > 2 * D(f"{crow:.3f}")
    assert leg.minutes == (leg.km * 60 / D(str(land.SPEED_KMH))).quantize(D("0.01"))
    again = await LandEstimator(land.bay_grid()).leg(journey)
    assert again == leg  # deterministic, and the same with the grid passed in


async def test_matrix_reads_an_analysts_csv() -> None:
    matrix = MatrixEstimator.from_csv(
        "District,Site_ID,Road_km,Drive_minutes\r\nla14, 2 ,3.2,8\r\n\r\nLA1,2,76.4,71.5\r\n"
    )
    assert matrix.rows == {("LA14", 2): (D("3.2"), D("8")), ("LA1", 2): (D("76.4"), D("71.5"))}
    journey = Journey(PATIENT, "LA14 4LF", 2, FURNESS_GENERAL)
    assert await matrix.leg(journey) == Leg(D("3.2"), D("8"), "matrix", "medium")
    assert await matrix.leg(replace(journey, site_id=3)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the header must be district,site_id,road_km,drive_minutes"),
        ("district,site,km,minutes\n", "line 1: the header"),
        ("district,site_id,road_km,drive_minutes\nLA1,2,7\n", "line 2: expected 4 columns"),
        ("district,site_id,road_km,drive_minutes\nLA1 4RP,2,7,9\n", "line 2: 'LA1 4RP' is not"),
        ("district,site_id,road_km,drive_minutes\nLA1,x,7,9\n", "line 2: site_id 'x'"),
        ("district,site_id,road_km,drive_minutes\nLA1,0,7,9\n", "line 2: site_id '0'"),
        ("district,site_id,road_km,drive_minutes\nLA1,2,far,9\n", "line 2: road_km 'far' is not"),
        ("district,site_id,road_km,drive_minutes\nLA1,2,-7,9\n", "line 2: road_km '-7' must be"),
        ("district,site_id,road_km,drive_minutes\nLA1,2,NaN,9\n", "line 2: road_km 'NaN' must"),
        ("district,site_id,road_km,drive_minutes\nLA1,2,7,0\n", "line 2: drive_minutes '0'"),
        (
            "district,site_id,road_km,drive_minutes\nLA1,2,7,9\n\nla1,2,8,9\n",
            "line 4: LA1 to site 2 is listed twice",
        ),
    ],
)
def test_matrix_rejects_bad_lines_by_number(text: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        MatrixEstimator.from_csv(text)
    assert str(error.value).startswith(message)
