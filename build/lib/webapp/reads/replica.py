"""Which server answers a read: the streaming replica while it keeps up, else the primary.

Event listings and exports may come from the replica (DATABASE_REPLICA_URL). Statistics come
from the rollups on the primary, and so do the panels the worker pushes after each commit: what
a user has just written is counted at once. Each process looks at the replica's lag at most
once a second; a replica more than REPLICA_MAX_LAG_SECONDS behind (or unreachable) is left
aside until it catches up, so a listing is never older than that."""

from __future__ import annotations

import logging
import time

from flask import current_app

from webapp.db import database, replica

log = logging.getLogger(__name__)
CHECK_EVERY = 1.0
# Seconds since the last transaction it replayed, or 0 when it has replayed all it received
# (an idle primary sends nothing, and the replica is then current, not behind).
LAG_SQL = """
SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
            THEN 0
            ELSE COALESCE(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)
       END
"""
_state = {"checked": -CHECK_EVERY, "usable": False}


def lag_seconds() -> float:
    return float(replica.execute_sql(LAG_SQL).fetchone()[0])


def reader():
    """The database a listing or export should read from now."""
    if replica.obj is database.obj:  # no replica configured
        return database
    now = time.monotonic()
    if now - _state["checked"] >= CHECK_EVERY:
        try:
            usable = lag_seconds() <= current_app.config["REPLICA_MAX_LAG_SECONDS"]
        except Exception as exc:  # the replica is down: the primary answers
            log.warning("replica unavailable: %s", exc)
            usable = False
        _state.update(checked=now, usable=usable)
    return replica if _state["usable"] else database
