"""A Celery task message (protocol 2) as kombu's Redis transport stores it, built by hand.

The web tier writes the message for a journaled batch in the same Redis transaction as the
batch itself (see journal.py): one round trip instead of two, and none of the producer's
per-call work (connection pool, routing, signals). What goes into the list is exactly what
`send_task` would push there for the same task: the JSON envelope with the body in base64,
Celery's headers, the AMQP-style properties and a fresh delivery tag. The worker consumes it
like any other.

Two more of kombu's Redis formats are read here rather than through an API (there is none):
where the transport keeps a message taken and not yet acknowledged (the `unacked` hash, whose
entries are `[message, exchange, routing key]`), which the journal's sweeper reads.

So that a Celery or kombu upgrade that changed either fails a test and a start, never silently
in production: `differences` compares our message with the one Celery's own `send_task` makes
(every process checks it when it binds Celery, `webapp/ingest/queue.py`), `unacked_differences`
takes a message through kombu on the real broker and reads it back as the sweeper does (each
worker that stores events checks it at start), and the tests run both against the pinned
versions.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass

import orjson
from celery.utils.nodenames import anon_nodename
from kombu import Connection

from webapp.ingest import journal

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


class FormatChanged(RuntimeError):
    """Celery or kombu no longer writes what this module writes or reads: a start refused."""


def _comparable(message: dict) -> dict:
    message = dict(message, properties=dict(message["properties"]))
    message["properties"].pop("delivery_tag", None)  # a fresh uuid per message
    message["body"] = orjson.loads(base64.b64decode(message["body"]))
    return message


def _diff(ours, theirs, path: str = "") -> list[str]:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return [problem for key in sorted(set(ours) | set(theirs), key=str)
                for problem in _diff(ours.get(key, "<absent>"), theirs.get(key, "<absent>"),
                                     f"{path}.{key}" if path else str(key))]
    return [] if ours == theirs else [f"{path or 'message'}: ours {ours!r}, Celery's {theirs!r}"]


PROBE_TASK = "pulseboard.store_pending"


def celerys_message(celery, name: str, args: list, task_id: str, headers: dict) -> dict:
    """The message `celery.send_task` hands kombu's virtual transport for the task (the Redis
    transport pushes this as JSON), taken from an in-memory broker: nothing is sent."""
    with Connection("memory://") as connection:
        celery.send_task(name, args=args, task_id=task_id, headers=headers,
                         connection=connection)
        queue = connection.default_channel._queue_for(celery.conf.task_default_queue)
        found = queue.get_nowait()
        while queue.qsize():  # the last one put is ours (anything older another user's)
            found = queue.get_nowait()
        return found


def differences(celery) -> list[str]:
    """Every field in which the message `task_message` builds differs from Celery's own for
    the same task, its delivery tag aside (empty when they agree)."""
    task_id, args, headers = str(uuid.uuid4()), [1], {"project": 1, "sent": 1.5}
    theirs = celerys_message(celery, PROBE_TASK, args, task_id, headers)
    ours = orjson.loads(task_message(Route.of(celery), PROBE_TASK, args, task_id, headers))
    return _diff(_comparable(ours), _comparable(theirs))


def check(celery) -> None:
    """Refuse to start when the hand-built message is no longer Celery's (FormatChanged)."""
    if problems := differences(celery):
        raise FormatChanged("the task message written with a journaled batch differs from "
                            "Celery's own: " + "; ".join(problems))


def unacked_differences(celery, redis, unacked_key: str | None = None) -> list[str]:
    """Take a message through kombu on the real broker, from a queue of its own, without
    acknowledging it, and read it back where the sweeper looks for taken messages (the
    `unacked_key` hash, by default the one the app's settings name): what is not as the sweeper
    expects (empty when all is)."""
    queue = f"pulseboard.probe.{uuid.uuid4().hex}"
    task_id = str(uuid.uuid4())
    unacked_key = unacked_key or unacked_key_of(celery)
    problems = []
    with celery.connection_for_write() as connection:
        channel = connection.default_channel
        if channel.unacked_key != unacked_key:
            problems.append(f"unacked key: ours {unacked_key!r}, kombu's "
                            f"{channel.unacked_key!r}")
        try:
            channel.queue_declare(queue=queue, auto_delete=True)
            celery.send_task(PROBE_TASK, args=[0], task_id=task_id, queue=queue,
                             connection=connection)
            taken = channel.basic_get(queue, no_ack=False)
            if taken is None:
                return [*problems, "the probe message was not delivered"]
            try:
                if not redis.hexists(unacked_key, taken.delivery_tag):
                    problems.append(f"a taken message is not in the {unacked_key!r} hash")
                elif task_id not in journal.in_flight(redis, [], unacked_key)[0]:
                    problems.append("a taken message's entry is not [message, exchange, "
                                    "routing key] with its task id in the message's headers")
            finally:
                channel.basic_ack(taken.delivery_tag)
            if redis.hexists(unacked_key, taken.delivery_tag):
                problems.append("an acknowledged message stays in the unacked hash")
        finally:
            channel.queue_delete(queue)
    return problems


def unacked_key_of(celery) -> str:
    """Where the broker keeps taken, unacknowledged messages (kombu's `unacked_key` option)."""
    return (celery.conf.broker_transport_options or {}).get("unacked_key", "unacked")


def check_unacked(celery, redis) -> None:
    """Refuse to start a worker whose sweeper could not see taken messages (FormatChanged)."""
    if problems := unacked_differences(celery, redis):
        raise FormatChanged("kombu keeps unacknowledged messages differently from what the "
                            "journal's sweeper reads: " + "; ".join(problems))
