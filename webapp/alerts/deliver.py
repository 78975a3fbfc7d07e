"""Sending notices: a Standard Webhooks signed POST (or a Slack-compatible body), retried with
backoff for a day; every attempt is written on the notice (the page's delivery log)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import orjson

from webapp.alerts import destinations
from webapp.alerts.rules import describe
from webapp.db import database
from webapp.ingest.signatures import sign
from webapp.models import AlertNotice, AlertRule, Project, iso

log = logging.getLogger(__name__)

# seconds before each retry; after the last, every 4 hours until a day has passed
BACKOFF = (1, 5, 30, 120, 600, 1800, 3600, 7200)
GIVE_UP_AFTER = timedelta(days=1)
LEASE = timedelta(seconds=60)  # an attempt in progress: no other worker takes the notice
USER_AGENT = "Pulseboard-Alerts/1"
TASK = "pulseboard.alerts_deliver"  # the worker's task that makes one attempt
STATES = {"fired": "firing", "resolved": "ok", "test": "test"}


def next_delay(attempts: int) -> int:
    """Seconds to wait after the `attempts`-th failed attempt."""
    return BACKOFF[attempts - 1] if attempts <= len(BACKOFF) else 4 * 3600


def payload(notice: AlertNotice, rule: AlertRule, project: Project) -> dict:
    """The Standard Webhooks shape: type, timestamp, data (a rule on a saved trend names the
    trend and what it watches there, a series letter or "formula")."""
    about = {"id": rule.id, "name": rule.name, "kind": rule.kind, "condition": describe(rule)}
    if rule.series is not None:
        about["trend"] = {"id": rule.saved_report_id, "name": rule.saved_report.name,
                          "watches": rule.series}
    return {"type": f"alert.{notice.kind}", "timestamp": iso(notice.at),
            "data": {"rule": about, "project": {"slug": project.slug, "name": project.name},
                     "state": STATES[notice.kind],
                     "value": notice.value, "message": notice.message, "noticeId": notice.id}}


def slack_body(notice: AlertNotice, project: Project) -> dict:
    """What a Slack incoming webhook (or Mattermost, Discord's /slack endpoint) shows."""
    mark = {"fired": ":rotating_light:", "resolved": ":white_check_mark:"}.get(
        notice.kind, ":information_source:")
    return {"text": f"{mark} [{project.name}] {notice.message}"}


def message_id(notice: AlertNotice) -> str:
    """The same on every retry, so a receiver can drop a duplicate."""
    return f"msg_alert_{notice.id}"


def signed_request(notice: AlertNotice, rule: AlertRule, project: Project,
                   now: float) -> tuple[bytes, dict]:
    data = slack_body(notice, project) if rule.body_format == "slack" else payload(
        notice, rule, project)
    body = orjson.dumps(data)
    msg_id, timestamp = message_id(notice), int(now)
    return body, {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                  "webhook-id": msg_id, "webhook-timestamp": str(timestamp),
                  "webhook-signature": sign(rule.secret, msg_id, timestamp, body)}


def claim(notice_id: int, now: datetime) -> AlertNotice | None:
    """Take a due notice for one attempt; None when it is not due or another worker has it."""
    row = database.execute_sql(
        "UPDATE alert_notice SET attempts = attempts + 1, next_try_at = %s "
        "WHERE id = %s AND status = 'pending' AND next_try_at <= %s RETURNING id",
        (now + LEASE, notice_id, now)).fetchone()
    if row is None:
        return None
    return (AlertNotice.select(AlertNotice, AlertRule, Project)
            .join(AlertRule).switch(AlertNotice).join(Project)
            .where(AlertNotice.id == row[0]).first())  # None: its rule was deleted meanwhile


def attempt(notice_id: int, allow_private: bool, now: datetime) -> int | None:
    """One delivery attempt; returns the seconds until the next, or None when done."""
    notice = claim(notice_id, now)
    if notice is None:
        return None
    rule, project = notice.rule, notice.project
    body, headers = signed_request(notice, rule, project, time.time())
    code, error = None, None
    try:
        answer = destinations.post(rule.url, body, headers, allow_private)
        code = answer.status
        if not 200 <= code < 300:
            error = f"HTTP {code}: {answer.body[:200].decode(errors='replace')}"
    except destinations.Refused as exc:
        error = f"refused: {exc}"
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"
    done = datetime.now(now.tzinfo)
    if error is None:
        notice_update(notice_id, status="delivered", delivered_at=done, next_try_at=None,
                      last_code=code, last_error=None)
        return None
    delay = next_delay(notice.attempts)
    retry_at = done + timedelta(seconds=delay)
    if retry_at - notice.at > GIVE_UP_AFTER:
        notice_update(notice_id, status="failed", next_try_at=None, last_code=code,
                      last_error=error)
        log.warning("alert notice %d failed for a day; giving up: %s", notice_id, error)
        return None
    notice_update(notice_id, next_try_at=retry_at, last_code=code, last_error=error)
    return delay


def notice_update(notice_id: int, **changes) -> None:
    AlertNotice.update(**changes).where(AlertNotice.id == notice_id).execute()


def send_test(rule: AlertRule, now: datetime) -> int:
    """A test message to the rule's destination, delivered (and logged) like the real ones."""
    return AlertNotice.insert(
        rule=rule.id, project=rule.project_id, kind="test", value=0, at=now, next_try_at=now,
        message=f"Test of {rule.name}: {describe(rule)}").execute()


def overdue(now: datetime, grace: timedelta = timedelta(seconds=2)) -> list[int]:
    """Pending notices whose try is past due: their task was not scheduled (a wait too long to
    hold in the broker) or was lost."""
    query = (AlertNotice.select(AlertNotice.id)
             .where(AlertNotice.status == "pending", AlertNotice.next_try_at <= now - grace)
             .order_by(AlertNotice.next_try_at).limit(500))
    return [notice_id for (notice_id,) in query.tuples()]
