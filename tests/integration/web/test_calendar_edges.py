"""Ranges at the ends of the calendar (years 1 and 9999), in zones east and west of UTC: every
route that takes `from`/`to` answers 200 or a 400 naming the supported range, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import READ_HEADERS
from webapp.models import iso

# +14:00 and -11:00 now; in year 1, on local mean time, -10:29:20 and +12:37:12
ZONES = ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
# dates from 0001-01-03 to 9999-12-28 are inside the supported range in every zone
SUPPORTED = [
    "from=0001-01-03&to=0001-01-09",
    "from=9999-12-22&to=9999-12-28",
    "from=0001-01-02T00:00:00Z&to=0001-01-03T00:00:00Z",
    "from=9999-12-29T00:00:00Z&to=9999-12-30T00:00:00Z",
]
# outside it in every zone
REFUSED = [
    "from=0001-01-01&to=0001-01-31",
    "from=0001-01-01&to=0001-01-01",
    "from=9999-12-01&to=9999-12-31",
    "from=9999-12-30&to=9999-12-31",
    "from=9999-12-31",
    "from=0001-01-01T00:00:00%2B05:00&to=0001-01-04T00:00:00Z",  # before year 1 in UTC
    "from=9999-12-25T00:00:00Z&to=9999-12-31T23:00:00-05:00",  # after 9999 in UTC
    "from=9999-12-25&to=9999-12-31T23:59:59.999999",
]
# inside or outside, as the zone has it
EDGES = [
    "from=0001-01-02&to=0001-01-08",
    "to=0001-01-01",
    "from=0001-01-01T03:00&to=0001-01-04T00:00",  # no offset: the project's zone
    "from=9999-12-20&to=9999-12-29",
]
REPORTS = {"funnel": "step=a&step=b", "retention": "start=a&return=b&unit=week",
           "paths": "event=a", "breakdown": "property=plan"}


def api_routes() -> list[str]:
    routes = [f"/reports/{kind}{ext}?{query}" for kind, query in REPORTS.items()
              for ext in ("", ".csv")]
    routes += ["/reports/retention?where=metadata.plan=pro", "/events", "/events/export",
               "/events/stats", "/events/stats?bucket=hour", "/events/stats?bucket=day",
               "/events/stats?bucket=week", "/events/stats?bucket=day&where=metadata.plan=pro",
               "/users/u1"]
    return routes


def page_routes(slug: str) -> list[str]:
    return [f"/?project={slug}", f"/?project={slug}&bucket=week",
            f"/projects/{slug}/users?id=u1",
            *(f"/projects/{slug}/reports/{kind}?{query}" for kind, query in REPORTS.items())]


def joined(route: str, query: str) -> str:
    return route + ("&" if "?" in route else "?") + query


@pytest.fixture
def zoned(app, project, worker, request):
    """The project in the zone of the test, with a few events of today."""
    from webapp.store.insert import store_batch
    from webapp.tenancy.tenants import set_time_zone

    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        set_time_zone(project, request.param)
        store_batch(project.id, [{"id": f"e{i}", "type": kind, "user": "u1",
                                  "ts": iso(now - timedelta(minutes=10 - i)),
                                  "meta": {"plan": "pro"}, "rcv": iso(now)}
                                 for i, kind in enumerate(["a", "b", "a"])])
    return project


def walk(client, routes: list[str], headers=None) -> None:
    """Every route with every range: 200 for the supported ones, 400 naming the supported
    range for those outside it, and never a 5xx."""
    for route in routes:
        for query in SUPPORTED + REFUSED + EDGES:
            url = joined(route, query)
            response = client.get(url, headers=headers)
            body = response.get_data(as_text=True)  # streamed bodies run to their end here
            assert response.status_code < 500, (url, body[-2000:])
            if query in SUPPORTED:
                assert response.status_code == 200, (url, body[-2000:])
            if query in REFUSED:
                assert response.status_code == 400, (url, body[-2000:])
                assert "0001-01-02T00:00:00Z" in body and "9999-12-30T00:00:00Z" in body, \
                    (url, body[-2000:])


@pytest.mark.parametrize("zoned", ZONES, indirect=True)
def test_edge_ranges_never_answer_500(client, logged_in, zoned):
    walk(client, api_routes(), READ_HEADERS)
    walk(logged_in, page_routes(zoned.slug))


@pytest.mark.parametrize("zoned", ZONES, indirect=True)
def test_the_supported_range_is_named_in_the_refusal(client, zoned):
    answer = client.get("/events/stats?from=9999-12-30&to=9999-12-31", headers=READ_HEADERS)
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "0001-01-02T00:00:00Z" in text and "9999-12-30T00:00:00Z" in text
    answer = client.get("/reports/funnel?step=a&step=b&from=9999-12-01&to=9999-12-31",
                        headers=READ_HEADERS)
    assert answer.status_code == 400
    assert "9999-12-30T00:00:00Z" in answer.get_data(as_text=True)


@pytest.mark.parametrize("zone", ["Pacific/Pago_Pago", "Pacific/Kiritimati"])
def test_a_user_with_an_event_in_year_one_has_a_page(app, client, logged_in, project, zone):
    """An event may be stamped 0001-01-01T00:00:00Z: west of UTC it has no local time."""
    from webapp.store.insert import store_batch
    from webapp.tenancy.tenants import set_time_zone

    with app.app_context():
        set_time_zone(project, zone)
        store_batch(project.id, [{"id": "old", "type": "a", "user": "u0",
                                  "ts": "0001-01-01T00:00:00Z", "meta": {},
                                  "rcv": iso(datetime.now(UTC))}])
    answer = client.get("/users/u0", headers=READ_HEADERS)
    assert answer.status_code == 200 and answer.get_json()["data"]["totalEvents"] == 1
    page = logged_in.get(f"/projects/{project.slug}/users?id=u0")
    assert page.status_code == 200
    assert "0001-01-01" in page.get_data(as_text=True)
