"""Unique, valid-looking identifiers for generated rows: booking references and NHS numbers."""

from __future__ import annotations

from telehealth.kernel.identifiers import REFERENCE_ALPHABET, REFERENCE_LENGTH

_SPACE = len(REFERENCE_ALPHABET) ** REFERENCE_LENGTH
# Odd and not a multiple of 5, so coprime to 25**8: n -> n * _SPREAD is a bijection, which
# keeps references unique while spreading them over the space like random ones.
_SPREAD = 2_654_435_761


def reference(n: int) -> str:
    """The n-th bench booking reference, in the app's alphabet and length."""
    value = (n * _SPREAD + 12_345) % _SPACE
    base = len(REFERENCE_ALPHABET)
    letters = []
    for _ in range(REFERENCE_LENGTH):
        value, digit = divmod(value, base)
        letters.append(REFERENCE_ALPHABET[digit])
    return "".join(letters)


def nhs_number(n: int) -> str:
    """A distinct NHS number with a valid modulus-11 check digit for every n >= 1.

    Nine-digit stems whose check digit would be 10 are invalid; stems are spaced so that each
    n gets its own block of eleven and the first valid stem in the block is used.
    """
    for stem in range(400_000_000 + n * 11, 400_000_000 + n * 11 + 11):
        digits = f"{stem:09d}"
        check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(digits)) % 11
        if check == 11:
            check = 0
        if check != 10:
            return digits + str(check)
    raise AssertionError("a block of eleven stems always holds a valid one")
