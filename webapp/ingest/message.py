"""A Celery task message (protocol 2) as kombu's Redis transport stores it, built by hand.

The web tier writes the message for a journaled batch in the same Redis transaction as the
batch itself (see journal.py): one round trip instead of two, and none of the producer's
per-call work (connection pool, routing, signals). What goes into the list is exactly what
`send_task` would push there for the same task: the JSON envelope with the body in base64,
Celery's headers, the AMQP-style properties and a fresh delivery tag. A unit test compares it
with kombu's own, and the worker consumes it like any other.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass

import orjson
from celery.utils.nodenames import anon_nodename

EMBED = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}


@dataclass(frozen=True)
class Route:
    """Where the messages of one Celery app go, and what they say about their sender."""

    queue: str  # the list kombu's Redis transport pushes to (priority 0: the queue's name)
    origin: str  # the sending node, as Celery names it
    reply_to: str  # the app's reply queue id

    @classmethod
    def of(cls, celery) -> Route:
        return cls(celery.conf.task_default_queue, anon_nodename(), celery.thread_oid)


def task_message(route: Route, name: str, args: list, task_id: str,
                 headers: dict | None = None) -> bytes:
    """The bytes kombu would LPUSH to `route.queue` for `send_task(name, args=args,
    task_id=task_id, headers=headers)`."""
    body = orjson.dumps([args, {}, EMBED])
    return orjson.dumps({
        "body": base64.b64encode(body).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py", "task": name, "id": task_id, "shadow": None, "eta": None,
            "expires": None, "group": None, "group_index": None, "retries": 0,
            "timelimit": [None, None], "root_id": task_id, "parent_id": None,
            "argsrepr": repr(args), "kwargsrepr": "{}", "origin": route.origin,
            "ignore_result": None, "replaced_task_nesting": 0, "stamped_headers": None,
            "stamps": {}, **(headers or {}),
        },
        "properties": {
            "correlation_id": task_id, "reply_to": route.reply_to, "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": route.queue}, "priority": 0,
            "body_encoding": "base64", "delivery_tag": str(uuid.uuid4()),
        },
    })
