"""Logging: one JSON object per line, carrying the request id from the web into the worker."""

from __future__ import annotations

import contextvars
import logging
import os
from datetime import UTC, datetime

import orjson

# the ids of the requests whose events a task is storing (set by the worker per task)
task_request_ids: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "task_request_ids", default=None)


# the request id of a web request answered outside Flask's request cycle (webapp/web/fastpath.py)
web_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "web_request_id", default=None)


def new_request_id() -> str:
    """128 random bits in hex, as uuid4().hex looks (without the cost of a UUID object)."""
    return os.urandom(16).hex()


def current_request_id() -> str | None:
    from flask import g, has_request_context

    if has_request_context():
        return g.get("request_id")
    return web_request_id.get()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if request_id := current_request_id():
            entry["request_id"] = request_id
        if ids := (getattr(record, "request_ids", None) or task_request_ids.get()):
            entry["request_ids"] = ids
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure(level: str, fmt: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
