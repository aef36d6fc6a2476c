"""The demo's made-up patients: names, dates of birth, NHS numbers in the never-issued 999
range, Bay postcodes, contact preferences and needs, the same on every run."""

from __future__ import annotations

import random
from datetime import date, timedelta

from scheduling.schemas import PatientIn
from telehealth.demo import data as cast

SEED = 2026  # every random draw of the demo starts from it, so two runs agree


def demo_nhs_number(rng: random.Random) -> str:
    """A valid NHS number in the 999 test range (never issued): Modulus 11 check digit."""
    while True:
        digits = [9, 9, 9, *(rng.randrange(10) for _ in range(6))]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check == 10:
            continue  # no valid check digit: draw again
        return "".join(map(str, digits)) + str(check % 11)


def patient_details(count: int) -> list[PatientIn]:
    """`count` made-up patients, the same every time."""
    rng = random.Random(SEED)
    postcodes = sorted(p for p in cast.codepoint("la") if p.split()[0] in cast.BAY_DISTRICTS)
    found: list[PatientIn] = []
    numbers: set[str] = set()
    for n in range(count):
        given, family = rng.choice(cast.GIVEN_NAMES), rng.choice(cast.FAMILY_NAMES)
        number = demo_nhs_number(rng)
        while number in numbers:
            number = demo_nhs_number(rng)
        numbers.add(number)
        mobile = f"07700 900{rng.randrange(1000):03d}" if n % 2 == 0 else None
        preference = rng.choice(("sms", "both", "email")) if mobile else "email"
        found.append(
            PatientIn(
                given_name=given,
                family_name=family,
                date_of_birth=date(1935, 1, 1) + timedelta(days=rng.randrange(70 * 365)),
                nhs_number=number,
                email=f"{given}.{family}{n + 1}@example.com".lower(),
                mobile=mobile,
                postcode=rng.choice(postcodes),
                contact_preference=preference,
                interpreter_language=_every(cast.INTERPRETER_LANGUAGES, n, period=8, at=3),
                access_needs=_every(cast.ACCESS_NEEDS, n, period=13, at=6),
            )
        )
    return found


def _every(values: tuple[str, ...], n: int, *, period: int, at: int) -> str | None:
    """One patient in `period` gets the next of `values`; the rest get None."""
    return values[(n // period) % len(values)] if n % period == at else None
