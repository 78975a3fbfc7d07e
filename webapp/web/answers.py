"""Refusals turned into answers, in one place: the API's JSON envelope, the error page for
pages, plain text for the event stream. A refusal on an ingest route counts among /metrics'
rejections by reason."""

from __future__ import annotations

from flask import Flask, Response, current_app, render_template, request
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    NotFound,
    RequestEntityTooLarge,
    ServiceUnavailable,
    default_exceptions,
)

from webapp import counters
from webapp.errors import DatabaseUnavailable, IngestError, PulseboardError, Unauthorized
from webapp.ingest import limits
from webapp.responses import fail

# blueprints answering in HTML
PAGES = ("dashboard", "manage", "report_pages", "shares", "suggest_pages", "boards")
STREAMS = ("dashboard.stream",)  # EventSource clients read a refusal as plain text
REJECTION_REASONS = {415: "content_type", 413: "too_large", 503: "queue_unavailable"}
TOO_LARGE = "Request body too large: at most 1 MB"
REFUSALS = (PulseboardError, RequestEntityTooLarge)  # what an ingest route refuses with


def rejection(exc: Exception, webhook: bool) -> tuple[str, int] | None:
    """(the /metrics rejection reason, how many events) a refusal counts as; a missing or
    wrong key counts only on an ingest route."""
    if isinstance(exc, RequestEntityTooLarge):
        return "too_large", 1
    if isinstance(exc, IngestError):
        reason = exc.reason or ("validation" if exc.errors
                                else REJECTION_REASONS.get(exc.status, "malformed_json"))
        return reason, max(1, exc.invalid)
    if isinstance(exc, Unauthorized) and not webhook:
        return None
    reason = getattr(exc, "reason", None)
    return (reason, 1) if reason else None


def refusal(exc: PulseboardError | RequestEntityTooLarge, webhook: bool) -> Response:
    """The API's answer to a refused request, counted among rejections by reason (a missing
    or wrong key only on `webhook`, an ingest route)."""
    if isinstance(exc, RequestEntityTooLarge):
        response = fail(413, TOO_LARGE)
    else:
        headers = dict(exc.headers)
        if isinstance(exc, DatabaseUnavailable):
            headers["Retry-After"] = str(current_app.config["RETRY_AFTER_SECONDS"])
        response = fail(exc.status, exc.summary, errors=exc.errors, headers=headers or None)
    if counted := rejection(exc, webhook):
        counters.rejected(current_app.extensions["redis"], *counted)
    return response


def is_page() -> bool:
    """A page's route; or no route at all, asked for by a browser (a mistyped address), which
    gets the error page too, where an API client (`Accept: */*` or JSON) keeps the envelope."""
    if request.blueprints:
        return any(name in PAGES for name in request.blueprints)
    return isinstance(request.routing_exception, NotFound) and \
        request.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html"


def page(error: HTTPException, headers=None):
    return render_template("error.html", error=error), error.code, headers or {}


def refused(exc: PulseboardError):
    """Any refusal: the error page on a page, plain text on the event stream, else JSON."""
    if request.endpoint in STREAMS:
        headers = dict(exc.headers)
        if isinstance(exc, DatabaseUnavailable):
            headers["Retry-After"] = str(current_app.config["RETRY_AFTER_SECONDS"])
        return Response(exc.message + "\n", exc.status, mimetype="text/plain", headers=headers)
    if is_page():
        kind = default_exceptions.get(exc.status, InternalServerError)
        return page(kind(exc.message or None), exc.headers)
    return refusal(exc, webhook=request.endpoint == "api.webhook")


def http_error(exc: HTTPException):
    """werkzeug's and flask-limiter's refusals (404, 405, 413, 429, ...), in the same shapes."""
    # what the exception says of itself (a 405's Allow), then a 429's rate-limit headers
    headers = {name: value for name, value in exc.get_headers()
               if name.lower() != "content-type"}
    if exc.code == 429:
        headers.update(limits.refusal_headers())
    if is_page():
        return page(exc, headers)
    if request.endpoint == "api.webhook" and exc.code in (413, 429):
        reason = "too_large" if exc.code == 413 else "rate_limited"
        counters.rejected(current_app.extensions["redis"], reason)
    messages = {413: TOO_LARGE, 429: f"Rate limit exceeded: {exc.description}"}
    return fail(exc.code or 500, messages.get(exc.code, exc.description or exc.name),
                headers=headers)


def pool_exhausted(exc: MaxConnectionsExceeded):
    current_app.logger.warning("database connection pool exhausted")
    response = current_app.make_response(http_error(ServiceUnavailable("Database busy, retry "
                                                                       "later")))
    response.headers["Retry-After"] = str(current_app.config["RETRY_AFTER_SECONDS"])
    return response


def unexpected(exc: Exception):
    current_app.logger.exception("unhandled error")
    return fail(500, "Internal server error")


def init_app(app: Flask) -> None:
    app.register_error_handler(PulseboardError, refused)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(MaxConnectionsExceeded, pool_exhausted)
    app.register_error_handler(Exception, unexpected)
