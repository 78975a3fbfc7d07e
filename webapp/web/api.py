"""The HTTP API, compatible with the reference: /health, /webhook, /events, /events/stats,
exports, /metrics, and its OpenAPI document at /openapi.json (webapp/web/openapi.yaml)."""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, request
from redis.exceptions import RedisError

from webapp.db import database
from webapp.errors import BadFilter, BadQuery, Forbidden, IngestError, Unauthorized
from webapp.ingest import accept, signed
from webapp.ingest.limits import sender_key, webhook_limit
from webapp.live import stream
from webapp.models import Project, iso
from webapp.ops import health, metrics
from webapp.reads import export, export_slots, filters, replica, span, stats
from webapp.reads.events import list_events, parse_limit
from webapp.reads.ranges import parse_range
from webapp.reads.windows import window_for
from webapp.responses import envelope, fail, ok
from webapp.store import deadletters, partitions
from webapp.tenancy import credentials, policy
from webapp.web import openapi

bp = Blueprint("api", __name__)
STARTED = time.monotonic()


@bp.get("/health")
def health_check():
    healthy, checks, lag = health.report(current_app.extensions["redis"],
                                         current_app.config["WORKER_HEARTBEAT_TTL"],
                                         current_app.config["STORE_LAG_LIMIT_SECONDS"])
    data = {
        "status": "healthy" if healthy else "unhealthy",
        "timestamp": iso(datetime.now(UTC)),
        "uptime": round(time.monotonic() - STARTED, 3),
        "checks": checks,
    }
    if lag is not None:  # the age of the oldest batch waiting to be stored
        data["storeLagSeconds"] = round(lag, 3)
    if healthy:
        return ok(data)
    failing = ", ".join(name for name, state in checks.items() if state != "ok")
    return envelope(False, 503, f"Unhealthy: {failing}", data=data)


@bp.post("/webhook")
@bp.post("/webhook/<project_slug>")
@bp.post("/webhook/<org_slug>/<project_slug>")
def webhook(project_slug: str | None = None, org_slug: str | None = None):
    """Keyed (`X-API-Key` / Bearer) or signed (Standard Webhooks, to /webhook/<org>/<project>,
    or /webhook/<project> for the oldest project of that slug)."""
    if project_slug is None:
        project_id = credentials.ingest_project_id()
    else:
        handle = f"{org_slug}/{project_slug}" if org_slug else project_slug
        project_id = credentials.project_id_for_slug(handle)
    if not accept.is_json_content_type(request.mimetype):
        raise IngestError(415, "Content-Type must be application/json")
    delivery = accept.delivery_header(request.headers)
    raw = accept.read_body(request.environ, current_app.config["MAX_CONTENT_LENGTH"])
    msg_id, redis = None, current_app.extensions["redis"]
    if project_slug is not None or signed.is_signed():
        msg_id = signed.verify_request(project_id, raw)
        if (earlier := signed.earlier_receipt(redis, project_id, msg_id, raw)) is not None:
            # a sender's retry of an accepted delivery: the same answer, nothing queued again
            return accepted_response(accept.prepare(raw, earlier, delivery))
    accepted = accept.accept(
        current_app.extensions["celery"],
        project_id,
        raw,
        delivery=delivery,
        request_id=g.get("request_id"),
        retry_after=current_app.config["RETRY_AFTER_SECONDS"],
        sender=sender_key(),
        limit=webhook_limit(current_app, credentials.presented_key("X-API-Key"),
                            project_id if project_slug is not None else None),
    )
    if msg_id is not None:
        signed.remember(redis, project_id, msg_id, raw, accepted.received_at)
    return accepted_response(accepted)


def accepted_body(accepted: accept.Accepted) -> dict:
    received = accepted.received
    if accepted.single:
        return {"success": True, "message": "Event accepted",
                "data": {"eventId": accepted.event_ids[0], "receivedAt": received}}
    return {"success": True, "message": "Events accepted",
            "data": {"eventIds": accepted.event_ids, "count": len(accepted.event_ids),
                     "receivedAt": received}}


def accepted_response(accepted: accept.Accepted) -> Response:
    body = accepted_body(accepted)
    return ok(body["data"], status=202, message=body["message"])


def requested_span(project_id: int) -> tuple[datetime, datetime] | None:
    """`from`/`to` (local dates in the project's zone, or instants), when either is given."""
    if not (request.args.get("from") or request.args.get("to")):
        return None
    problems: list[str] = []
    bounds = parse_range(request.args.get("from"), request.args.get("to"),
                         Project.time_zone_of(project_id), datetime.now(UTC), problems)
    if problems:
        raise BadFilter(problems)
    return bounds


