"""axe-core in Chromium over every page, in the light and the dark theme: logged in, logged out,
shared, each report with a result, the management pages and the error pages. The pages are
found in the app's routes, so a new page is audited (or listed below with why it is not)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from tests.browser.test_dashboard_browser import log_in, post
from tests.helpers import ADMIN_EMAIL, sql_scalar, wait_stored, wait_until
from webapp import vendor
from webapp.models import iso
from webapp.reports import params

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("worker")]
SERIOUS = ("serious", "critical")
NOW = datetime.now(UTC).replace(microsecond=0)
USERS = ("ann", "bob", "cy", "dee", "eve")

# GET routes that are no page a person reads, each with why; every other GET route is audited.
NOT_PAGES = {
    "annotations.list_annotations": "JSON for the read token",
    "api.events": "JSON for the read token",
    "api.events_export": "a download (CSV, NDJSON or JSON)",
    "api.events_stats": "JSON for the read token",
    "api.health_check": "JSON for load balancers",
    "api.openapi_document": "the API's description, JSON",
    "api.prometheus_metrics": "Prometheus' text format",
    "dashboard.stream": "the dashboard's event stream; the panels it pushes are the dashboard's",
    "report_pages.job_stream": "a long report's event stream; its result is the report page's",
    "report_pages.user_page_by_path": "a redirect to the user page, which is audited",
    "reports.report_csv": "a CSV download",
    "reports.report_json": "JSON for the read token",
    "reports.user_json": "JSON for the read token",
    "reports.user_json_by_path": "JSON for the read token",
    "shares.shared_stream": "a shared dashboard's event stream",
    "static": "stylesheets, scripts and the vendored files",
    "suggest.suggest_json": "JSON for the read token",
    "suggest_pages.suggest_fragment": "a <datalist> the report forms fetch (no page of its own)",
    "report_pages.conditions_fragment": "a <datalist> the condition inputs fetch (no page)",
}
# The pages a visitor without an account opens; every other page is opened logged in.
LOGGED_OUT = {"dashboard.login", "shares.shared"}
# Each report's page with a result; a report without one here fails the test (add it).
RESULTS = {
    "funnel": "step=signup&step=purchase&breakdown=plan",
    "retention": "start=signup&return=page_view&unit=day&periods=4",
    "paths": "event=signup&direction=after&depth=3",
    "breakdown": "property=plan&eventType=page_view",
    "trends": "A=signup&B=purchase&B.measure=sum&B.property=amount&formula=B / A"
              "&compare=previous&interval=day&range=7d",
}
BAD_QUERY = "range=forever"  # every report lists its problems (a 400 page)
DAY = (NOW - timedelta(days=1)).date().isoformat()
QUERIES = {  # the queries a page is opened with (none: once, bare)
    "dashboard.index": ["", "filter=week", f"from={DAY}&to={DAY}"],
    "report_pages.user_page": ["id=ann"],
}
ERROR_PAGES = [("/no-such-page", 404, False), ("/no-such-page", 404, True),
               ("/projects/no-such-project/reports/funnel", 404, True),
               ("/projects/default/users", 400, True)]
SHARE_PASSWORD = "open sesame please"
PLACEHOLDER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@dataclass(frozen=True)
class Visit:
    endpoint: str
    path: str
    status: int
    logged_in: bool


def history() -> list[dict]:
    """Five users over four days: signups (with a plan), page views on the days after, and
    purchases with an amount, enough for every report to have a result."""
    events = []
    for i, user in enumerate(USERS):
        start = NOW - timedelta(days=3, hours=i + 1)
        events.append({"eventType": "signup", "userId": user, "timestamp": iso(start),
                       "metadata": {"plan": "pro" if i % 2 else "free"}})
        for day in range(4 - i % 3):
            events.append({"eventType": "page_view", "userId": user,
                           "timestamp": iso(start + timedelta(days=day, minutes=5)),
                           "metadata": {"page": "/pricing", "plan": "pro" if i % 2 else "free"}})
        if i < 3:
            events.append({"eventType": "purchase", "userId": user,
                           "timestamp": iso(start + timedelta(minutes=20)),
                           "metadata": {"amount": 19.99 * (i + 1)}})
    return events


def fill(project, organization, board_id: int, report_id: int) -> dict[str, list[str]]:
    """What each kind of route argument stands for (by `converter:name` or `name`), and the
    queries of pages that need the demo's own numbers ("?endpoint")."""
    return {"project:slug": [project.slug], "slug": [organization.slug],
            "kind": list(params.MODULES), "int:board_id": [str(board_id)],
            "?boards.pin_page": [f"saved_report={report_id}"]}


