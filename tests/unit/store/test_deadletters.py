"""Escaping a refused payload so the dead-letter table can always take it."""

from __future__ import annotations

import json

from webapp.store.deadletters import escaped


def test_escaped_leaves_nothing_jsonb_refuses():
    payload = [{"id": "a\x00b", "meta": {"k\x00": ["\ud800", 1.5, float("nan"), None, 7]}}]
    result = escaped(payload)
    text = json.dumps(result, allow_nan=False)  # no NaN, and encodable: no lone surrogates
    text.encode("utf-8")
    assert "\\u0000" not in text.replace("\\\\u0000", "")
    assert result[0]["id"] == "a\\u0000b"
    assert result[0]["meta"] == {"k\\u0000": ["\\ud800", 1.5, "nan", None, 7]}


def test_escaped_keeps_storable_values_as_they_are():
    payload = [{"id": "ok", "meta": {"emoji": "👩‍💻", "n": 2**63, "t": True}}]
    assert escaped(payload) == payload
