"""A NUL byte (which PostgreSQL cannot store or compare) anywhere a browser or client can put
one: query strings, path segments, form fields. The answer is 400 or 404, never a 500."""

from __future__ import annotations

import pytest

from tests.helpers import READ_HEADERS, csrf_token, sql_scalar

NUL = "%00"
READS = [f"/events?{name}=a{NUL}b" for name in ("filter", "eventType", "userId", "cursor",
                                                 "project", "limit")] + [
    f"/events/stats?project=x{NUL}", f"/events/stats?filter={NUL}",
    f"/events/export?eventType={NUL}", f"/events/export?userId={NUL}&format=ndjson",
    f"/events/export?format=csv{NUL}", f"/stream?project={NUL}", f"/stream?filter=hour{NUL}",
    f"/events?a{NUL}=1",
]
PAGES = [f"/?filter={NUL}", f"/?project=default{NUL}", f"/manage/projects/default{NUL}",
         f"/manage/projects/{NUL}", f"/manage/organizations/default{NUL}/members",
         f"/login?next=/{NUL}"]
FORMS = [("/manage/organizations", {"name": "Acme\x00"}),
         ("/manage/organizations/default/projects", {"name": "Shop\x00"}),
         ("/manage/projects/default/keys", {"kind": "read", "name": "a\x00b"}),
         ("/manage/projects/default/keys", {"kind": "read\x00", "name": "ab"}),
         ("/manage/projects/default/signing-secrets", {"name": "s\x00"}),
         ("/manage/organizations/default/members",
          {"email": "x\x00@example.test", "role": "viewer", "password": "p" * 20}),
         ("/manage/organizations/default/members",
          {"email": "x@example.test", "role": "viewer", "password": "p\x00" * 10}),
         ("/manage/password", {"current": "\x00", "new": "n\x00" * 10})]


@pytest.mark.parametrize("path", READS)
def test_reads_refuse_nul_bytes(client, project, path):
    assert client.get(path, headers=READ_HEADERS).status_code in (400, 404)


@pytest.mark.parametrize("path", PAGES)
def test_pages_refuse_nul_bytes(logged_in, path):
    assert logged_in.get(path).status_code in (400, 404)


@pytest.mark.parametrize("path,form", FORMS)
def test_forms_refuse_nul_bytes(app, logged_in, path, form):
    token = csrf_token(logged_in.get("/manage/").get_data(as_text=True))
    answer = logged_in.post(path, data={"csrf_token": token, **form})
    assert answer.status_code in (400, 404)
    assert sql_scalar(app, "SELECT count(*) FROM organization") == 1  # nothing written
    assert sql_scalar(app, "SELECT count(*) FROM project") == 1
    assert sql_scalar(app, "SELECT count(*) FROM api_key") == 2
    assert sql_scalar(app, "SELECT count(*) FROM signing_secret") == 0


@pytest.mark.parametrize("form", [{"email": "admin@example.test\x00", "password": "x"},
                                  {"email": "a@b.test", "password": "\x00"}])
def test_login_refuses_nul_bytes(client, admin, form):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"csrf_token": token, **form}).status_code == 400
