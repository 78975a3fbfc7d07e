"""What a caller can learn or wear out: /metrics, client addresses behind a proxy, login limits
without Redis, the key cache under a flood of unknown keys, unauthenticated requests."""

from __future__ import annotations

import hmac
import http.client
import json
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from tests.conftest import start_gunicorn, start_nginx, stop_process
from tests.helpers import ADMIN_EMAIL, ADMIN_PASSWORD, INGEST_KEY, READ_HEADERS, csrf_token
from webapp.dev.servers import free_port
from webapp.models import ApiKey
from webapp.tenancy import credentials


def test_metrics_token_is_compared_in_constant_time(client, project, monkeypatch):
    compared, real = [], hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setitem(client.application.config, "METRICS_TOKEN", "metrics-secret")
    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    good = client.get("/metrics", headers={"Authorization": "Bearer metrics-secret"})
    assert good.status_code == 200 and "pulseboard_events_accepted_total" in good.text
    assert (b"nope", b"metrics-secret") in compared and len(compared) == 3


def test_production_serves_metrics_only_with_a_token(client, project, monkeypatch):
    config = client.application.config
    monkeypatch.setitem(config, "ENV", "production")
    monkeypatch.setitem(config, "METRICS_TOKEN", None)
    refused = client.get("/metrics")
    assert refused.status_code == 403 and "METRICS_TOKEN" in refused.get_json()["message"]
    assert "pulseboard_" not in refused.text
    monkeypatch.setitem(config, "METRICS_TOKEN", "metrics-secret")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer metrics-secret"}) \
        .status_code == 200


def test_a_flood_of_unknown_keys_cannot_evict_a_valid_one(app, project, monkeypatch):
    lookups = []
    real = ApiKey.project_id_for

    def counted(kind, secret):
        lookups.append(secret)
        return real(kind, secret) if secret == INGEST_KEY else None

    monkeypatch.setattr(ApiKey, "project_id_for", counted)
    monkeypatch.setattr(credentials, "lookup_guard", None, raising=False)  # floods unlimited
    with app.app_context():
        assert credentials.project_for_ingest_key(INGEST_KEY) == project.id
        for i in range(25_000):
            with pytest.raises(credentials.Unauthorized):
                credentials.project_for_ingest_key(f"pb_live_unknown_{i}")
        before = len(lookups)
        assert credentials.project_for_ingest_key(INGEST_KEY) == project.id
    assert len(lookups) == before  # still cached: no new lookup
    assert len(credentials._lookups) <= 1  # no lock kept per unknown key


def test_unauthenticated_requests_are_limited_per_address(client, project, monkeypatch):
    monkeypatch.setitem(client.application.config, "UNAUTHENTICATED_RATE_LIMIT", "6 per minute")
    assert client.get("/events", headers=READ_HEADERS).status_code == 200  # known, cached
    body = json.dumps({"eventType": "a", "userId": "b"})
    answers = [client.get("/events", headers={"Authorization": f"Bearer wrong-{i}"}).status_code
               for i in range(3)]
    answers += [client.post("/webhook", data=body, content_type="application/json",
                            headers={"X-API-Key": f"wrong-{i}"}).status_code for i in range(2)]
    answers.append(client.get("/events").status_code)  # no credentials at all
    assert answers == [401] * 6
    limited = client.post("/webhook", data=body, content_type="application/json",
                          headers={"X-API-Key": "wrong-again"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert client.get("/events", headers={"Authorization": "Bearer x"}).status_code == 429
    assert client.get("/stream", headers={"Authorization": "Bearer x"}).status_code == 429
    assert client.get("/events", headers=READ_HEADERS).status_code == 200  # valid keys go on
    other = client.get("/events", headers={"Authorization": "Bearer x"},
                       environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 401  # another address has its own count


def test_login_fails_closed_when_redis_is_away(services, admin):
    server = start_gunicorn(services, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    try:
        browser = requests.Session()
        page = browser.get(server.url + "/login", timeout=10)
        answer = browser.post(server.url + "/login", allow_redirects=False, timeout=15,
                              data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD,
                                    "csrf_token": csrf_token(page.text)})
        assert answer.status_code == 503 and answer.headers["Retry-After"]
        assert "session" not in browser.cookies or browser.get(
            server.url + "/", allow_redirects=False, timeout=10).status_code == 302
    finally:
        stop_process(server.process)


def attempt(proxy, source: str, email: str, forwarded: str | None = None) -> int:
    """A login attempt (wrong password, valid form) from loopback address `source` through
    the proxy."""
    url = urlsplit(proxy.url)

    def send(method: str, body: str | None = None, **headers):
        if forwarded:
            headers["X-Forwarded-For"] = forwarded
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10,
                                                source_address=(source, 0))
        connection.request(method, "/login", body=body, headers=headers)
        response = connection.getresponse()
        answer = response.status, response.getheader("Set-Cookie", ""), response.read()
        connection.close()
        return answer

    _, cookie, page = send("GET")
    form = urlencode({"email": email, "password": "wrong",
                      "csrf_token": csrf_token(page.decode())})
    status, _, _ = send("POST", form, Cookie=cookie.split(";")[0],
                        **{"Content-Type": "application/x-www-form-urlencoded"})
    return status


def test_behind_a_proxy_login_limits_count_each_real_client(services, admin, tmp_path):
    server = start_gunicorn(services, TRUSTED_PROXIES="1", LOGIN_RATE_LIMIT="3 per minute")
    proxy = start_nginx(tmp_path / "nginx", server.url)
    try:
        first = [attempt(proxy, "127.0.0.2", f"a{i}@example.test") for i in range(3)]
        assert 429 not in first
        assert attempt(proxy, "127.0.0.2", "a9@example.test") == 429
        # a forged X-Forwarded-For does not make the same client someone else
        assert attempt(proxy, "127.0.0.2", "b1@example.test", forwarded="10.9.9.9") == 429
        assert attempt(proxy, "127.0.0.3", "c1@example.test") != 429  # another client
    finally:
        stop_process(proxy.process)
        stop_process(server.process)
