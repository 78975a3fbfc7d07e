"""Dead letters: batches that failed after their retries, shown on the dashboard, replayable."""

from __future__ import annotations

from datetime import UTC, datetime

from webapp.models import DeadLetter


def record(project_id: int, payload: list[dict], error: Exception) -> DeadLetter:
    return DeadLetter.create(project=project_id, payload=payload, events=len(payload),
                             error=f"{type(error).__name__}: {error}"[:4000])


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
