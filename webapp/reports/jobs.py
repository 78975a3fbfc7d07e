"""Long reports as Celery tasks: a job per report and project, its state in Celery's result
backend (queued, running, done, failed), which the page follows over server-sent events.

A job's id is its task's id. Starting one stores it as queued, the task says when it started
(`update_state`) and returns the report, which the backend keeps as the job's result; every
reader polls the backend (webapp/ingest/queue.py keeps results for TTL_SECONDS).

A single query reports no progress of its own, so the page estimates it: each run records how
long it took, per project and kind of report, and a running job shows its time so far as a
share of the last run's (never more than 99% before it is done). With no earlier run it shows
the seconds so far."""

from __future__ import annotations

import hashlib
import time

from celery import states
from redis import Redis

RUN_TASK = "pulseboard.run_report"
QUEUE = "reports"  # its own queue, so a long report never delays the storing of events
TTL_SECONDS = 600  # how long the backend keeps a job (`result_expires`, RESULTS_SECONDS there)
DURATION_TTL_SECONDS = 30 * 24 * 3600  # how long a run's duration informs the next estimate

QUEUED = "QUEUED"  # our own state, stored as the job is sent (Celery's PENDING means unknown)
# Celery's states as the pages and the API name them; any other (PENDING: never started, or
# expired) is no job at all.
STATES = {QUEUED: "queued", states.STARTED: "running", states.SUCCESS: "done",
          states.FAILURE: "failed", states.REVOKED: "failed"}


def job_id(project_id: int, kind: str, query: str) -> str:
    return hashlib.sha256(f"{project_id}|{kind}|{query}".encode()).hexdigest()[:32]


def _meta(celery, job: str) -> dict:
    return celery.backend.get_task_meta(job, cache=False)


def start(celery, project_id: int, kind: str, query: str) -> str:
    """Queue the report unless the same one is already queued or running; returns the job."""
    job = job_id(project_id, kind, query)
    if state(celery, job) in (None, "done", "failed"):
        backend = celery.backend
        backend.forget(job)  # the backend never overwrites a stored success
        backend.store_result(job, None, QUEUED)
        celery.send_task(RUN_TASK, args=[project_id, kind, query], task_id=job, queue=QUEUE,
                         ignore_result=False)
    return job


def state(celery, job: str) -> str | None:
    return STATES.get(_meta(celery, job)["status"])


def result(celery, job: str) -> dict | None:
    """The result of a job that is done (None before, or once it expired)."""
    meta = _meta(celery, job)
    return meta["result"] if meta["status"] == states.SUCCESS else None


def wait(celery, job: str, seconds: float) -> dict | None:
    """The job's result once it is done, waiting up to `seconds` for it; None when it is still
    queued or running then, or failed (the next `start` runs it again)."""
    deadline = time.monotonic() + seconds
    while True:
        meta = _meta(celery, job)
        state_now = STATES.get(meta["status"])
        if state_now == "done":
            return meta["result"]
        if state_now in (None, "failed") or time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


def mark_running(task) -> None:
    """Said by the job's task as it starts: since when it runs, for the estimate."""
    task.update_state(state=states.STARTED, meta={"started": time.time()})


def duration_key(project_id: int, kind: str) -> str:
    return f"pulseboard:report-duration:{project_id}:{kind}"


def record_duration(redis: Redis, project_id: int, kind: str, seconds: float) -> None:
    redis.set(duration_key(project_id, kind), round(seconds, 3), ex=DURATION_TTL_SECONDS)


def progress(celery, redis: Redis, job: str, project_id: int,
             kind: str) -> tuple[str | None, float | None, float | None]:
    """The job's state; while it runs, its seconds so far and the last run's (None if none)."""
    meta = _meta(celery, job)
    state_now = STATES.get(meta["status"])
    started = (meta["result"] or {}).get("started") if state_now == "running" else None
    if started is None:
        return state_now, None, None
    last = redis.get(duration_key(project_id, kind))
    return (state_now, max(0.0, time.time() - float(started)),
            float(last) if last is not None else None)
