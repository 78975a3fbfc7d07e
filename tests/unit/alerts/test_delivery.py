"""What a delivery sends: bodies verified by the `standardwebhooks` library, the backoff, and
which addresses are refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from webapp.alerts import deliver
from webapp.alerts.destinations import Refused, addresses, is_public, split
from webapp.alerts.oncommit import as_text
from webapp.ingest.signatures import new_secret
from webapp.models import AlertNotice, AlertRule, Project


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
