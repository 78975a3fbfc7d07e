"""What a delivery sends: bodies verified by the `standardwebhooks` library, the backoff, and
which addresses are refused."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from tests.conftest import ROOT
from webapp.alerts import deliver, destinations
from webapp.alerts.destinations import Refused, addresses, check_url, is_public, split
from webapp.alerts.oncommit import as_text
from webapp.models import AlertNotice, AlertRule, Project
from webapp.tenancy.values import new_secret


def parts(body_format: str = "standard"):
    project = Project(id=1, slug="shop", name="Shop")
    rule = AlertRule(id=7, name="Errors", kind="threshold", event_type="error", comparator=">",
                     threshold=100, window_minutes=5, secret=new_secret(),
                     body_format=body_format, url="https://example.com/h")
    notice = AlertNotice(id=42, kind="fired", value=123, message="Errors: 123 events",
                         at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    return notice, rule, project


def test_standard_body_is_verified_by_the_reference_library():
    notice, rule, project = parts()
    body, headers = deliver.signed_request(notice, rule, project, datetime.now(UTC).timestamp())
    payload = Webhook(rule.secret).verify(body, headers)
    assert payload == {"type": "alert.fired", "timestamp": "2026-01-02T03:04:05.000Z",
                       "data": {"rule": {"id": 7, "name": "Errors", "kind": "threshold",
                                         "condition": "error > 100 in 5 min"},
                                "project": {"slug": "shop", "name": "Shop"},
                                "state": "firing", "value": 123,
                                "message": "Errors: 123 events", "noticeId": 42}}
    assert headers["webhook-id"] == "msg_alert_42"
    with pytest.raises(Exception, match="signature"):
        Webhook(new_secret()).verify(body, headers)


def test_slack_body():
    notice, rule, project = parts("slack")
    body, headers = deliver.signed_request(notice, rule, project, datetime.now(UTC).timestamp())
    assert json.loads(body) == {"text": ":rotating_light: [Shop] Errors: 123 events"}
    Webhook(rule.secret).verify(body, headers)


def test_backoff_covers_a_day():
    delays = [deliver.next_delay(n) for n in range(1, 20)]
    assert delays[:3] == [1, 5, 30] and delays == sorted(delays)
    assert sum(delays) > 24 * 3600 and max(delays) == 4 * 3600


@pytest.mark.parametrize("address, public", [
    ("8.8.8.8", True), ("2606:4700:4700::1111", True), ("127.0.0.1", False),
    ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.1.1", False), ("169.254.169.254", False),
    ("100.64.0.1", False), ("0.0.0.0", False), ("::1", False), ("fe80::1%eth0", False),
    ("fd00::1", False), ("::ffff:127.0.0.1", False), ("::ffff:8.8.8.8", True),
    ("224.0.0.1", False),
])
def test_public_addresses(address, public):
    assert is_public(address) is public


# IPv6 addresses that carry a loopback, private or link-local IPv4 address
CARRYING_PRIVATE = ["::127.0.0.1", "::ffff:0:127.0.0.1", "64:ff9b::127.0.0.1", "64:ff9b::a00:1",
                    "2002:7f00:1::", "2002:a9fe:a9fe::", "::10.0.0.1", "::ffff:0:a9fe:a9fe",
                    "64:ff9b::c0a8:101", "2002:c0a8:101::1", "64:ff9b:1::a00:1",
                    "2001:0:4136:e378:8000:63bf:80ff:fffe"]  # Teredo to client 127.0.0.1


@pytest.mark.parametrize("address", CARRYING_PRIVATE)
def test_ipv6_carrying_a_private_ipv4_is_refused(address):
    assert is_public(address) is False
    problem = check_url(f"https://[{address}]:8443/hook", allow_private=False)
    assert problem is not None and "private or loopback" in problem, problem
    assert check_url(f"https://[{address}]:8443/hook", allow_private=True) is None


def test_ipv6_carrying_a_public_ipv4_is_public():  # NAT64 to 8.8.8.8
    assert is_public("64:ff9b::808:808") is True


@pytest.mark.parametrize("address", ["64:ff9b::127.0.0.1", "2002:7f00:1::", "::ffff:0:127.0.0.1"])
def test_names_resolving_to_them_are_refused_at_delivery(monkeypatch, address):
    """A name that resolves to a public address when the rule is saved may later resolve to
    one of these: every delivery checks again what the name resolves to."""
    def name_server(host, port, *args, **kwargs):
        assert host == "hooks.example.com"
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", name_server)
    with pytest.raises(Refused, match="private or loopback"):
        destinations.post("https://hooks.example.com/h", b"{}", {}, allow_private=False)


@pytest.mark.parametrize("host", ["a" * 300, "a" * 64 + ".example.com", "hooks..example.com",
                                  "\udcff.example.com"])
def test_host_names_that_are_not_dns_names_are_refused(host):
    with pytest.raises(Refused, match="not a valid host name"):
        split(f"https://{host}/hook")
    assert check_url(f"https://{host}/hook", allow_private=False) == (
        "Not a valid host name (each part between dots is 1 to 63 characters).")


def test_a_long_host_label_is_refused_without_a_traceback_in_a_gevent_process():
    """The web's gevent workers resolve names in a thread pool that prints what a lookup
    raises, even when the caller handles it."""
    script = ("from gevent import monkey; monkey.patch_all()\n"
              "from webapp.alerts.destinations import check_url\n"
              "print(check_url('https://' + 'a' * 300 + '.example.com/h', False))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.stdout.startswith("Not a valid host name"), done.stdout
    assert done.stderr == ""


def test_international_names_are_sent_as_dns_spells_them():
    assert split("https://bücher.example/h")[1] == "xn--bcher-kva.example"


def test_loopback_names_refused_unless_allowed():
    with pytest.raises(Refused, match="private or loopback"):
        addresses("localhost", 80, allow_private=False)
    assert "127.0.0.1" in addresses("localhost", 80, allow_private=True)


@pytest.mark.parametrize("url", ["ftp://example.com/", "https://", "http://u:p@example.com/",
                                 "http://example.com:99999/"])
def test_bad_urls(url):
    with pytest.raises(Refused):
        split(url)


def test_split():
    assert split("https://example.com/a?b=1") == ("https", "example.com", 443, "/a?b=1")
    assert split("http://[::1]:8080") == ("http", "::1", 8080, "/")


def test_property_values_compare_as_text():
    assert [as_text(v) for v in ("pro", 500, True, None, 1.5)] == [
        "pro", "500", "true", "null", "1.5"]
