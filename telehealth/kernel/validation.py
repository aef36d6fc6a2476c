"""Pydantic's validation errors as the service's own: one InvalidInput naming each field
(`validation_fields`, the API's wording), or a page's plain sentences (`plain_fields`, the
one place pydantic's error types become "Reason must be 200 characters or fewer").

Apart from the API plumbing so that what validates models (`partial`, the error handlers, the
domains' schemas) need not import the request machinery.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pydantic

from telehealth.kernel.errors import InvalidInput

# Pydantic's messages name their subject generically ("Input should be ...", "String should
# have ..."): the field's label takes its place.
_GENERIC_SUBJECT = re.compile(r"^(?:Input|String|Value|List) (?=should )")


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


def _lower(label: str) -> str:
    # "NHS number" keeps its capitals; "Reason" reads "reason" inside a sentence.
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


def _in_words(kind: str, ctx: dict[str, Any], label: str) -> str | None:
    """Pydantic's error type as the NHS service manual words it, or None for a type with
    no sentence of its own."""
    lower = _lower(label)
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return f"Enter {lower}"
    if kind in ("literal_error", "enum") or (kind == "too_short" and ctx.get("min_length") == 1):
        return f"Select {lower}"
    if kind.startswith(("date_", "datetime_")):
        return f"{label} must be a real date"
    if kind.startswith("time_"):
        return f"{label} must be a real time, like 09:30"
    if kind.startswith("int_"):
        return f"{label} must be a whole number"
    if kind.startswith(("float_", "decimal_")):
        return f"{label} must be a number"
    if kind.startswith("bool_"):
        return f"Select yes or no for {lower}"
    limits = {
        "string_too_long": ("max_length", "must be {} characters or fewer"),
        "string_too_short": ("min_length", "must be {} characters or more"),
        "too_long": ("max_length", "must have {} or fewer"),
        "too_short": ("min_length", "must have at least {}"),
        "less_than_equal": ("le", "must be {} or less"),
        "greater_than_equal": ("ge", "must be {} or more"),
        "less_than": ("lt", "must be less than {}"),
        "greater_than": ("gt", "must be more than {}"),
    }
    if kind in limits and limits[kind][0] in ctx:
        key, wording = limits[kind]
        return f"{label} {wording.format(ctx[key])}"
    return None


def plain_fields(
    error: pydantic.ValidationError, labels: Mapping[str, str], *, prefix: str = ""
) -> dict[str, str]:
    """Each field's problem as a page shows it, named by the form's label for it (`labels`,
    by the model's field name): "Reason must be 200 characters or fewer", "Start date must be
    a real date", "Select the mode". The API keeps `validation_fields`' wording."""
    fields: dict[str, str] = {}
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        ctx = item.get("ctx", {})
        cause = ctx.get("error")
        if isinstance(cause, FieldError):
            loc.append(cause.field)
        name = ".".join(loc) or "body"
        field_name = cause.field if isinstance(cause, FieldError) else (loc[0] if loc else "")
        label = labels.get(name) or labels.get(field_name) or _label_of(field_name)
        said = _in_words(item["type"], ctx, label)
        if said is None:
            # A rule of the service's own ("must not be before valid_from"): its other field
            # names read as the form's labels, and its code words as words.
            message = item["msg"].removeprefix("Value error, ")
            # Only names that read as code ("valid_from"): "postcode" is also a plain word.
            for other, other_label in ((k, v) for k, v in labels.items() if "_" in k):
                message = re.sub(rf"\b{re.escape(other)}\b", f"the {_lower(other_label)}", message)
            message = _GENERIC_SUBJECT.sub("", message).replace("_", " ")
            said = f"{label} {message}"
        fields.setdefault(prefix + name, said)
    return fields


def _label_of(name: str) -> str:
    words = name.removesuffix("_id").replace("_", " ").strip()
    return words.capitalize() if words else "This answer"
