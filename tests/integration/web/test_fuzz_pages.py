"""Hypothesis fuzzes the session pages the OpenAPI run cannot reach (HTML forms behind a login,
not the API): report pages and saving reports, share links and the public views they open,
boards and their tiles, alert rules and their actions. A logged-in browser sends them to the
live server (gunicorn and a Celery worker); no answer may be a 5xx."""

from __future__ import annotations

import os
import socket
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import reset, start_gunicorn, stop_process
from tests.helpers import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    INGEST_HEADERS,
    INGEST_KEY,
    READ_TOKEN,
    csrf_token,
)
from webapp.web import openapi

EXAMPLES = 40  # per test: about 300 requests, well under a minute on two shared cores
KINDS = ("funnel", "retention", "paths", "breakdown")
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.generate],  # no shrinking: see test_fuzz.py
                    derandomize=not os.environ.get("FUZZ_RANDOM"))


def report_parameters() -> dict[str, set[str]]:
    """The query parameters of each report, as the API documents them (the pages take the
    same ones)."""
    document = openapi.document()
    names = {}
    for kind in KINDS:
        found = set()
        for parameter in document["paths"][f"/reports/{kind}"]["get"]["parameters"]:
            if "$ref" in parameter:
                parameter = document["components"]["parameters"][parameter["$ref"].rsplit("/")[-1]]
            found.add(parameter["name"])
        names[kind] = found - {"project"}
    return names


PARAMETERS = report_parameters()
# integers small, at the edges of 32 and 64 bits, and past them (hypothesis favours small ones)
WHOLE = st.one_of(st.integers(0, 10**6), st.integers(2**31 - 2, 2**31 + 2),
                  st.integers(2**63 - 2, 2**63 + 2), st.integers(10**19, 10**30))
NUMBERS = st.one_of(WHOLE, WHOLE.map(lambda n: -n)).map(str)
ODD = st.sampled_from(["", " ", "0", "-1", "1.5", "1e309", "nan", "inf", "²", "١٢", "0x10",
                       "9" * 40, "%", "'", "\"", "<b>", "\x00", "a\x00b"])
TEXT = st.one_of(st.text(max_size=40), ODD, NUMBERS)
DATES = st.one_of(st.dates().map(str), st.datetimes().map(lambda d: d.isoformat()),
                  st.sampled_from(["today", "2026-02-30", "2026-13-01", "-1"]))
PLAUSIBLE = {
    "step": st.sampled_from(["signup", "view", "buy", "*"]),
    "event": st.sampled_from(["signup", "view", "buy"]),
    "start": st.sampled_from(["signup", "view"]), "return": st.sampled_from(["buy", "view"]),
    "property": st.sampled_from(["plan", "$browser", "a.b"]),
    "eventType": st.sampled_from(["signup", "view"]),
    "window": st.sampled_from(["1h", "30m", "7d", "90d", "91d", "0m", "1s"]),
    "unit": st.sampled_from(["day", "week", "month", "hour"]),
    "mode": st.sampled_from(["unique", "total", "first", "any"]),
    "direction": st.sampled_from(["after", "before", "sideways"]),
    "from": DATES, "to": DATES,
    "where": st.sampled_from(["plan=pro", "plan!=pro", "plan", "=x", "a.b=1"]),
}


def value_of(name: str):
    base = name.split(".")[-1] if name.endswith(".where") else name
    return st.one_of(PLAUSIBLE.get(base, TEXT), TEXT)


@st.composite
def report_query(draw, kind: str) -> str:
    names = sorted(PARAMETERS[kind])
    pairs = draw(st.lists(st.sampled_from(names).flatmap(
        lambda name: st.tuples(st.just(name), value_of(name))), max_size=8))
    if draw(st.booleans()):  # now and then a name the report does not know
        pairs.append((draw(st.text(min_size=1, max_size=10)), draw(TEXT)))
    return urlencode(pairs)


@dataclass
class Browser:
    """A logged-in browser on the live server, and what it was answered."""

    url: str
    session: requests.Session
    csrf: str = ""
    known: dict = field(default_factory=dict)  # ids and tokens made by the fixture
    statuses: Counter = field(default_factory=Counter)

    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        if method == "POST":
            kwargs["data"] = {"csrf_token": self.csrf, **kwargs.get("data", {})}
        # the body is not read: an event stream that opened never ends, and the status is
        # all this checks (and a failure's first bytes)
        response = self.session.request(method, self.url + path, allow_redirects=False,
                                        timeout=30, stream=True, **kwargs)
        with response:
            failure = response.raw.read(2000) if response.status_code >= 500 else b""
        self.statuses[response.status_code] += 1
        assert response.status_code < 500, (
            f"{method} {path} {kwargs}: {response.status_code} {failure!r}")
        return response


