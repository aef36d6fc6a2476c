"""Errors to HTTP: a browser asking for a page that does not exist gets the HTML page, an API
client gets JSON, and /api/ is always JSON."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request

from telehealth.kernel.http import wants_html

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("*/*", False),  # httpx, curl: no preference, so an API client
        ("", False),
        ("application/json", False),
        ("application/json, text/html;q=0.5", False),
        ("text/html;q=0.9, application/json;q=0.5", True),
        ("text/html;q=0", False),
        ("TEXT/HTML", True),
        ("text/html;q=abc", False),
    ],
)
def test_accept_header_decides_for_unknown_urls(accept: str, html: bool) -> None:
    scope = {"type": "http", "path": "/nonexistent", "headers": [(b"accept", accept.encode())]}
    assert wants_html(Request(scope)) is html


@pytest.mark.parametrize("path", ["/docs", "/nonexistent", "/staff/nonexistent"])
async def test_a_browser_gets_the_html_not_found_page(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers={"accept": BROWSER})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in response.text
    assert "Not Found" not in response.text  # never the framework's wording


@pytest.mark.parametrize("accept", ["*/*", "application/json"])
async def test_an_api_client_still_gets_json(client: httpx.AsyncClient, accept: str) -> None:
    response = await client.get("/docs", headers={"accept": accept})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_api_paths_are_always_json(client: httpx.AsyncClient) -> None:
    for path in ("/api/v1/nonexistent", "/api/nothing"):
        response = await client.get(path, headers={"accept": BROWSER})
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


async def test_a_wrong_method_on_a_page_is_said_plainly(client: httpx.AsyncClient) -> None:
    response = await client.get("/staff/logout", headers={"accept": BROWSER})
    assert response.status_code == 405
    assert "This page cannot be used that way" in response.text
    assert "Method Not Allowed" not in response.text
