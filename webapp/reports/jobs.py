"""Long reports as Celery tasks: a job per report and project, its state in Redis (queued,
running, done, failed), which the page follows over server-sent events."""

from __future__ import annotations

import hashlib

from redis import Redis

RUN_TASK = "pulseboard.run_report"
QUEUE = "reports"  # its own queue, so a long report never delays the storing of events
TTL_SECONDS = 600


def job_id(project_id: int, kind: str, query: str) -> str:
    return hashlib.sha256(f"{project_id}|{kind}|{query}".encode()).hexdigest()[:32]


def state_key(job: str) -> str:
    return f"pulseboard:report-job:{job}"


def start(redis: Redis, celery, project_id: int, kind: str, query: str) -> str:
    """Queue the report unless the same one is already queued or running; returns the job."""
    job = job_id(project_id, kind, query)
    current = state(redis, job)
    if current in (None, "done", "failed"):
        redis.set(state_key(job), "queued", ex=TTL_SECONDS)
        celery.send_task(RUN_TASK, args=[project_id, kind, query, job], queue=QUEUE)
    return job


def state(redis: Redis, job: str) -> str | None:
    value = redis.get(state_key(job))
    return value.decode() if value is not None else None


def set_state(redis: Redis, job: str, value: str) -> None:
    redis.set(state_key(job), value, ex=TTL_SECONDS)