@bp.get("/events")
def events():
    project_id = policy.read_project_id()
    window = window_for(request.args.get("filter"))
    page = list_events(
        project_id,
        window,
        datetime.now(UTC),
        event_type=request.args.get("eventType"),
        user_id=request.args.get("userId"),
        limit=parse_limit(request.args.get("limit")),
        cursor=request.args.get("cursor"),
        raw_metadata=True,
        source=replica.reader(),
        where=filters.from_args(request.args),
        span=requested_span(project_id),
    )
    return ok(with_user_links(page))


def with_user_links(page: dict) -> dict:
    """Each listed event links to its user's timeline (`GET /users?id=<userId>`: a query
    carries any id unchanged), in the same project when the listing named one."""
    slug = request.args.get("project")
    suffix = "&" + urlencode({"project": slug}) if slug else ""
    for event in page["events"]:
        event["links"] = {"user": "/users?" + urlencode({"id": event["userId"]}) + suffix}
    return page


@bp.get("/events/stats")
def events_stats():
    project_id = policy.read_project_id()
    where = filters.from_args(request.args)
    bounds = requested_span(project_id)
    if bounds is not None:
        if request.args.get("filter"):  # replaced by the range, but never a wrong one
            window_for(request.args["filter"])
        bucket = request.args.get("bucket") or None
        if bucket not in (None, *span.BUCKETS):
            raise BadQuery(f'"bucket" must be one of [{", ".join(span.BUCKETS)}]')
        return ok(span.compute(project_id, *bounds, Project.time_zone_of(project_id), bucket,
                               where))
    window = window_for(request.args.get("filter"))
    return ok(stats.compute(project_id, window, datetime.now(UTC), where))


@bp.get("/events/export")
def events_export():
    """Every event of the filter as CSV (default), NDJSON or JSON, streamed; at most
    EXPORT_CONCURRENCY at once per project (else 429 with Retry-After)."""
    project_id = policy.read_project_id()
    fmt = request.args.get("format", "csv")
    if fmt not in export.FORMATS:
        raise BadQuery(f'"format" must be one of [{", ".join(export.FORMATS)}]')
    name = request.args.get("filter") or "all"
    window = None if name == "all" else window_for(name)  # a wrong one is a 400, range or not
    now = datetime.now(UTC)
    start, end = requested_span(project_id) or (
        None if window is None else window.start(now), None)
    # everything that may refuse the request comes before the slot: a slot taken by a request
    # then refused (a bad `where`) was never given back, and two of them stopped all exports
    source = export.rows(project_id, start, request.args.get("eventType"),
                         request.args.get("userId"), filters.from_args(request.args), end)
    redis, config = current_app.extensions["redis"], current_app.config
    lapse = config["EXPORT_SLOT_SECONDS"]
    try:  # ExportsBusy: a 429 with Retry-After
        slot = export_slots.take(redis, project_id, config["EXPORT_CONCURRENCY"], lapse)
    except RedisError:
        return fail(503, "Exports are paused while their limit cannot be checked; retry later",
                    headers={"Retry-After": str(config["RETRY_AFTER_SECONDS"])})
    chunks = export_slots.Held(redis, project_id, slot, lapse, export.WRITERS[fmt](source))
    filename = f"pulseboard-events-{name}-{now:%Y%m%dT%H%M%SZ}.{fmt}"
    # no request context while streaming: the request's own connection goes back to the pool
    # before the first byte, and each page of rows takes one only while it is read
    return Response(chunks, content_type=export.FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/metrics")
def prometheus_metrics():
    """Prometheus text format. With METRICS_TOKEN set it requires `Authorization: Bearer <it>`
    (compared in constant time); in production it is served only when a token is set."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        presented = credentials.presented_key() or ""
        if not hmac.compare_digest(presented.encode(), token.encode()):
            raise Unauthorized("Missing or wrong metrics token")
    elif current_app.config["ENV"] == "production":
        raise Forbidden("Set METRICS_TOKEN to serve /metrics in production")
    redis = current_app.extensions["redis"]
    body = metrics.render(redis, deadletters.pending_count(), stream.open_clients(redis),
                          partitions.totals(database))
    return Response(body, content_type="text/plain; version=0.0.4; charset=utf-8")


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document of every JSON route (kept in webapp/web/openapi.yaml)."""
    return Response(openapi.document_json(), content_type="application/json")
