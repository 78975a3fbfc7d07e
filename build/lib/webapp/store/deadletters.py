"""Dead letters: batches that failed after their retries, shown on the dashboard, replayable."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from peewee import DataError, IntegrityError

from webapp.models import DeadLetter, Project

ESCAPED = " (payload escaped to be storable: NUL as the text \\u0000, invalid UTF-8 as \\x..)"


def record(project_id: int, payload: list[dict], error: Exception | str) -> DeadLetter | None:
    """Keep a batch with its error. What PostgreSQL refused may hold text JSONB cannot take
    either (a NUL): then the payload is kept escaped. None when the project is gone (its
    events went with it). Raises only when the database is unreachable."""
    why = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    why = escaped(why)[:4000]
    try:
        return DeadLetter.create(project=project_id, payload=payload, events=len(payload),
                                 error=why)
    except DataError:
        return DeadLetter.create(project=project_id, payload=escaped(payload),
                                 events=len(payload), error=(why + ESCAPED)[:4000])
    except IntegrityError:
        if Project.select().where(Project.id == project_id).exists():
            raise
        return None


def escaped(value: Any) -> Any:
    """`value` with every string (keys too) made storable: NUL as the six characters \\u0000,
    unpaired surrogates as backslash escapes, NaN and infinities as text."""
    if isinstance(value, str):
        return value.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode()
    if isinstance(value, dict):
        return {escaped(key): escaped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [escaped(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or Infinity
    return value


def pending(project_id: int | None = None):
    query = DeadLetter.select().where(DeadLetter.replayed_at.is_null())
    if project_id is not None:
        query = query.where(DeadLetter.project == project_id)
    return query.order_by(DeadLetter.id)


def pending_count(project_id: int | None = None) -> int:
    return pending(project_id).count()


def mark_replayed(letter: DeadLetter) -> None:
    """The letter's batch was queued again (by `flask deadletter replay`)."""
    DeadLetter.update(replayed_at=datetime.now(UTC)).where(DeadLetter.id == letter.id).execute()
