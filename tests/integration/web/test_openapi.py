"""The OpenAPI document and the app's routes agree both ways, and it is served as written."""

from __future__ import annotations

import base64
import json
import re

import pytest
import schemathesis
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.routing import AnyConverter

from tests.helpers import INGEST_HEADERS, INGEST_KEY
from webapp import create_app
from webapp.web import openapi

# Routes that are not part of the JSON API: HTML pages and forms, the SSE stream, static files.
# A new route must be either documented in webapp/web/openapi.yaml or named here.
NOT_API = {
    "static",
    "dashboard.login",
    "dashboard.logout",
    "dashboard.index",
    "dashboard.stream",
    "manage.account.index",
    "manage.account.create_organization",
    "manage.projects.create_project",
    "manage.projects.project",
    "manage.keys.create_key",
    "manage.keys.revoke_key",
    "manage.keys.add_signing_secret",
    "manage.members.members",
    "manage.members.add_member",
    "manage.keys.revoke_signing_secret",
    "manage.projects.set_limits",
    "manage.alerts.create_alert",
    "manage.alerts.test_alert",
    "manage.alerts.change_alert",
    "manage.projects.set_time_zone",
    "manage.members.remove_member",
    "manage.notes.annotations",
    "manage.notes.add_annotation",
    "manage.notes.change_annotation",
    "manage.notes.delete_annotation",
    "manage.account.change_password",
    "report_pages.report_page",
    "report_pages.job_stream",
    "report_pages.user_page",
    "report_pages.user_page_by_path",
    "report_pages.conditions_fragment",
    "shares.save_report",
    "shares.shares",
    "shares.create_share",
    "shares.revoke_share",
    "shares.rename_saved_report",
    "shares.delete_saved_report",
    "shares.shared",
    "shares.shared_stream",
    "boards.index",
    "boards.create",
    "boards.board",
    "boards.rename",
    "boards.delete",
    "boards.set_home",
    "boards.pin_page",
    "boards.pin",
    "boards.move_tile",
    "boards.size_tile",
    "boards.remove_tile",
    "boards.order",
    "suggest_pages.suggest_fragment",
}
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}  # added by Flask to every route
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
CONFORMANCE = [status_code_conformance, content_type_conformance, response_headers_conformance,
               response_schema_conformance]
ERROR_STATUSES = {"400", "401", "403", "404", "409", "413", "415", "429", "503"}


def template(path: str) -> str:
    """A Flask rule or an OpenAPI path with its variables made anonymous."""
    return re.sub(r"<[^>]*>|\{[^}]*\}", "{}", path)


def concrete_paths(rule) -> list[str]:
    """A rule's paths, one per value of an `any(...)` part (documented one by one, as
    Segment's calls are); other variables stay variables."""
    paths = [rule.rule]
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            part = re.compile(r"<any\([^)]*\):" + re.escape(name) + ">")
            paths = [part.sub(item, path) for path in paths for item in sorted(converter.items)]
    return paths


def app_operations(app) -> set[tuple[str, str]]:
    return {(template(path), method)
            for rule in app.url_map.iter_rules() if rule.endpoint not in NOT_API
            for path in concrete_paths(rule)
            for method in rule.methods - IMPLICIT_METHODS}


def documented_operations() -> set[tuple[str, str]]:
    return {(template(path), method.upper())
            for path, item in openapi.document()["paths"].items()
            for method in item if method in METHODS}


def test_every_json_route_is_documented_and_every_documented_route_exists(app):
    routes, documented = app_operations(app), documented_operations()
    assert routes - documented == set(), "routes missing from webapp/web/openapi.yaml"
    assert documented - routes == set(), "documented operations the app does not serve"
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert NOT_API <= endpoints, "NOT_API names endpoints that no longer exist"


