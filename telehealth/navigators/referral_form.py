"""The navigator's referral form: what was typed, read into the API's own shapes (so a page
and a system are validated by the same rules), with each error on the field to fix.

Pure: a form (a dict of strings) in, plain values or errors out. The pages carry what was
typed from one step to the next in the form itself (hidden fields), never in the session
cookie, so no patient details sit in the browser's cookie jar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from scheduling.models import ContactPreference, Patient
from scheduling.referral_models import Priority
from scheduling.referral_schemas import ReferralIn
from scheduling.schemas import PatientIn
from telehealth.kernel.api import parse_input
from telehealth.kernel.errors import InvalidInput, TelehealthError
from telehealth.kernel.identifiers import parse_nhs_number

PRIORITIES = {
    Priority.ROUTINE.value: "Routine",
    Priority.URGENT.value: "Urgent",
    Priority.TWO_WEEK_WAIT.value: "Two week wait (suspected cancer)",
}
CONTACT = {
    ContactPreference.EMAIL.value: "Email",
    ContactPreference.SMS.value: "Text message (SMS)",
    ContactPreference.BOTH.value: "Email and text message",
}
# Each field's name in a sentence, for the errors.
LABELS = {
    "given_name": "First name",
    "family_name": "Last name",
    "date_of_birth": "Date of birth",
    "nhs_number": "NHS number",
    "postcode": "Postcode",
    "email": "Email address",
    "mobile": "Mobile number",
    "contact_preference": "How to send the invitation",
    "interpreter_language": "Language",
    "accessible_information": "Accessible information",
    "access_needs": "Access needs",
    "companion": "Someone coming with them",
    "service_id": "Service",
    "priority": "Priority",
    "see_by": "See-by date",
    "notes": "Notes for the clinician",
    "video_suitable": "Whether video is suitable",
    "patient": "Patient",
}
# The page's id for the field an API name blames (a date's first box).
DATES = ("date_of_birth", "see_by")
# The patient's needs and contact details, asked on the referral form for a known patient too.
NEEDS = (
    "email",
    "mobile",
    "contact_preference",
    "interpreter_language",
    "accessible_information",
    "companion",
)
NEW_PATIENT = ("given_name", "family_name", "date_of_birth", "nhs_number", "postcode")


def field_id(name: str) -> str:
    name = name.removeprefix("patient.")
    return f"{name}-day" if name in DATES else name


def sentence(name: str, message: str) -> str:
    """'Email address is not an email address', 'See-by date must not be in the past'."""
    name = name.removeprefix("patient.")
    label = LABELS.get(name, name.replace("_", " ").capitalize())
    if message.startswith(("Enter", "Select", "Choose", "A patient")):
        return message
    return f"{label} {message}"


def errors_from(exc: TelehealthError) -> dict[str, str]:
    return {field_id(name): sentence(name, message) for name, message in exc.fields.items()}


def read_date(form: dict[str, str], name: str, errors: dict[str, str]) -> str | None:
    """The day, month and year boxes as YYYY-MM-DD; an error on the day box if not a date."""
    parts = [form.get(f"{name}[{p}]", "").strip() for p in ("day", "month", "year")]
    label = LABELS[name]
    if not any(parts):
        errors[f"{name}-day"] = f"Enter the {label.lower()}"
        return None
    if not all(re.fullmatch(r"\d{1,4}", p) for p in parts) or len(parts[2]) != 4:
        errors[f"{name}-day"] = f"{label} must be a real date, like 27 3 2027"
        return None
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0])).isoformat()
    except ValueError:
        errors[f"{name}-day"] = f"{label} must be a real date"
        return None


def date_values(value: date | None) -> dict[str, str]:
    if value is None:
        return {}
    return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}


@dataclass
class Search:
    """How the navigator looks the patient up: by NHS number, or last name and date of birth."""

    nhs_number: str | None = None
    family_name: str | None = None
    date_of_birth: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def read_search(form: dict[str, str]) -> Search:
    search = Search()
    nhs = form.get("nhs_number", "").strip()
    if nhs:
        try:
            search.nhs_number = parse_nhs_number(nhs)
        except ValueError as exc:
            search.errors["nhs_number"] = f"NHS number {exc}"
        return search
    search.family_name = form.get("family_name", "").strip() or None
    if not search.family_name:
        search.errors["family_name"] = "Enter an NHS number, or the patient's last name"
    search.date_of_birth = read_date(form, "date_of_birth", search.errors)
    return search


def _yes(form: dict[str, str], name: str) -> bool | None:
    value = form.get(name, "")
    return {"yes": True, "no": False}.get(value)


def patient_values(form: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """The patient's details and needs as typed, under the API's names (new patient: all)."""
    values: dict[str, Any] = {
        "email": form.get("email", "").strip() or None,
        "mobile": form.get("mobile", "").strip() or None,
        "contact_preference": form.get("contact_preference", ""),
        "accessible_information": form.get("accessible_information", "").strip() or None,
    }
    if not values["contact_preference"]:
        errors["contact_preference"] = "Select how to send the invitation"
    interpreter = _yes(form, "interpreter")
    language = form.get("interpreter_language", "").strip()
    if interpreter is None:
        errors["interpreter"] = "Select yes if they need an interpreter"
    elif interpreter and not language:
        errors["interpreter_language"] = "Enter the language they need an interpreter for"
    values["interpreter_language"] = language if interpreter else None
    companion = _yes(form, "companion")
    if companion is None:
        errors["companion"] = "Select yes if someone is coming with them"
    values["companion"] = bool(companion)
    if form.get("patient_id") == "new":
        for name in ("given_name", "family_name", "nhs_number", "postcode"):
            values[name] = form.get(name, "").strip() or None
        for name, missing in (("given_name", "first name"), ("family_name", "last name")):
            if not values[name]:
                errors[name] = f"Enter the patient's {missing}"
        values["date_of_birth"] = read_date(form, "date_of_birth", errors)
    return values


def referral_values(form: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "service_id": form.get("service_id", ""),
        "priority": form.get("priority", ""),
        "notes": form.get("notes", "").strip() or None,
        "video_suitable": _yes(form, "video_suitable"),
        "see_by": read_date(form, "see_by", errors),
    }
    if not values["service_id"].isdigit():
        errors["service_id"] = "Select the service the patient is referred to"
    if values["priority"] not in PRIORITIES:
        errors["priority"] = "Select the referral's priority"
    if values["video_suitable"] is None:
        errors["video_suitable"] = "Select yes if a video appointment is suitable"
    return values


@dataclass
class Checked:
    """A whole form, validated: the referral and (for a new patient) the patient, or errors."""

    patient: dict[str, Any]
    referral: dict[str, Any]
    errors: dict[str, str]


def check(form: dict[str, str], known: Patient | None) -> Checked:
    """Everything on the referral form, validated as the API validates it. `known` is the
    chosen patient, whose stored details the needs typed here will replace."""
    errors: dict[str, str] = {}
    patient = patient_values(form, errors)
    referral = referral_values(form, errors)
    full = dict(patient)
    if known is not None:
        stored = {name: getattr(known, name) for name in PatientIn.model_fields}
        full = {**stored, **{k: v for k, v in patient.items() if k in NEEDS}}
    if not errors:
        _validate(PatientIn, {k: v for k, v in full.items() if v is not None}, errors)
        _validate(ReferralIn, {"patient": 1, **referral}, errors)
    return Checked(patient=patient, referral=referral, errors=in_form_order(errors))


# The details page's fields, top to bottom: the error summary lists its errors in this order.
FORM_ORDER = (
    *("given_name", "family_name", "date_of_birth-day", "nhs_number", "postcode"),
    *("service_id", "priority", "see_by-day", "notes", "video_suitable"),
    *("interpreter", "interpreter_language", "accessible_information", "companion"),
    *("email", "mobile", "contact_preference"),
)


def in_form_order(errors: dict[str, str]) -> dict[str, str]:
    rank = {name: n for n, name in enumerate(FORM_ORDER)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))


def _validate(model: Any, values: dict[str, Any], errors: dict[str, str]) -> None:
    try:
        parse_input(model, values)
    except InvalidInput as exc:
        for name, text in errors_from(exc).items():
            errors.setdefault(name, text)
