"""The service form as people fill it in, apart from the pages that show it: the service's
values as typed (durations in the units people think in: hours of notice, minutes of
appointment), what a posted form asks for in the service's own fields and units, and the
service's refusals named on the form's fields. No I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from scheduling.models import Service
from telehealth.admin import forms

# The numbers the form asks, with what the error summary says when one is not a number of the
# form's unit, and the factor from that unit to the service's.
NUMBERS = {
    "length_minutes": ("Enter the appointment length in minutes", 1),
    "buffer_minutes": ("Enter the gap after each appointment in minutes", 1),
    "min_notice_hours": ("Enter the booking notice in hours", 60),
    "horizon_days": ("Enter how many days ahead patients can book", 1),
    "change_notice_hours": ("Enter the notice for changes in hours", 60),
}
# Form field -> the service's field it sets.
TARGET = {
    "length_minutes": "length_minutes",
    "buffer_minutes": "buffer_minutes",
    "min_notice_hours": "min_notice_minutes",
    "horizon_days": "horizon_days",
    "change_notice_hours": "change_notice_minutes",
}
BACK = {service_field: form_field for form_field, service_field in TARGET.items()}
# The form's fields in the order it asks them, with their labels.
LABELS = {
    "organisation_id": "Organisation",
    "name": "Name",
    "specialty": "Specialty",
    "length_minutes": "Appointment length",
    "buffer_minutes": "Gap after each appointment",
    "modes": "Ways to be seen",
    "usual_site_id": "Usual site",
    "min_notice_hours": "Booking notice",
    "horizon_days": "Booking horizon",
    "change_notice_hours": "Notice for changes",
    "phone": "Phone number",
    "active": "Status",
}
# What a new service's form starts with: the API's defaults, in the form's units.
BLANK: dict[str, Any] = dict.fromkeys(LABELS, "") | {
    "buffer_minutes": "0",
    "modes": [],
    "min_notice_hours": "0",
    "horizon_days": "56",
    "change_notice_hours": "0",
    "active": "yes",
}


@dataclass
class ServiceForm:
    """What the form shows: the service's values as typed (strings), and what is wrong."""

    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)

    def ordered_errors(self) -> dict[str, str]:
        """The errors in the form's order, as the error summary lists them."""
        return {name: self.errors[name] for name in LABELS if name in self.errors}


def form_of(service: Service) -> ServiceForm:
    return ServiceForm(
        values={
            "organisation_id": str(service.organisation_id),
            "name": service.name,
            "specialty": service.specialty,
            "length_minutes": str(service.length_minutes),
            "buffer_minutes": str(service.buffer_minutes),
            "modes": list(service.modes),
            "usual_site_id": str(service.usual_site_id),
            "min_notice_hours": _hours(service.min_notice_minutes),
            "horizon_days": str(service.horizon_days),
            "change_notice_hours": _hours(service.change_notice_minutes),
            "phone": service.phone or "",
            "active": "yes" if service.active else "no",
        }
    )


def _hours(minutes: int) -> str:
    return str(minutes // 60) if minutes % 60 == 0 else f"{minutes / 60:g}"


def changes_from(form: FormData) -> tuple[ServiceForm, dict[str, Any]]:
    """The typed form, and the changes it asks for in the service's own fields and units
    (`active` included: a new service leaves it out)."""
    typed: dict[str, Any] = forms.texts(form, (name for name in LABELS if name != "modes"))
    typed["modes"] = [str(m) for m in form.getlist("modes")]
    shown = ServiceForm(values=typed)
    changes: dict[str, Any] = {
        "name": typed["name"],
        "specialty": typed["specialty"],
        "modes": typed["modes"],
        "phone": typed["phone"] or None,
        "active": typed["active"] == "yes",
    }
    for name, (missing, factor) in NUMBERS.items():
        number = _number(typed[name], factor)
        if number is None:
            shown.errors[name] = missing
        else:
            changes[TARGET[name]] = number
    try:
        changes["usual_site_id"] = int(typed["usual_site_id"])
    except ValueError:
        shown.errors["usual_site_id"] = "Choose the service's usual site"
    if not typed["modes"]:
        shown.errors["modes"] = "Choose at least one way patients can be seen"
    return shown, changes


def new_service_from(form: FormData) -> tuple[ServiceForm, dict[str, Any]]:
    """As `changes_from`, for a new service: the organisation, name and specialty asked for
    too, and the values as the API's create body takes them."""
    shown, changes = changes_from(form)
    wanted = {
        "organisation_id": "Choose the organisation that runs the service",
        "name": "Enter the service's name",
        "specialty": "Enter the service's specialty",
    }
    for name, missing in wanted.items():
        if not shown.values[name]:
            shown.errors[name] = missing
    if not shown.values["organisation_id"].isdigit():
        shown.errors.setdefault("organisation_id", wanted["organisation_id"])
    else:
        changes["organisation_id"] = int(shown.values["organisation_id"])
    del changes["active"]
    return shown, changes


def _number(text: str, factor: int) -> int | None:
    """A whole number of the form's unit (hours may be halves: "1.5"), in the service's."""
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:  # "inf" and "nan" parse as floats
        return None
    scaled = value * factor
    if scaled != int(scaled):
        return None
    return int(scaled)


def errors_from(refusal: forms.Refusal) -> dict[str, str]:
    """The service's refusal on the form's fields (its minutes asked as hours)."""
    return forms.field_errors(refusal, LABELS, fallback="name", rename=BACK)