def test_the_document_is_valid_openapi_3_1():
    document = openapi.document()
    assert document["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(document).validate()


def test_every_refusal_is_a_shared_envelope_response():
    """Error answers come from components/responses, so they share the envelope and headers."""
    document = openapi.document()
    shared = document["components"]["responses"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status in ERROR_STATUSES and path != "/health":
                    ref = response.get("$ref", "")
                    assert ref.startswith("#/components/responses/"), (method, path, status)
                    assert ref.rsplit("/", 1)[1] in shared


def test_openapi_json_serves_the_document(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == json.loads(json.dumps(openapi.document()))


@pytest.mark.usefixtures("worker")
def test_a_429_carries_exactly_the_documented_rate_limit_headers(services, project, app):
    limited = create_app({"DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
                          "WEBHOOK_RATE_LIMIT": "1 per minute"}, test=True)
    client = limited.test_client()
    event = {"eventType": "a", "userId": "1"}
    answers = [client.post("/webhook", json=event, headers=INGEST_HEADERS) for _ in range(2)]
    assert [a.status_code for a in answers] == [202, 429]
    documented = openapi.document()["components"]["responses"]["RateLimited"]["headers"]
    sent = {name for name in answers[1].headers.keys()
            if name.lower() == "retry-after" or "ratelimit" in name.lower()}
    assert sent == set(documented)
    operation = schemathesis.openapi.from_dict(openapi.document())["/webhook"]["POST"]
    case = operation.Case(body=event, headers=INGEST_HEADERS, media_type="application/json")
    for answer in answers:  # the checks of the answer alone (others send requests of their own)
        case.validate_response(answer, checks=CONFORMANCE)


SEGMENT_AUTH = {"Authorization": "Basic " + base64.b64encode(f"{INGEST_KEY}:".encode()).decode()}
ADAPTER_CALLS = [  # (path, body, a refused one, headers): each adapter's way with the key
    ("/v1/track", {"userId": "u", "event": "Order Completed"},
     {"userId": "u", "event": "tab\there"}, SEGMENT_AUTH),
    ("/v1/batch", {"writeKey": INGEST_KEY, "batch": [{"type": "page", "anonymousId": "a"}]},
     {"writeKey": INGEST_KEY, "batch": [{"type": "page"}]}, {}),
    ("/capture/", {"api_key": INGEST_KEY, "event": "$pageview", "distinct_id": "u"},
     {"api_key": INGEST_KEY, "event": "$pageview", "distinct_id": "u\x00"}, {}),
    ("/batch/", {"api_key": INGEST_KEY, "batch": [{"event": "x y", "distinct_id": 7}]},
     {"api_key": INGEST_KEY, "batch": [{"event": "x y", "distinct_id": 2**70}]}, {}),
    ("/i/v1/analytics/events", {"batch": [{"event": "e", "distinct_id": "u", "uuid": "1"}]},
     {"batch": []}, {"Authorization": f"Bearer {INGEST_KEY}"}),
]


@pytest.mark.usefixtures("worker")
@pytest.mark.parametrize(("path", "body", "refused", "headers"), ADAPTER_CALLS,
                         ids=[call[0] for call in ADAPTER_CALLS])
def test_the_adapters_answers_and_refusals_are_documented(services, project, path, body,
                                                          refused, headers):
    """Accepted, refused (bad body, no key) and rate limited: each answer as documented,
    the 429 with the rate-limit headers."""
    limited = create_app({"DATABASE_URL": services.database_url, "REDIS_URL": services.redis_url,
                          "WEBHOOK_RATE_LIMIT": "2 per minute"}, test=True)
    client = limited.test_client()
    operation = schemathesis.openapi.from_dict(openapi.document())[path]["POST"]
    keyless = {name: value for name, value in body.items() if name not in ("writeKey", "api_key")}
    sent = [(body, headers), (refused, headers), (keyless, {}),
            (body, headers), (body, headers)]
    answers = [client.post(path, json=json_body, headers=extra) for json_body, extra in sent]
    assert [a.status_code for a in answers] == [200, 400, 401, 200, 429]
    documented = operation.definition.raw["responses"]["429"]["$ref"].rsplit("/", 1)[1]
    limit_headers = {name for name in answers[-1].headers.keys()
                     if name.lower() == "retry-after" or "ratelimit" in name.lower()}
    assert limit_headers == set(openapi.document()["components"]["responses"][documented]
                                ["headers"])
    for (json_body, extra), answer in zip(sent, answers, strict=True):
        case = operation.Case(body=json_body, headers=extra, media_type="application/json")
        case.validate_response(answer, checks=CONFORMANCE)


def test_a_405_names_the_allowed_methods(client):
    response = client.delete("/webhook")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}
    assert response.get_json()["success"] is False


def test_the_documented_limits_are_the_apps():
    from webapp.ingest.protocols import posthog
    from webapp.ingest.storable import INT_RANGE
    from webapp.ingest.validation import SDK

    schemas = openapi.document()["components"]["schemas"]
    offset = schemas["PostHogEvent"]["allOf"][1]["anyOf"][1]["properties"]["offset"]["anyOf"][0]
    assert (offset["minimum"], offset["maximum"]) == posthog.OFFSET_RANGE
    assert (schemas["Int64"]["minimum"], schemas["Int64"]["maximum"]) == INT_RANGE
    assert schemas["SdkEventName"]["maxLength"] == SDK.type_max