@pytest.fixture(scope="module")
def browser(services, app, redis, _worker_handle):
    from webapp.alerts import rules
    from webapp.boards import boards, tiles
    from webapp.reports import saved
    from webapp.tenancy.accounts import ensure_admin
    from webapp.tenancy.tenants import ensure_default_project

    reset(app, redis)
    refusing = socket.socket()  # a port that refuses connections: where alert rules send
    refusing.bind(("127.0.0.1", 0))
    hook = f"http://127.0.0.1:{refusing.getsockname()[1]}/hook"
    with app.app_context():
        project = ensure_default_project(INGEST_KEY, READ_TOKEN)
        ensure_admin(ADMIN_EMAIL, ADMIN_PASSWORD)
        report = saved.save(project.id, "Signup to buy", "funnel", "step=signup&step=buy")
        values, errors = rules.validate({"name": "Errors", "when": "error > 5 in 5 min",
                                         "url": hook}, True)
        assert not errors
        known = {"report": report.id, "rule": rules.create(project, values).id,
                 "hook": hook, "report_link": saved.share(project.id, report.id),
                 "dashboard_link": saved.share(project.id, None),
                 "locked_link": saved.share(project.id, None, password="open sesame")}
        board = boards.create(project.id, "Fuzzed")
        known.update(board=board.id, tile=tiles.pin(project.id, board.id, report.id).id,
                     board_link=saved.share(project.id, None, board_id=board.id))
        known["links"] = [link.id for link in saved.links_for(project.id)]
    _worker_handle.ensure_running()
    server = start_gunicorn(services, UNAUTHENTICATED_RATE_LIMIT="100000 per minute",
                            LOGIN_RATE_LIMIT="100000 per minute")
    try:
        yield logged_in(server.url, known)
    finally:
        stop_process(server.process)
        refusing.close()


def logged_in(url: str, known: dict) -> Browser:
    session = requests.Session()
    session.trust_env = False
    page = session.get(url + "/login", timeout=10)
    session.post(url + "/login", timeout=10,
                 data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD,
                       "csrf_token": csrf_token(page.text)})
    events = [{"eventType": kind, "userId": f"u{i % 7}", "metadata": {"plan": "pro"}}
              for i, kind in enumerate(["signup", "view", "buy"] * 10)]
    assert session.post(url + "/webhook", json=events, headers=INGEST_HEADERS,
                        timeout=10).status_code == 202
    manage = session.get(url + "/manage/projects/default", timeout=10)
    assert manage.status_code == 200
    return Browser(url, session, csrf_token(manage.text), known)


def ids(known: int):
    """A row id: one that exists, or any other (the routes take non-negative integers)."""
    return st.one_of(st.just(known), st.integers(0, 10**6), st.integers(0, 10**30)).map(str)


@SETTINGS
@given(kind=st.sampled_from(KINDS).flatmap(lambda kind: st.tuples(st.just(kind),
                                                                   report_query(kind))))
def test_report_pages(browser, kind):
    kind, query = kind
    browser.send("GET", f"/projects/default/reports/{kind}?{query}")


@SETTINGS
@given(name=st.one_of(st.sampled_from(["where", "A.where", "step2.where", "q"]), TEXT),
       typed=st.one_of(st.sampled_from(["metadata.pl", "metadata.plan=", "metadata.plan^=p",
                                        "plan=", "metadata.=", "=", "^="]),
                       TEXT.map(lambda text: "metadata." + text), TEXT))
def test_condition_pickers(browser, name, typed):
    """What a report form's condition input asks as it is typed."""
    browser.send("GET", "/projects/default/reports/conditions?" + urlencode({name: typed}),
                 headers={"HX-Request": "true", "HX-Trigger-Name": header_safe(name)})


def header_safe(name: str) -> str:
    """A name as a header may hold it (printable ASCII, no space around), else "where"."""
    return name if name.isascii() and name.isprintable() and name == name.strip() and name \
        else "where"


@SETTINGS
@given(kind=st.one_of(st.sampled_from(KINDS), st.text(min_size=1, max_size=10)),
       name=TEXT, query=st.one_of(st.sampled_from(KINDS).flatmap(report_query), TEXT))
