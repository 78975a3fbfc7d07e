"""`POST /webhook` with an ingest key, answered without Flask's request cycle.

It is by far the most frequent request, and most of its cost under load was the framework's
per-request work (request context, session, URL matching, before- and after-request hooks)
rather than ours. This WSGI layer in front of the Flask app answers exactly that request with
the same functions the Flask view uses (key check, ingestion, the answers and their counters)
inside an app context, and passes everything else on: signed deliveries (`webhook-signature`
or `/webhook/<project>`) and every other route go through Flask as usual.
"""

from __future__ import annotations

import logging

import orjson
from werkzeug.http import parse_options_header

from webapp import logs
from webapp.errors import IngestError
from webapp.ingest import accept
from webapp.ingest.limits import fast_path_address, key_sender, limit_for
from webapp.responses import fail
from webapp.tenancy import credentials
from webapp.web import answers, api
from webapp.web.headers import SECURITY_HEADERS, finish

log = logging.getLogger(__name__)


class RequestHeaders:
    """The request headers this path reads, straight from the environ (werkzeug's
    EnvironHeaders normalises every name on every lookup: a few microseconds a request)."""

    __slots__ = ("environ",)

    def __init__(self, environ: dict):
        self.environ = environ

    def get(self, name: str, default=None):
        return self.environ.get(ENVIRON_NAMES.get(name) or environ_name(name), default)


def environ_name(name: str) -> str:
    """Where WSGI puts a request header (other than Content-Type and Content-Length)."""
    return "HTTP_" + name.upper().replace("-", "_")


ENVIRON_NAMES = {name: environ_name(name) for name in (
    "X-API-Key", "Authorization", *accept.DELIVERY_HEADERS)}


class KeyedWebhook:
    def __init__(self, app, downstream):
        self.app, self.downstream = app, downstream
        self.headers = list(SECURITY_HEADERS.items())
        if app.config["ENV"] == "production":
            self.headers.append(("Strict-Transport-Security", "max-age=31536000"))

    def __call__(self, environ, start_response):
        if (environ.get("PATH_INFO") != "/webhook" or environ.get("REQUEST_METHOD") != "POST"
                or "HTTP_WEBHOOK_SIGNATURE" in environ):
            return self.downstream(environ, start_response)
        request_id = environ.get("HTTP_X_REQUEST_ID") or logs.new_request_id()
        token = logs.web_request_id.set(request_id)
        address = fast_path_address.set(environ.get("REMOTE_ADDR") or "unknown")
        try:
            try:
                body = orjson.dumps(api.accepted_body(self.ingest(environ, request_id)))
            except Exception as exc:
                response = self.refused(exc, request_id)
            else:  # the answer to nearly every request, built without a Response object
                start_response("202 ACCEPTED", [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    ("X-Request-ID", request_id),
                    *self.headers,
                ])
                return [body]
        finally:
            logs.web_request_id.reset(token)
            fast_path_address.reset(address)
        return response(environ, start_response)

    def refused(self, exc: Exception, request_id: str):
        """The answer to a refused request (or a 500, logged), built in an app context."""
        if not isinstance(exc, answers.REFUSALS):
            log.exception("unhandled error")
        with self.app.app_context():
            response = (answers.refusal(exc, webhook=True) if isinstance(exc, answers.REFUSALS)
                        else fail(500, "Internal server error"))
            return finish(response, request_id, self.app.config["ENV"])

    def ingest(self, environ, request_id: str) -> accept.Accepted:
        """The request's events, accepted. A key confirmed within the last few seconds needs
        neither the database nor anything of Flask's, so nearly every request runs without
        an app context (pushing and tearing one down cost more than the rest of this method);
        any other key is looked up inside one, which returns the database connection after."""
        headers = RequestHeaders(environ)
        key = credentials.presented_key("X-API-Key", source=headers)
        confirmed = credentials.confirmed_ingest_key(key)
        if confirmed is None:
            with self.app.app_context():
                project_id = credentials.project_for_ingest_key(key)
                limits = credentials.webhook_limits(key, None)
                return self.enqueue(environ, headers, request_id, key, project_id, limits)
        return self.enqueue(environ, headers, request_id, key, *confirmed)

    def enqueue(self, environ, headers: RequestHeaders, request_id: str, key: str,
                project_id: int, limits: tuple) -> accept.Accepted:
        mimetype, _ = parse_options_header(environ.get("CONTENT_TYPE", ""))
        if not accept.is_json_content_type(mimetype):
            raise IngestError(415, "Content-Type must be application/json")
        config = self.app.config
        raw = accept.read_body(environ, config["MAX_CONTENT_LENGTH"])
        return accept.accept(
            self.app.extensions["celery"],
            project_id,
            raw,
            delivery=accept.delivery_header(headers),
            request_id=request_id,
            retry_after=config["RETRY_AFTER_SECONDS"],
            sender=key_sender(key),
            limit=limit_for(self.app, *limits),
        )
