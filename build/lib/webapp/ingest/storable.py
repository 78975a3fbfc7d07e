"""What a column (and our JSON writers) can hold: no control characters, valid UTF-8,
integers in 64 bits, moments with a UTC time, bounded nesting."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1 control characters
LONG_DIGITS = re.compile(rb"[0-9]{19,}")  # every integer outside 64 bits has 19 digits or more
INT_RANGE = (-(2**63), 2**64 - 1)  # what orjson reads as an integer; beyond, a lossy float


def storable(value: str) -> bool:
    """Text for a column: PostgreSQL takes neither NUL nor text that is not valid UTF-8, and
    no other control character belongs in an id, a type or a user."""
    if CONTROL.search(value):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def delivery_problem(name: str, value: str) -> str | None:
    """Why an `Idempotency-Key` or `webhook-id` header cannot name a delivery (None: it can).
    Both are ASCII tokens; anything else would be stored in an event id."""
    if not value.isascii() or not value.isprintable():
        return f"{name} must be printable ASCII (no control characters)"
    return None


class _WideInteger(ValueError):
    pass


def _narrow_int(text: str) -> int:
    value = int(text)
    if not INT_RANGE[0] <= value <= INT_RANGE[1]:
        raise _WideInteger(text)
    return value


def wide_integer(raw: bytes) -> str | None:
    """The first integer of a JSON text that does not fit in 64 bits, else None. Looked for
    only when the text has a run of 19 digits (rare), with the standard library's parser."""
    if not LONG_DIGITS.search(raw):
        return None
    try:
        json.loads(raw, parse_int=_narrow_int)
    except _WideInteger as exc:
        return str(exc)
    except (ValueError, RecursionError):  # orjson read it: too deep here, refused elsewhere
        pass
    return None


def in_utc_range(moment: datetime) -> bool:
    """Whether the moment is in years 1 to 9999 in UTC (year 1 with a positive offset, or
    9999-12-31 with a negative one, is not: it has no UTC time to store)."""
    if 1 < moment.year < 9999:
        return True
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


def depth(value: Any) -> int:
    """How many objects and arrays deep `value` goes (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in
                         (item.values() if isinstance(item, dict) else item))
    return deepest
