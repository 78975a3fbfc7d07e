"""Long reports as Celery tasks: a job per report and project, its state in Redis (queued,
running, done, failed), which the page follows over server-sent events.

A single query reports no progress of its own, so the page estimates it: each run records how
long it took, per project and kind of report, and a running job shows its time so far as a
share of the last run's (never more than 99% before it is done). With no earlier run it shows
the seconds so far."""

from __future__ import annotations

import hashlib
import time

import orjson
from redis import Redis

RUN_TASK = "pulseboard.run_report"
QUEUE = "reports"  # its own queue, so a long report never delays the storing of events
TTL_SECONDS = 600
DURATION_TTL_SECONDS = 30 * 24 * 3600  # how long a run's duration informs the next estimate


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


def result_key(job: str) -> str:
    return f"pulseboard:report-job:{job}:result"


def finish(redis: Redis, job: str, data: dict) -> None:
    """Keep the job's result beside its state, which becomes "done"."""
    pipe = redis.pipeline(transaction=True)
    pipe.set(result_key(job), orjson.dumps(data), ex=TTL_SECONDS)
    pipe.set(state_key(job), "done", ex=TTL_SECONDS)
    pipe.execute()


def result(redis: Redis, job: str) -> dict | None:
    """The result of a job that is done (None once it expired)."""
    value = redis.get(result_key(job))
    return orjson.loads(value) if value is not None else None


def wait(redis: Redis, job: str, seconds: float) -> dict | None:
    """The job's result once it is done, waiting up to `seconds` for it; None when it is still
    queued or running then, or failed (the next `start` runs it again)."""
    deadline = time.monotonic() + seconds
    while True:
        state_now = state(redis, job)
        if state_now == "done":
            return result(redis, job)
        if state_now in (None, "failed") or time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def started_key(job: str) -> str:
    return f"pulseboard:report-job:{job}:started"


def duration_key(project_id: int, kind: str) -> str:
    return f"pulseboard:report-duration:{project_id}:{kind}"


def mark_running(redis: Redis, job: str) -> None:
    pipe = redis.pipeline(transaction=False)
    pipe.set(state_key(job), "running", ex=TTL_SECONDS)
    pipe.set(started_key(job), time.time(), ex=TTL_SECONDS)
    pipe.execute()


def record_duration(redis: Redis, project_id: int, kind: str, seconds: float) -> None:
    redis.set(duration_key(project_id, kind), round(seconds, 3), ex=DURATION_TTL_SECONDS)


def progress(redis: Redis, job: str, project_id: int,
             kind: str) -> tuple[str | None, float | None, float | None]:
    """The job's state; while it runs, its seconds so far and the last run's (None if none)."""
    state, started, last = redis.mget(state_key(job), started_key(job),
                                      duration_key(project_id, kind))
    state = state.decode() if state is not None else None
    if state != "running" or started is None:
        return state, None, None
    return (state, max(0.0, time.time() - float(started)),
            float(last) if last is not None else None)