def visits(app, values: dict[str, list[str]], tokens: list[str]) -> tuple[list[Visit], list[str]]:
    """Every page of every GET route, its arguments filled from `values` (a shared page once per
    token); and the routes whose arguments nothing fills."""
    values = {**values, "token": tokens}
    found, unknown = [], []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        names = [(f"{converter}:{name}" if converter else name)
                 for converter, name in PLACEHOLDER.findall(rule.rule)]
        if any(name not in values for name in names):
            unknown.append(f"{rule.rule} ({rule.endpoint})")
            continue
        for chosen in product(*(values[name] for name in names)):
            parts = iter(chosen)
            path = PLACEHOLDER.sub(lambda _match, parts=parts: next(parts), rule.rule)
            found += pages_of(rule.endpoint, path, values.get(f"?{rule.endpoint}"))
    found += [Visit("error", path, status, logged_in) for path, status, logged_in in ERROR_PAGES]
    return found, unknown


def pages_of(endpoint: str, path: str, queries: list[str] | None = None) -> list[Visit]:
    """A route's visits: with each of its queries (`queries`, else QUERIES), a report page
    also with a result and with problems."""
    logged_in = endpoint not in LOGGED_OUT
    if endpoint == "report_pages.report_page":
        kind = path.rsplit("/", 1)[1]
        return [Visit(endpoint, path, 200, True), Visit(endpoint, f"{path}?{RESULTS[kind]}", 200,
                                                        True),
                Visit(endpoint, f"{path}?{BAD_QUERY}", 400, True)]
    return [Visit(endpoint, f"{path}?{query}" if query else path, 200, logged_in)
            for query in queries or QUERIES.get(endpoint, [""])]


def wrong_login(page) -> None:
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    page.wait_for_selector("p.error")


def rule_with_problems(page) -> None:
    page.fill("#alerts input[name=name]", "Too many errors")
    page.fill("#alerts input[name=when]", "when it rains")
    page.fill("#alerts input[name=url]", "http://example.test/hook")
    page.click("#alerts button:text('Add rule')")
    page.wait_for_selector("#alerts .error[role=alert]")  # swapped in by htmx


def wrong_share_password(page) -> None:
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    page.wait_for_selector("p.error")


# Pages in a state a visit alone does not reach: (what, logged in, path, how to get there);
# `{locked}` is a share link behind a password.
STATES = [("a login refused", False, "/login", wrong_login),
          ("an alert rule with problems", True, "/manage/projects/default", rule_with_problems),
          ("a share link's password refused", False, "/share/{locked}", wrong_share_password)]


def audit(page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(vendor.tool("axe-core", "axe.min.js")))
    results = page.evaluate("async () => await axe.run(document, "
                            "{resultTypes: ['violations']})")
    return [v for v in results["violations"] if v["impact"] in SERIOUS]


