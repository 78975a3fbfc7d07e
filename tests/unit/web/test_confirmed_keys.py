"""The keyed /webhook path skips the app context only for keys confirmed within the cache's
few seconds, project and limits both (pure: the cache is filled by hand)."""

from __future__ import annotations

import pytest

from webapp.tenancy import credentials


@pytest.fixture(autouse=True)
def empty_cache():
    credentials.forget_keys()
    yield
    credentials.forget_keys()


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(credentials.time, "monotonic", lambda: now[0])
    return now


def test_a_key_needs_its_project_and_its_limits_confirmed(clock):
    assert credentials.confirmed_ingest_key(None) is None
    assert credentials.confirmed_ingest_key("k") is None
    credentials._remember(("ingest", "k"), 7, credential=True)
    assert credentials.confirmed_ingest_key("k") is None  # limits not looked up yet
    credentials._remember(("limits", "k"), None, credential=False)  # the defaults
    assert credentials.confirmed_ingest_key("k") == (7, (None, None))
    credentials._remember(("limits", "k"), ("5/second", None), credential=False)
    assert credentials.confirmed_ingest_key("k") == (7, ("5/second", None))
    assert credentials.confirmed_ingest_key("other") is None


def test_an_unknown_key_is_never_confirmed(clock):
    credentials._remember(("ingest", "bad"), None, credential=True)
    credentials._remember(("limits", "bad"), None, credential=False)
    assert credentials.confirmed_ingest_key("bad") is None


@pytest.mark.parametrize("stale", ["ingest", "limits"])
def test_a_confirmation_lasts_the_cache_seconds(clock, stale):
    credentials._remember(("ingest", "k"), 7, credential=True)
    credentials._remember(("limits", "k"), None, credential=False)
    clock[0] += credentials._CACHE_SECONDS - 0.01
    assert credentials.confirmed_ingest_key("k") == (7, (None, None))
    clock[0] += 0.02
    assert credentials.confirmed_ingest_key("k") is None
    credentials._remember(("ingest" if stale == "limits" else "limits", "k"),
                   7 if stale == "limits" else None, credential=stale == "limits")
    assert credentials.confirmed_ingest_key("k") is None  # the other one is still stale
