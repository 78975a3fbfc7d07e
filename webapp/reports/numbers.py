"""Which metadata values a trend counts as numbers, and how its numbers are kept exact.

A property's value is a number when its text (`metadata->>key`, as every report reads it) spells
a JSON number: a JSON number itself, or a string holding exactly one ("19.99", "-3", "2.5e3"),
of at most 50 characters. Anything else (" 19.99", "1,5", "0x10", "NaN", true, null, "")
is not a number, and a measure of numbers leaves it out. Numbers are decimals, summed exactly
(no binary rounding: 0.1 + 0.2 is 0.3); an average, a share or a formula is exact until shown,
then rounded half to even at six decimal places.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]{1,2})?")
MAX_CHARACTERS = 50
PLACES = 6


def number(text: str | None) -> Decimal | None:
    """The number a property's value spells, or None."""
    if text is None or len(text) > MAX_CHARACTERS or not NUMBER.fullmatch(text):
        return None
    return Decimal(text)


def shown(value: int | Decimal | Fraction | None) -> int | Decimal | None:
    """A value as reports show it: whole numbers as int, decimals as they are, rationals
    rounded half to even at PLACES decimal places."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return int(value)
        scaled = round(value * 10**PLACES)  # Fraction rounds half to even
        if scaled % 10**PLACES == 0:
            return scaled // 10**PLACES
        digits = f"{abs(scaled):0{PLACES + 1}d}"  # written out: exact at any size
        sign = "-" if scaled < 0 else ""
        return Decimal(f"{sign}{digits[:-PLACES]}.{digits[-PLACES:].rstrip('0')}")
    if value == value.to_integral_value():
        return int(value)
    return value


def to_json(value: int | Decimal | None) -> int | float | str | None:
    """A shown value in JSON: whole numbers as integers; decimals as JSON numbers when the
    number written is the decimal exactly (up to 15 significant digits), else as a string
    of the decimal, so nothing is rounded on the way."""
    if value is None or isinstance(value, int):
        return value
    as_float = float(value)
    if Decimal(repr(as_float)) == value:
        return as_float
    return format(value, "f")


def whole(value: Decimal, places: int) -> int:
    """value * 10**places, exactly (a decimal context would round past 28 digits)."""
    sign, digits, exponent = value.as_tuple()
    found = int("".join(map(str, digits)) or "0") * 10 ** (exponent + places)
    return -found if sign else found
