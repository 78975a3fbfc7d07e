"""HTTPS as deployed: Debian's nginx with deploy/nginx/ as shipped (a self-signed certificate
in place of the real one) in front of a production-mode gunicorn. The session cookie is
`Secure` and comes back, port 80 only redirects (and answers certificate challenges), links
the app makes say https, and event streams flow through TLS."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import ROOT, stop_process
from tests.helpers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    INGEST_HEADERS,
    READ_HEADERS,
    csrf_token,
    wait_until,
)
from tests.integration.ops import shipped_nginx
from webapp.dev.servers import free_port

pytestmark = shipped_nginx.needs_nginx
TOTAL = re.compile(r'data-testid="total">([\d,]+)<')


def start_production_web(services) -> tuple[subprocess.Popen, int]:
    """gunicorn as the image runs it (PULSEBOARD_ENV=production, behind one proxy), bound to
    loopback only."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "webapp/gunicorn_conf.py",
         "--workers", "1", "--bind", f"127.0.0.1:{port}", "webapp.wsgi:app"],
        cwd=ROOT, env=services.env(PULSEBOARD_ENV="production", TRUSTED_PROXIES="1"),
        start_new_session=True)

    def up() -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code > 0
        except requests.RequestException:  # not listening yet, or still starting
            return False

    try:
        wait_until(up, timeout=30, what="gunicorn")
    except AssertionError:
        stop_process(process)
        raise
    return process, port


@pytest.fixture
def deployed(services, admin, worker, tmp_path):
    web, port = start_production_web(services)
    try:
        proxy = shipped_nginx.start(tmp_path / "nginx", [port])
        yield proxy
        stop_process(proxy.process)
    finally:
        stop_process(web)


def totals(lines, until, timeout: float) -> int:
    """Read an event stream's lines (one iterator for the whole stream: closing one closes
    the connection) until a counters panel shows a total for which `until` holds."""
    deadline, seen = time.monotonic() + timeout, []
    for line in lines:
        seen.append((line or "")[:200])
        found = TOTAL.search(line or "")
        if found and until(int(found.group(1).replace(",", ""))):
            return int(found.group(1).replace(",", ""))
        assert time.monotonic() < deadline, f"the stream never showed the total: {seen[-5:]}"
    raise AssertionError(f"the stream ended: {seen[-5:]}")


def test_shipped_configuration_passes_nginx_t(tmp_path):
    """deploy/nginx/ with only addresses and paths put in (configure runs `nginx -t`)."""
    shipped_nginx.configure(tmp_path, [free_port()])
    text = (tmp_path / "pulseboard.conf").read_text()
    assert "ssl http2;" in text and "return 301 https://$host$request_uri;" in text


def test_login_cookie_links_and_streams_work_over_https(deployed):
    https, browser = deployed.https, requests.Session()
    browser.verify = str(deployed.certificate)
    browser.trust_env = False  # or REQUESTS_CA_BUNDLE would replace that certificate

    health = browser.get(https + "/health", timeout=10)
    assert health.status_code == 200 and health.json()["success"]
    assert health.headers["Strict-Transport-Security"].startswith("max-age=")

    # port 80: a redirect to the same place over HTTPS, nothing passed to the app
    for method in ("GET", "POST"):
        plain = requests.request(method, deployed.http + "/login?next=%2Fprojects",
                                 headers={"Host": "pulse.test"}, allow_redirects=False,
                                 timeout=10)
        assert plain.status_code == 301
        assert plain.headers["Location"] == "https://pulse.test/login?next=%2Fprojects"
    # ... except certificate challenges, served from the webroot
    challenge = deployed.root / "acme" / ".well-known" / "acme-challenge" / "token-1"
    challenge.write_text("token-1.thumbprint")
    answered = requests.get(deployed.http + "/.well-known/acme-challenge/token-1", timeout=10)
    assert answered.status_code == 200 and answered.text == "token-1.thumbprint"

    # log in: the session cookie is Secure (and HttpOnly), and comes back over HTTPS
    page = browser.get(https + "/login", timeout=10)
    logged = browser.post(https + "/login", allow_redirects=False, timeout=10,
                          headers={"Referer": https + "/login"},  # as a browser sends it
                          data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD,
                                "csrf_token": csrf_token(page.text)})
    assert logged.status_code == 302, logged.text[:300]
    cookie = logged.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "; Secure" in cookie and "; HttpOnly" in cookie
    assert next(c for c in browser.cookies if c.name == "session").secure
    dashboard = browser.get(https + "/", allow_redirects=False, timeout=10)
    assert dashboard.status_code == 200 and "Log out" in dashboard.text

    # links the app makes know the request came over HTTPS (X-Forwarded-Proto is trusted)
    shares = browser.get(https + "/projects/default/shares", timeout=10)
    made = browser.post(https + "/projects/default/shares", timeout=10,
                        headers={"Referer": https + "/projects/default/shares"},
                        data={"csrf_token": csrf_token(shares.text), "saved_report": ""})
    assert made.status_code == 200, made.text[:300]
    link = re.search(r'data-testid="share-link">([^<]+)<', made.text).group(1)
    assert link.startswith(https + "/share/")

    # event streams pass through TLS unbuffered: the dashboard's, then a shared dashboard's
    with browser.get(https + "/stream?filter=hour", headers=READ_HEADERS, stream=True,
                     timeout=10) as stream:
        assert stream.status_code == 200
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        lines = stream.iter_lines(decode_unicode=True)
        assert totals(lines, lambda total: total == 0, 15) == 0
        sent = browser.post(https + "/webhook", json={"eventType": "signup", "userId": "u1"},
                            headers=INGEST_HEADERS, timeout=10)
        assert sent.status_code == 202
        assert totals(lines, lambda total: total >= 1, 15) == 1
    with requests.get(link + "/stream?filter=hour", verify=str(deployed.certificate),
                      stream=True, timeout=10) as shared:
        assert shared.status_code == 200
        assert totals(shared.iter_lines(decode_unicode=True), lambda total: total >= 1,
                      15) == 1


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl to speak HTTP/2")
def test_https_speaks_http2(deployed):
    answer = subprocess.run(
        ["curl", "--silent", "--show-error", "--http2", "--cacert", str(deployed.certificate),
         "--output", "/dev/null", "--write-out", "%{http_version} %{http_code}",
         deployed.https + "/health"], capture_output=True, text=True, timeout=30)
    assert answer.stdout == "2 200", answer.stderr