def described(where: str, violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{where}: {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            lines.append("      " + node["failureSummary"].replace("\n", "\n      "))
    return "\n".join(lines)


@pytest.fixture
def demo(app, live_server, project, admin, receiver):
    """The default project with events, saved reports shared by link (one of them behind a
    password), a board of them and its share link, a shared dashboard, a second member, a
    signing secret, notes on its charts and a firing alert rule;
    its route values and the tokens of its share links (the last one locked)."""
    events = history()
    post(live_server, events)
    wait_stored(app, len(events))
    with app.app_context():
        from webapp.alerts import rules
        from webapp.annotations import notes
        from webapp.boards import boards, tiles
        from webapp.models import Organization
        from webapp.reports import saved
        from webapp.tenancy import accounts, members
        from webapp.tenancy.tenants import add_signing_secret

        tokens = [saved.share(project.id, None)]
        board = boards.create(project.id, "Every kind")
        for kind, query in RESULTS.items():
            report = saved.save(project.id, f"Demo {kind}", kind, query)
            tokens.append(saved.share(project.id, report.id))
            tiles.pin(project.id, board.id, report.id, "wide" if kind == "trends" else "small")
        tokens.append(saved.share(project.id, None, board_id=board.id))
        tokens.append(saved.share(project.id, report.id, password=SHARE_PASSWORD))
        organization = Organization.get_by_id(project.organization_id)
        members.set_role("owner", organization,
                         accounts.create_user("viewer@example.test", "a long enough password"),
                         "viewer")
        add_signing_secret(project, "billing")
        notes.create(project.id, {"text": "deployed v2.3", "starts_at": NOW - timedelta(hours=30)},
                     "page", user_id=admin.id)
        notes.create(project.id, {"text": "spring campaign",
                                  "starts_at": NOW - timedelta(days=3),
                                  "ends_at": NOW - timedelta(days=2)}, "page", user_id=admin.id)
        values, errors = rules.validate({"name": "No purchases", "when": "purchase < 1 in 5 min",
                                         "url": receiver.url}, allow_private=True)
        assert not errors
        rule = rules.create(project, values)
        route_values = fill(project, organization, board.id, report.id)
    # nothing was bought in the last 5 minutes: the dashboard shows the rule firing
    wait_until(lambda: sql_scalar(app, "SELECT state FROM alert_rule WHERE id = %s",
                                  (rule.id,)) == "firing", timeout=15, what="the rule firing")
    return route_values, tokens


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_page_has_serious_or_critical_violations(chromium, app, live_server, demo, scheme):
    values, tokens = demo
    found, unknown = visits(app, values, tokens)
    assert not unknown, (f"routes with arguments nothing fills: {unknown}; give them values "
                         "in fill(), or list them in NOT_PAGES with why")
    contexts = {}
    for logged_in in (False, True):  # only these auditing contexts bypass the CSP
        contexts[logged_in] = chromium.new_context(bypass_csp=True, color_scheme=scheme,
                                                   viewport={"width": 1280, "height": 900})
    log_in(contexts[True].new_page(), live_server)
    reports, audited = [], set()
    try:
        for visit in found:
            page = contexts[visit.logged_in].new_page()
            response = page.goto(live_server.url + visit.path)
            assert response.status == visit.status, f"{visit.path}: {response.status}"
            assert "/login" not in page.url or visit.endpoint == "dashboard.login", visit.path
            if violations := audit(page):
                reports.append(described(f"{visit.path} ({scheme})", violations))
            audited.add(visit.endpoint)
            page.close()
        for what, logged_in, path, reach in STATES:
            page = contexts[logged_in].new_page()
            page.goto(live_server.url + path.format(locked=tokens[-1]))
            reach(page)
            if violations := audit(page):
                reports.append(described(f"{what} ({scheme})", violations))
            page.close()
    finally:
        for context in contexts.values():
            context.close()
    pages = {rule.endpoint for rule in app.url_map.iter_rules()
             if "GET" in rule.methods and rule.endpoint not in NOT_PAGES}
    assert pages <= audited, f"pages never opened: {pages - audited}"
    assert not reports, "\n\n".join(reports)


def test_axe_is_the_version_package_json_pins(chromium, live_server):
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(live_server.url + "/login")
    audit(page)
    assert page.evaluate("axe.version") == vendor.pinned("axe-core")
    context.close()


def test_the_audit_finds_what_it_should(chromium, live_server):
    """A page with an unlabelled input and grey-on-grey text fails: the audit can fail."""
    context = chromium.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(live_server.url + "/login")
    page.evaluate("""() => {
        const input = document.createElement('input');
        document.querySelector('main').append(input);
        const faint = document.createElement('p');
        faint.textContent = 'hard to read';
        faint.style.color = '#ccc';
        faint.style.background = '#ddd';
        document.querySelector('main').append(faint);
    }""")
    found = {violation["id"] for violation in audit(page)}
    assert {"label", "color-contrast"} <= found
    context.close()


# The elements that reach past the screen's right edge, outermost first, leaving out those
# inside a box that scrolls sideways.
WIDEST = """() => {
    const past = e => e.getBoundingClientRect().right > innerWidth + 1;
    const scrolls = e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
    const inScroller = e => { for (let p = e.parentElement; p; p = p.parentElement) {
        if (scrolls(p)) return true; } return false; };
    return [...document.body.querySelectorAll('*')]
        .filter(e => past(e) && !past(e.parentElement) && !inScroller(e))
        .slice(0, 3).map(e => e.outerHTML.slice(0, 160));
}"""


def test_no_page_scrolls_sideways_at_375_px(chromium, app, live_server, demo):
    """Reflow: on a phone a page is as wide as the screen (wide tables and charts scroll in
    their own boxes)."""
    values, tokens = demo
    found, _ = visits(app, values, tokens)
    contexts = {logged_in: chromium.new_context(viewport={"width": 375, "height": 740})
                for logged_in in (False, True)}
    log_in(contexts[True].new_page(), live_server)
    wide = []
    try:
        for visit in found:
            page = contexts[visit.logged_in].new_page()
            page.goto(live_server.url + visit.path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 375:
                culprits = page.evaluate(WIDEST)
                wide.append(f"{visit.path}: {width} px wide, {culprits}")
            page.close()
    finally:
        for context in contexts.values():
            context.close()
    assert not wide, "\n".join(wide)
