"""Pulseboard: the Flask application factory."""

from __future__ import annotations

import json
import os
from datetime import datetime
from zoneinfo import ZoneInfo

from dotenv import load_dotenv
from flask import Flask, abort, g, render_template, request
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import HTTPException, ServiceUnavailable
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import config as settings
from webapp import db, logs, redisconn
from webapp.ingest.queue import celery_init_app
from webapp.ops import metrics
from webapp.responses import fail

# Only our own origin may supply scripts, styles, images and connections; no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def finish(response, request_id: str, env: str):
    """Headers every answer carries: its request id and the security headers."""
    response.headers["X-Request-ID"] = request_id
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if env == "production":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def create_app(config: dict | None = None, test: bool = False) -> Flask:
    """Build the app from the environment (and `.env`), then apply `config` over it."""
    if not test:
        load_dotenv(os.environ.get("PULSEBOARD_DOTENV", ".env"), override=False)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(__name__, template_folder=os.path.join(root, "templates"),
                static_folder=os.path.join(root, "static"))
    app.config.from_object(settings.TestConfig() if test else settings.Config())
    app.config.from_mapping(config or {})
    settings.check(app.config)
    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])

    db.init_app(app)
    app.extensions["redis"] = redisconn.client(
        app.config, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)
    celery_init_app(app)
    _register(app)
    from webapp.web.fastpath import KeyedWebhook

    app.wsgi_app = KeyedWebhook(app, app.wsgi_app)
    if proxies := app.config["TRUSTED_PROXIES"]:  # the client address, as the proxies saw it
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    return app


def json_text(value, limit: int = 300) -> str:
    """Compact JSON for display as text (Jinja escapes it); long values are shortened."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def in_zone(value: str | None, time_zone: str | None, seconds: bool = False) -> str:
    """An ISO-8601 instant shown as the wall-clock time of an IANA zone ("YYYY-MM-DD HH:MM")."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value)
    try:
        moment = moment.astimezone(ZoneInfo(time_zone or "UTC"))
    except OverflowError:  # 0001-01-01T00:00:00Z west of UTC: no local time, shown in UTC
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def nul_in_request() -> bool:
    """Whether the path, a query parameter (name or value) or a form field holds a NUL."""
    fields = list(request.args.items(multi=True))
    # (the Segment and PostHog routes read their bodies themselves, form-encoded ones too, and
    # refuse NULs in what they read)
    if request.mimetype in FORM_TYPES and request.blueprint not in ("segment", "posthog"):
        fields += request.form.items(multi=True)
    return "\0" in request.path or any("\0" in k or "\0" in v for k, v in fields)


def _register(app: Flask) -> None:
    from flask_wtf.csrf import CSRFProtect

    from webapp.ingest import limits
    from webapp.cli import projects as cli
    from webapp.web import (  # noqa: F401 (their routes)
        api,
        dashboard,
        manage,
        manage_alerts,
        protocols,
        reports,
        shares,
    )

    limits.init_app(app)
    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)  # the API authenticates with keys and tokens, not cookies
    csrf.exempt(reports.bp)
    app.register_blueprint(api.bp)
    for blueprint in (protocols.segment_bp, protocols.posthog_bp):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(reports.pages)
    app.register_blueprint(shares.bp)
    cli.init_app(app)

    app.jinja_env.filters["tojson_text"] = json_text
    app.jinja_env.filters["in_zone"] = in_zone

    @app.before_request
    def _request_id():
        g.request_id = request.headers.get("X-Request-ID") or logs.new_request_id()

    @app.before_request
    def _refuse_nul_bytes():
        """PostgreSQL can neither store nor compare text holding NUL: refuse it at the door."""
        if nul_in_request():
            abort(400, "NUL bytes are not allowed in the path, query string or form fields")

    @app.after_request
    def _headers(response):
        return finish(response, g.get("request_id", ""), app.config["ENV"])

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # what the exception says of itself (a 405's Allow), then a 429's rate-limit headers
        headers = {name: value for name, value in exc.get_headers()
                   if name.lower() != "content-type"}
        if exc.code == 429:
            headers.update(limits.refusal_headers())
        if request.blueprint in ("dashboard", "manage", "report_pages", "shares"):
            return render_template("error.html", error=exc), exc.code, headers
        if request.endpoint == "api.webhook" and exc.code in (413, 429):
            reason = "too_large" if exc.code == 413 else "rate_limited"
            metrics.rejected(app.extensions["redis"], reason)
        messages = {413: api.TOO_LARGE,
                    429: f"Rate limit exceeded: {exc.description}"}
        return fail(exc.code or 500, messages.get(exc.code, exc.description or exc.name),
                    headers=headers)

    @app.errorhandler(MaxConnectionsExceeded)
    def _pool_exhausted(exc: MaxConnectionsExceeded):
        app.logger.warning("database connection pool exhausted")
        answer = _http_error(ServiceUnavailable("Database busy, retry later"))
        response = app.make_response(answer)
        response.headers["Retry-After"] = str(app.config["RETRY_AFTER_SECONDS"])
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return fail(500, "Internal server error")