def test_saving_reports(browser, kind, name, query):
    browser.send("POST", f"/projects/default/reports/{requests.utils.quote(kind, safe='')}/save",
                 data={"name": name, "query": query})


@SETTINGS
@given(action=st.sampled_from(["share", "revoke", "rename", "delete", "list"]),
       target=st.data(), text=TEXT)
def test_share_management(browser, action, target, text):
    known = browser.known
    if action == "share":
        report = target.draw(st.one_of(ids(known["report"]), TEXT))
        browser.send("POST", "/projects/default/shares",
                     data={"saved_report": report, "password": text})
    elif action == "revoke":
        link = target.draw(st.one_of(st.sampled_from(known["links"]).map(str), ids(0)))
        browser.send("POST", f"/projects/default/shares/{link}/revoke")
    elif action in ("rename", "delete"):
        report = target.draw(ids(known["report"]))
        browser.send("POST", f"/projects/default/saved-reports/{report}/{action}",
                     data={"name": text})
    else:
        browser.send("GET", "/projects/default/shares")


BOARD_ACTIONS = ["create", "rename", "home", "pin", "pin page", "move", "size", "remove",
                 "order", "page", "stream", "share", "made and deleted"]


@SETTINGS
@given(action=st.sampled_from(BOARD_ACTIONS), target=st.data(), text=TEXT)
def test_board_management(browser, action, target, text):
    known = browser.known
    board = target.draw(ids(known["board"]))
    tile = target.draw(ids(known["tile"]))
    base = f"/projects/default/boards/{board}"
    any_id = st.one_of(ids(known["board"]), TEXT)
    if action == "create":
        browser.send("POST", "/projects/default/boards", data={"name": text})
    elif action == "rename":
        browser.send("POST", f"{base}/rename",
                     data={"name": text, "back": target.draw(st.sampled_from(["", "board"]))})
    elif action == "home":
        browser.send("POST", "/projects/default/boards/home",
                     data={"board": target.draw(st.one_of(st.just(""), any_id))})
    elif action == "pin":
        browser.send("POST", "/projects/default/boards/pin", data={
            "board": target.draw(st.one_of(st.just("new"), any_id)), "new_name": text,
            "saved_report": target.draw(st.one_of(ids(known["report"]), TEXT)),
            "size": target.draw(st.one_of(st.sampled_from(["small", "wide", "tall"]), TEXT))})
    elif action == "pin page":
        report = target.draw(st.one_of(ids(known["report"]), TEXT))
        browser.send("GET", "/projects/default/boards/pin?" + urlencode({"saved_report": report}))
    elif action in ("move", "size"):
        value = target.draw(st.one_of(st.sampled_from(["up", "down", "small", "wide"]), TEXT))
        browser.send("POST", f"{base}/tiles/{tile}/{action}",
                     data={"direction": value, "size": value})
    elif action == "remove":  # never the tile the other examples use
        other = target.draw(st.integers(known["tile"] + 1, 10**30))
        browser.send("POST", f"{base}/tiles/{other}/remove")
    elif action == "order":
        order = target.draw(st.lists(st.one_of(ids(known["tile"]), TEXT), max_size=4))
        browser.send("POST", f"{base}/order", data={"tile": order},
                     headers={"HX-Request": "true"} if target.draw(st.booleans()) else {})
    elif action == "page":
        browser.send("GET", base)
    elif action == "stream":
        browser.send("GET", "/stream?" + urlencode({"project": "default",
                                                    "board": target.draw(any_id)}))
    elif action == "share":
        browser.send("POST", "/projects/default/shares", data={
            "board": target.draw(any_id), "password": text,
            "saved_report": target.draw(st.one_of(st.just(""), ids(known["report"])))})
    else:
        made = browser.send("POST", "/projects/default/boards", data={"name": "Brief"})
        if made.status_code == 302:  # (past the project's most boards: a 400)
            browser.send("POST", urlsplit(made.headers["Location"]).path + "/delete")


@SETTINGS
@given(token=st.sampled_from(["report_link", "dashboard_link", "locked_link", "board_link",
                              None]),
       other=st.text(min_size=1, max_size=60), method=st.sampled_from(["GET", "POST"]),
       stream=st.booleans(), window=st.one_of(st.sampled_from(["hour", "day", "week"]), TEXT),
       password=st.one_of(st.just("open sesame"), TEXT))
