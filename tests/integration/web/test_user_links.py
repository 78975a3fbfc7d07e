"""Every user id round-trips: the link `GET /events` gives (and the dashboard's recent events
link) reaches exactly that user's timeline, whatever the id holds (`/`, `.`, `..`, `%`, `?`,
`#`, spaces, any Unicode)."""

from __future__ import annotations

import html
import re
import uuid

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from tests.helpers import INGEST_HEADERS, READ_HEADERS, wait_until

# what /webhook accepts as a user id: no control characters, no lone surrogates
USER_IDS = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=24)
RECENT_USER = re.compile(r'<td class="user"><a href="([^"]+)">')


def post_event(client, user_id: str) -> str:
    event_id = uuid.uuid4().hex
    answer = client.post("/webhook", json={"eventType": "seen", "userId": user_id,
                                           "id": event_id}, headers=INGEST_HEADERS)
    assert answer.status_code == 202, answer.get_json()
    return event_id


def listed(client, user_id: str, event_id: str) -> dict | None:
    events = client.get("/events", query_string={"filter": "hour", "userId": user_id},
                        headers=READ_HEADERS).get_json()["data"]["events"]
    return next((e for e in events if e["id"] == event_id), None)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(user_id=USER_IDS)
@example(user_id="/victim")
@example(user_id=".")
@example(user_id="..")
@example(user_id="../victim")
@example(user_id="%2Fvictim")
@example(user_id="a?b#c&project=other")
@example(user_id=" spaced  out ")
@example(user_id="ünï/cödé/")
@example(user_id="victim")
def test_the_link_of_each_listed_event_reaches_exactly_its_user(logged_in, worker, user_id):
    event_id = post_event(logged_in, user_id)
    event = wait_until(lambda: listed(logged_in, user_id, event_id), what="the event stored")
    answer = logged_in.get(event["links"]["user"], headers=READ_HEADERS)
    assert answer.status_code == 200, (event["links"]["user"], answer.get_data(as_text=True))
    timeline = answer.get_json()["data"]
    assert timeline["userId"] == user_id
    assert event_id in {e["id"] for e in timeline["events"]}
    # the page, through the link of the dashboard's most recent event
    dashboard = logged_in.get("/?filter=hour").get_data(as_text=True)
    link = html.unescape(RECENT_USER.search(dashboard).group(1))
    page = logged_in.get(link)
    assert page.status_code == 200, link
    assert f'<span class="user">{escape(user_id)}</span>' in page.get_data(as_text=True)


def test_a_user_id_is_required(client, project):
    answer = client.get("/users", headers=READ_HEADERS)
    assert answer.status_code == 400 and '"id" is required' in answer.get_json()["errors"][0][
        "message"]
