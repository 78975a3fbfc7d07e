"""Dead letters: batches that failed after their retries, shown on the dashboard, replayable."""

from __future__ import annotations

from datetime import UTC, datetime

from .models import DeadLetter


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


def replay(celery, letter: DeadLetter) -> None:
    """Queue the batch again (storing is idempotent) and mark the letter replayed."""
    from .ingest import publish

    publish(celery, letter.project_id, letter.payload, [f"replay-of-dead-letter-{letter.id}"])
    DeadLetter.update(replayed_at=datetime.now(UTC)).where(DeadLetter.id == letter.id).execute()
