"""The OpenAPI 3.1 document, built from the API's declared operations."""

from __future__ import annotations

import re
from typing import Any

from pydantic import TypeAdapter

from telehealth.kernel.api import Operation
from telehealth.kernel.inputs import Id

_PATH_PARAM = re.compile(r"{(\w+)}")
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No content",
    400: "Malformed request",
    401: "No valid bearer token",
    403: "The role does not allow this",
    404: "Not found",
    409: "Conflict with the current state",
    422: "Invalid input: `fields` names each bad field",
}
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}


def _schema(annotation: Any, defs: dict[str, Any]) -> dict[str, Any]:
    schema = TypeAdapter(annotation).json_schema(ref_template="#/components/schemas/{model}")
    defs.update(schema.pop("$defs", {}))
    return schema


def _parameters(op: Operation, defs: dict[str, Any]) -> list[dict[str, Any]]:
    # Every path parameter is an id, bounded as `telehealth.kernel.api` checks it (422 outside).
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _schema(Id, defs)}
        for name in _PATH_PARAM.findall(op.path)
    ]
    if op.query is not None:
        schema = _schema(op.query, defs)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
                | ({"description": prop["description"]} if "description" in prop else {})
            )
    if op.idempotent:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 200},
                "description": "Retrying with the same key returns the first result.",
            }
        )
    return params


def _operation(op: Operation, defs: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    success: dict[str, Any] = {"description": _STATUS_TEXT.get(op.status, "OK")}
    if op.response is not None and op.status != 204:
        success["content"] = {"application/json": {"schema": _schema(op.response, defs)}}
    responses[str(op.status)] = success
    # What any operation can answer besides its own errors: no token, a role that may not, a
    # bad field; a body that is not JSON; an id in the path that names nothing.
    always = {401, 403, 422}
    if op.body is not None:
        always.add(400)
    if _PATH_PARAM.search(op.path):
        always.add(404)
    for status in op.also:
        responses[str(status)] = success | {"description": _STATUS_TEXT.get(status, "OK")}
    for status in sorted(always | set(op.errors)):
        responses[str(status)] = {
            "description": _STATUS_TEXT[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    spec: dict[str, Any] = {
        "summary": op.summary,
        "operationId": op.handler.__name__,
        "tags": [op.tag],
        "description": (op.handler.__doc__ or "").strip()
        + f"\n\nRoles: {', '.join(r.value for r in op.roles)}.",
        "parameters": _parameters(op, defs),
        "responses": responses,
    }
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema(op.body, defs)}},
        }
    return spec


def build_document(
    operations: list[Operation], *, version: str, public_paths: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`public_paths` documents routes outside the API plumbing (files fetched by calendars)."""
    defs: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {
        "/health": {
            "get": {
                "summary": "Service health",
                "operationId": "health",
                "security": [],
                "responses": {
                    "200": {"description": "The database is reachable"},
                    "503": {"description": "The database is not reachable"},
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1 document"}},
            }
        },
    }
    paths.update(public_paths or {})
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, defs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Bay Telehealth API",
            "version": version,
            "description": "Video consultations closer to home for Bay Health and Care Partners."
            " Times are ISO 8601 with a UTC offset; dates are Europe/London local dates.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": defs,
        },
        "paths": paths,
    }


ICALENDAR = "text/calendar; charset=utf-8"


def file_path(summary: str, description: str) -> dict[str, object]:
    """The document's entry for a calendar file fetched by a secret link (no bearer token)."""
    return {
        "get": {
            "summary": summary,
            "description": description,
            "security": [],
            "tags": ["calendars"],
            "parameters": [
                {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {"description": "An iCalendar file", "content": {"text/calendar": {}}},
                "404": {"description": "Unknown, altered or reset link"},
            },
        }
    }
