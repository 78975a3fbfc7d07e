"""Whatever JSON a sender posts, an adapter answers with events or a 400 listing problems,
never an exception of its own (pure functions, no services)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import event, given, settings
from hypothesis import strategies as st

from webapp.ingest.accept import IngestError
from webapp.ingest.protocols import posthog, segment
from webapp.ingest.protocols.base import prepare

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63), st.floats(
    allow_nan=False, allow_infinity=False), st.text(max_size=6), st.sampled_from(
    ["track", "identify", "page", "group", "alias", "u1", "2026-05-01T11:00:00Z", "x\x00",
     "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]))
KEYS = st.sampled_from(["type", "event", "userId", "anonymousId", "properties", "traits",
                        "messageId", "timestamp", "sentAt", "originalTimestamp", "groupId",
                        "previousId", "name", "distinct_id", "uuid", "offset", "$set",
                        "sent_at", "api_key", "token", "batch"])
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(KEYS, st.text(max_size=3)), inner,
                                                 max_size=6)), max_leaves=25)

FIELDS = st.one_of(SCALARS, st.dictionaries(st.text(max_size=3), SCALARS, max_size=3))
MESSAGES = st.dictionaries(KEYS, FIELDS, max_size=8)  # message-like: the fields they carry
BODIES = st.one_of(JSON, MESSAGES, st.lists(MESSAGES, max_size=4),
                   st.fixed_dictionaries({"batch": st.lists(MESSAGES, max_size=4)},
                                         optional={"sentAt": FIELDS, "sent_at": FIELDS}))


def outcome(translation) -> str:
    try:
        prepare(translation, NOW)
    except IngestError as exc:
        assert exc.status == 400 and exc.errors
        assert all(set(e) == {"path", "message", "type"} for e in exc.errors)
        return "refused"
    return "accepted"


@settings(max_examples=400, deadline=None)
@given(BODIES, st.sampled_from(["batch", *segment.CALLS]))
def test_segment_never_fails_on_any_body(body, call):
    event(outcome(segment.translate(body, call, NOW)))


@settings(max_examples=400, deadline=None)
@given(BODIES)
def test_posthog_never_fails_on_any_body(body):
    posthog.api_key(body)
    event(outcome(posthog.translate(body, NOW, "key")))
