"""NHS numbers, UK postcodes and booking references: parse, validate, format."""

from __future__ import annotations

import re
import secrets

from nhs_number.validate import is_valid as nhs_number_is_valid

# BS 7666 outward codes (A9, A99, AA9, AA99, A9A, AA9A) and the inward code 9AA; the inward
# code never uses C, I, K, M, O or V.
_POSTCODE = re.compile(r"^(?P<out>[A-Z]{1,2}[0-9][0-9A-Z]?)(?P<in>[0-9][ABD-HJLNP-UW-Z]{2})$")

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a reference read over the phone must not be misheard or misread.
REFERENCE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
REFERENCE_LENGTH = 8


def parse_nhs_number(value: str) -> str:
    """Ten digits with spaces or hyphens allowed; raises ValueError when the check digit fails."""
    digits = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{10}", digits):
        raise ValueError("must be 10 digits")
    if not nhs_number_is_valid(digits):
        raise ValueError("is not a valid NHS number (the check digit does not match)")
    return digits


def parse_postcode(value: str) -> str:
    """Upper case with one space between outward and inward code; raises ValueError if malformed.

    A well-formed postcode may still not exist: existence is checked against Code-Point data.
    """
    compact = re.sub(r"\s+", "", value).upper()
    match = _POSTCODE.match(compact)
    if match is None:
        raise ValueError("is not a valid UK postcode")
    return f"{match['out']} {match['in']}"


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
