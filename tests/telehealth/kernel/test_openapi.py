"""The OpenAPI document promises what the API answers (schemathesis checks it in
test_openapi_schemathesis.py), and every integer and date parameter, sent out of range, is a 422.

The range test walks /openapi.json itself: each operation's path, query and JSON body fields
that are integers, dates or instants (also inside arrays) get values past what the columns, the
calendar or the service can hold, one field at a time, with every other field at a valid value.
Each must be a 422 naming that field (path ids too: see telehealth/kernel/inputs.py), on both
databases.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_user

OUT_OF_RANGE: dict[str, list[object]] = {
    "integer": [2**63, 2**31, -(2**63)],
    "date": ["9999-12-31", "0001-01-01"],
    "date-time": [
        "9999-12-31T23:59:59+00:00",
        "9999-12-31T23:30:00-05:00",
        "0001-01-01T00:00:00+00:00",
        "0001-01-01T00:30:00+05:00",
    ],
}


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    where: str  # path, query or body
    field: str  # as the error should name it
    value: Any
    path_params: dict[str, Any]
    query: dict[str, Any]
    body: dict[str, Any] | None

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.where} {self.field}={self.value!r}"


def _resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _options(schema: dict[str, Any], document: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null alternatives of a schema."""
    schema = _resolve(schema, document)
    alternatives = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return [
        _resolve(s, document) for s in alternatives if _resolve(s, document).get("type") != "null"
    ]


def _kind(schema: dict[str, Any]) -> str | None:
    if schema.get("type") == "integer":
        return "integer"
    if schema.get("type") == "string" and schema.get("format") in ("date", "date-time"):
        return str(schema["format"])
    return None


def _valid(schema: dict[str, Any], document: dict[str, Any]) -> Any:
    """A value the schema accepts (the service may still refuse it for its meaning)."""
    schema = _options(schema, document)[0]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        return max(schema.get("minimum", 1), min(1, schema.get("maximum", 1)))
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if kind == "array":
        return [_valid(schema.get("items", {}), document)] * max(1, schema.get("minItems", 1))
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _valid(properties[name], document) for name in schema.get("required", [])}
    return {
        "date": "2030-06-04",
        "date-time": "2030-06-04T09:00:00+01:00",
        "time": "09:00:00",
        "email": "someone@example.com",
    }.get(schema.get("format", ""), "x" * max(1, schema.get("minLength", 1)))


def _targets(
    name: str, schema: dict[str, Any], document: dict[str, Any]
) -> Iterator[tuple[str, str, Callable[[object], object]]]:
    """(field name, kind, how to place a value) for each integer or date inside a field."""
    for option in _options(schema, document):
        kind = _kind(option)
        if kind is not None:
            yield name, kind, lambda value: value
        elif option.get("type") == "array":
            for inner, inner_kind, place in _targets(f"{name}.0", option["items"], document):
                yield inner, inner_kind, _in_a_list(place)


def _in_a_list(place: Callable[[object], object]) -> Callable[[object], object]:
    return lambda value: [place(value)]


def probes(document: dict[str, Any]) -> Iterator[Probe]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            params = operation.get("parameters", [])
            base_path = {
                p["name"]: _valid(p["schema"], document) for p in params if p["in"] == "path"
            }
            base_query = {
                p["name"]: _valid(p["schema"], document)
                for p in params
                if p["in"] == "query" and p.get("required")
            }
            body_schema = (
                operation.get("requestBody", {})
                .get("content", {})
                .get("application/json", {})
                .get("schema")
            )
            base_body = _valid(body_schema, document) if body_schema else None
            for p in params:
                if p["in"] not in ("path", "query"):
                    continue
                for field, kind, place in _targets(p["name"], p["schema"], document):
                    for value in OUT_OF_RANGE[kind]:
                        values = {p["name"]: place(value)}
                        yield Probe(
                            method.upper(),
                            path,
                            p["in"],
                            field,
                            value,
                            base_path | values if p["in"] == "path" else base_path,
                            base_query | values if p["in"] == "query" else base_query,
                            base_body,
                        )
            if body_schema is None:
                continue
            properties = _resolve(body_schema, document).get("properties", {})
            for name, schema in properties.items():
                for field, kind, place in _targets(name, schema, document):
                    for value in OUT_OF_RANGE[kind]:
                        yield Probe(
                            method.upper(),
                            path,
                            "body",
                            field,
                            value,
                            base_path,
                            base_query,
                            {**(base_body or {}), name: place(value)},
                        )


def _names(response: httpx.Response) -> set[str]:
    try:
        return set(response.json()["error"]["fields"])
    except (ValueError, KeyError, TypeError):
        return set()


async def test_every_integer_and_date_parameter_out_of_range_is_a_422_naming_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, headers = await make_user(session, role="admin")
    document = (await client.get("/openapi.json")).json()
    found = list(probes(document))
    failures = []
    for probe in found:
        url = probe.path.format_map(probe.path_params)
        try:
            response = await client.request(
                probe.method, url, params=probe.query, json=probe.body, headers=headers
            )
        except Exception as exc:  # the app crashed: a 500, or no response at all
            failures.append(f"{probe}: raised {type(exc).__name__}: {exc}"[:300])
            continue
        named = _names(response)
        wanted = probe.field.split(".")[0]
        if response.status_code != 422 or not any(
            n == wanted or n.startswith(wanted + ".") for n in named
        ):
            failures.append(f"{probe}: {response.status_code} {response.text[:200]}")
    assert not failures, f"{len(failures)} of {len(found)}:\n" + "\n".join(failures)
    # The walk reached every kind of place a number or a date can come in.
    assert {(p.where, type(p.value).__name__) for p in found} >= {
        ("path", "int"),
        ("query", "int"),
        ("query", "str"),
        ("body", "int"),
        ("body", "str"),
    }
    assert any(".0" in p.field for p in found), "ids inside arrays are probed"


async def test_each_operation_documents_every_error_it_can_answer(
    client: httpx.AsyncClient,
) -> None:
    """A body that is not JSON is a 400, an id in the path naming nothing a 404, and path ids
    are bounded as the API checks them: schemathesis found each of these undocumented."""
    document = (await client.get("/openapi.json")).json()
    for path, item in document["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            responses = set(operation["responses"])
            assert {"401", "403", "422"} <= responses, where
            if "requestBody" in operation:
                assert "400" in responses, where
            for parameter in operation["parameters"]:
                if parameter["in"] == "path":
                    assert "404" in responses, where
                    schema = parameter["schema"]
                    assert (schema["minimum"], schema["maximum"]) == (1, 2**31 - 1), where
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, where


def _times(schema: Any, document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if isinstance(schema, dict):
        if schema.get("format") == "time":
            yield schema
        for value in schema.values():
            yield from _times(value, document)
    elif isinstance(schema, list):
        for value in schema:
            yield from _times(value, document)


async def test_wall_clock_times_are_not_documented_as_rfc3339_times(
    client: httpx.AsyncClient,
) -> None:
    """JSON Schema's "time" format demands an offset; session hours are Europe/London times
    such as 09:30, so the document gives their pattern instead."""
    document = (await client.get("/openapi.json")).json()
    assert list(_times(document, document)) == []
    session = document["components"]["schemas"]["SessionOut"]["properties"]["start_time"]
    assert re.fullmatch(session["pattern"], "09:30:00") and not re.fullmatch(
        session["pattern"], "09:30:00Z"
    )
