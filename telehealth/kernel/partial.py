"""Partial updates (PATCH) validated exactly as the create request is.

`partial_of` derives a PATCH body model from a create model: the same fields, each optional,
unknown ones refused. It documents the body and refuses what no create request could hold.
`apply_partial` then merges the fields sent into the current values and validates the whole
with the create model itself, so every field and cross-field rule (a postcode's format, an
email required by a contact preference) is written once and holds for both.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import pydantic
from pydantic import BaseModel, Field

from telehealth.kernel.errors import InvalidInput
from telehealth.kernel.validation import invalid_from

M = TypeVar("M", bound=BaseModel)


def partial_of(
    model: type[BaseModel],
    *,
    name: str,
    exclude: Collection[str] = (),
    extra: Mapping[str, Any] | None = None,
    doc: str | None = None,
) -> type[BaseModel]:
    """A model of `model`'s fields but `exclude`, each optional, plus `extra` (name ->
    annotation, also optional): the body of a PATCH."""
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        if field_name in exclude:
            continue
        annotation: Any = info.annotation
        if info.metadata:
            # Keep the field's own bounds (lengths, ranges) in the document.
            annotation = Annotated.__class_getitem__((annotation, *info.metadata))  # type: ignore[attr-defined]
        fields[field_name] = (annotation | None, Field(default=None, description=info.description))
    for field_name, annotation in (extra or {}).items():
        fields[field_name] = (annotation | None, Field(default=None))
    # The create model's own base (its configuration, any rule it applies to every field),
    # with unknown fields refused whatever that base says.
    base = model.__base__
    created: type[BaseModel] = pydantic.create_model(
        name,
        __base__=base if isinstance(base, type) and issubclass(base, BaseModel) else BaseModel,
        **fields,
    )
    created.model_config["extra"] = "forbid"
    created.model_rebuild(force=True)
    created.__doc__ = doc or f"Any of {model.__name__}'s fields; those left out stay as they are."
    return created


def sent(patch: BaseModel) -> dict[str, Any]:
    """The fields the caller sent, explicit nulls included (null clears an optional field)."""
    return {name: getattr(patch, name) for name in patch.model_fields_set}


def plain(value: Any) -> Any:
    """A value as stored and compared: enums as their values, lists of them likewise."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Change(Generic[M]):
    """The validated whole, and the fields whose stored value changes: name -> (before, after)."""

    validated: M
    changed: dict[str, tuple[Any, Any]]


def apply_partial(
    model: type[M],
    current: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    also: Collection[str] = (),
) -> Change[M]:
    """Validate `current` updated with `changes` by the create `model`; a failure is a 422
    naming the field, as on create. `also` names fields the create model does not have (such
    as `active`), taken as the PATCH model validated them; they may not be null."""
    for name in also:
        if name in changes and changes[name] is None:
            raise InvalidInput.field(name, "must not be null")
    whole = {k: v for k, v in {**current, **changes}.items() if k not in also}
    try:
        validated = model.model_validate(whole)
    except pydantic.ValidationError as exc:
        raise invalid_from(exc) from None
    after = {name: getattr(validated, name) for name in model.model_fields}
    after |= {name: changes[name] for name in also if name in changes}
    changed = {}
    for name, value in after.items():
        before, value = plain(current.get(name)), plain(value)
        if before != value:
            changed[name] = (before, value)
    return Change(validated, changed)