def test_shared_views(browser, token, other, method, stream, window, password):
    """What anyone holding (or guessing) a link may send; a fresh browser each time, so a
    locked link stays locked until the right password is given."""
    value = browser.known[token] if token else requests.utils.quote(other, safe="")
    stranger = Browser(browser.url, requests.Session(), statuses=browser.statuses)
    stranger.session.trust_env = False
    page = stranger.session.get(f"{browser.url}/share/{value}", timeout=30)
    assert page.status_code < 500, page.text[:500]
    if 'name="csrf_token"' in page.text:
        stranger.csrf = csrf_token(page.text)
    path = f"/share/{value}" + ("/stream" if stream else "")
    if method == "POST" and not stream:
        stranger.send("POST", path, data={"password": password})
    else:
        stranger.send("GET", f"{path}?{urlencode({'filter': window})}")


CONDITIONS = st.one_of(
    st.builds(lambda t, c, n, w, u: f"{t} {c} {n} in {w} {u}",
              st.sampled_from(["error", "*", "'a b'", "x" * 65]), st.sampled_from("<>=!"),
              NUMBERS, st.integers(-5, 2000), st.sampled_from(["min", "h", "d", "MIN"])),
    st.builds(lambda t, k: f"{t} {k}", st.sampled_from(["error", "*", ""]),
              st.sampled_from(["spike", "drop", "Spike", "rise"])),
    TEXT)
URLS = st.one_of(st.sampled_from(["http://127.0.0.1:{port}/hook", "https://[::1]:{port}/",
                                  "http://localhost:{port}", "ftp://127.0.0.1/",
                                  "http://[::127.0.0.1]:{port}/", "http://%31%32%37.0.0.1/",
                                  "http://" + "a" * 300 + ".test/", "http://127.0.0.1:99999/",
                                  "http:///x", "//127.0.0.1:{port}"]), TEXT)


VALID_RULE = {
    "name": st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1,
                    max_size=100).filter(str.strip),
    "when": st.one_of(
        st.builds(lambda t, c, n, w: f"{t} {c} {n} in {w}", st.sampled_from(["error", "*"]),
                  st.sampled_from("<>"), WHOLE,
                  st.sampled_from(["1 min", "5 min", "24 h"])),
        st.builds(lambda t, k: f"{t} {k}", st.sampled_from(["error", "*"]),
                  st.sampled_from(["spike", "drop"]))),
    "url": st.just("http://127.0.0.1:{port}/hook"),
    "where": st.sampled_from(["", "plan=pro"]),
    "format": st.sampled_from(["standard", "slack"]),
    "max_per_day": st.integers(1, 1000).map(str),
    "z": st.floats(0.5, 100).map(str),
    "min_volume": st.one_of(st.integers(0, 10**9), st.just(10**9)).map(str),
}
FUZZED_RULE = {"name": TEXT, "when": CONDITIONS, "url": URLS, "where": TEXT, "format": TEXT,
               "max_per_day": st.one_of(NUMBERS, ODD), "min_volume": st.one_of(NUMBERS, ODD),
               "z": st.one_of(NUMBERS, ODD, st.floats().map(str))}


@st.composite
def rule_form(draw) -> dict:
    """A rule's form: every field valid but for up to three fuzzed ones (so that values
    each fine alone, a huge threshold say, reach the point of saving)."""
    fuzzed = draw(st.sets(st.sampled_from(sorted(VALID_RULE)), max_size=3))
    return {name: draw(FUZZED_RULE[name] if name in fuzzed else VALID_RULE[name])
            for name in VALID_RULE}


@SETTINGS
@given(form=rule_form(), htmx=st.booleans())
def test_alert_rules(browser, form, htmx):
    port = browser.known["hook"].rsplit(":", 1)[1].split("/")[0]
    browser.send("POST", "/manage/projects/default/alerts",
                 headers={"HX-Request": "true"} if htmx else {},
                 data={**form, "url": form["url"].replace("{port}", port)})


@SETTINGS
@given(action=st.sampled_from(["test", "pause", "resume", "delete", "restart"]),
       rule=st.data())
def test_alert_actions(browser, action, rule):
    rule_id = rule.draw(ids(browser.known["rule"]))
    browser.send("POST", f"/manage/projects/default/alerts/{rule_id}/{action}")


def test_afterwards_the_pages_still_answer(browser, capsys):
    if not browser.statuses:
        pytest.skip("run it with the fuzz tests above: it reports what they were answered")
    with capsys.disabled():
        print(f"\npage fuzz: {sum(browser.statuses.values())} requests: "
              f"{dict(sorted(browser.statuses.items()))}")
    assert browser.send("GET", "/manage/projects/default").status_code == 200
