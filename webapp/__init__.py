"""Pulseboard: the Flask application factory."""

from __future__ import annotations

import json
import os
from datetime import datetime
from zoneinfo import ZoneInfo

from dotenv import load_dotenv
from flask import Flask, abort, g, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp import cli, db, logs, redisconn, vendor
from webapp import config as settings
from webapp.ingest import limits
from webapp.ingest.queue import celery_init_app
from webapp.tenancy import projects
from webapp.web import (
    annotations,
    answers,
    api,
    dashboard,
    manage,
    protocols,
    reports,
    shares,
    suggest,
)
from webapp.web.fastpath import KeyedWebhook
from webapp.web.headers import finish


def create_app(config: dict | None = None, test: bool = False) -> Flask:
    """Build the app from the environment (and `.env`), then apply `config` over it."""
    if not test:
        load_dotenv(settings.value("PULSEBOARD_DOTENV"), override=False)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(__name__, template_folder=os.path.join(root, "templates"),
                static_folder=os.path.join(root, "static"))
    app.config.from_object(settings.TestConfig() if test else settings.Config())
    app.config.from_mapping(config or {})
    app.jinja_env.globals["vendor"] = vendor.served()  # htmx's files, named by package.json
    settings.check(app.config)
    logs.configure(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])

    db.init_app(app)
    app.extensions["redis"] = redisconn.client(
        app.config, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)
    celery_init_app(app)
    _register(app)
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
    limits.init_app(app)
    projects.init_app(app)  # the `project` URL converter
    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)  # the API authenticates with keys and tokens, not cookies
    csrf.exempt(reports.bp)
    csrf.exempt(annotations.bp)  # changed with an annotation key only, never with a cookie
    app.register_blueprint(api.bp)
    app.register_blueprint(annotations.bp)
    for blueprint in (protocols.segment_bp, protocols.posthog_bp):
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(reports.pages)
    app.register_blueprint(shares.bp)
    app.register_blueprint(suggest.bp)
    app.register_blueprint(suggest.pages)
    answers.init_app(app)
    cli.init_app(app)

    app.jinja_env.filters["tojson_text"] = json_text
    app.jinja_env.filters["in_zone"] = in_zone
    app.jinja_env.filters["values_list_id"] = suggest.values_list_id

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
