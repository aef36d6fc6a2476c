"""Pydantic's validation errors as the service's own: one InvalidInput naming each field.

Apart from the API plumbing so that what validates models (`partial`, the error handlers, the
domains' schemas) need not import the request machinery.
"""

from __future__ import annotations

import pydantic

from telehealth.kernel.errors import InvalidInput


class FieldError(ValueError):
    """Raised by a model-level validator to blame one field: pydantic gives such errors no
    location, and a 422 must name the field the caller has to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def validation_fields(error: pydantic.ValidationError, *, prefix: str = "") -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        cause = item.get("ctx", {}).get("error")
        if isinstance(cause, FieldError):
            loc.append(cause.field)
        name = ".".join(loc) or "body"
        message = item["msg"].removeprefix("Value error, ")
        fields.setdefault(prefix + name, message)
    return fields


def invalid_from(error: pydantic.ValidationError) -> InvalidInput:
    fields = validation_fields(error)
    summary = "; ".join(f"{name}: {message}" for name, message in fields.items())
    return InvalidInput(summary, fields=fields)
