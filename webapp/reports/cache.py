"""Report results cached in Redis until a commit to the project: the entry carries the
project's data version (the one the worker bumps after every commit, as for stats), so any new
event, whatever its timestamp, makes the next read compute afresh."""

from __future__ import annotations

import hashlib

import orjson
from flask import current_app

from webapp.reads import stats

TTL_SECONDS = 3600


def key_of(project_id: int, identity: str) -> str:
    return f"pulseboard:report:{project_id}:{hashlib.sha256(identity.encode()).hexdigest()}"


def cached(project_id: int, identity: str, compute) -> tuple[dict, bool]:
    """(the result, whether it came from the cache); `identity` names the report exactly
    (its definition and its scope, with the range resolved to instants)."""
    redis = current_app.extensions["redis"]
    key = key_of(project_id, identity)
    try:
        pipe = redis.pipeline(transaction=False)
        stats.start_version(pipe, project_id)
        _, version, entry = pipe.get(stats.version_key(project_id)).get(key).execute()
    except Exception:  # Redis away: answer from PostgreSQL
        return compute(), False
    if entry is not None:
        found = orjson.loads(entry)
        if found["v"] == int(version):
            return found["data"], True
    data = compute()
    try:
        redis.set(key, orjson.dumps({"v": int(version), "data": data}), ex=TTL_SECONDS)
    except Exception:
        pass  # the answer stands; only the cache missed it
    return data, False
