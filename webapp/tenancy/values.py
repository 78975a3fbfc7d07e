"""What a project's settings may hold: /webhook limits in flask-limiter notation and Standard
Webhooks signing secrets (`whsec_...`); its time zone is one of webapp/zones.py. The stages
above (ingest's rate limits and signatures) use the same rules."""

from __future__ import annotations

import base64
import functools
import re
import secrets as random

from limits import RateLimitItem, parse_many

# ---- /webhook limits ------------------------------------------------------------------------

MAX_AMOUNT = 1_000_000_000  # in one window
MAX_PERIOD = 24 * 3600  # seconds: a longer window is a quota, not a rate
ZERO_PERIOD = re.compile(r"(?:/|per)\s*0+\s*[a-z]", re.IGNORECASE)  # `limits` reads as 1


@functools.lru_cache(maxsize=256)
def parsed(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


@functools.lru_cache(maxsize=1024)
def limit_problem(text: str) -> str | None:
    """Why `text` is not a usable limit (flask-limiter notation, at most 200 characters, each
    part an amount of 1 to MAX_AMOUNT per a period of 1 second to a day); None when it is.
    A count of 0 would refuse everything (and divide by zero working out Retry-After); a
    period past what Redis can expire would never be counted at all."""
    if len(text) > 200:
        return "is longer than 200 characters"
    try:
        items = parsed(text)
    except ValueError:
        return "is not a limit"
    if not items:
        return "is not a limit"
    if any(item.amount < 1 for item in items):
        return "allows no request at all: the count must be at least 1"
    if any(item.amount > MAX_AMOUNT for item in items):
        return f"counts past {MAX_AMOUNT:,} in one window"
    if ZERO_PERIOD.search(text):
        return "has a period of 0"
    if any(item.get_expiry() > MAX_PERIOD for item in items):
        return "has a period longer than a day"
    return None


# ---- signing secrets ------------------------------------------------------------------------

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(random.token_bytes(32)).decode()
