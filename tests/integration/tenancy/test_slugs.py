"""Slugs are unique per organization: one tenant's names neither block nor reveal another's,
and a name that slugifies to nothing still gets a slug of its own."""

from __future__ import annotations

import json

import pytest

from tests.helpers import csrf_token, login
from webapp.models import Membership, Organization, Project, SavedReport, User
from webapp.tenancy.accounts import create_user
from webapp.tenancy.tenants import create_key, create_organization, create_project


@pytest.fixture
def tenants(app, admin):
    """Organizations alpha and beta, each with an owner logged in."""
    clients = {}
    with app.app_context():
        for name in ("alpha", "beta"):
            organization = create_organization(name.title(), name)
            owner = create_user(f"owner@{name}.test", f"{name} owner password")
            Membership.create(user=owner, organization=organization, role="owner")
    for name in ("alpha", "beta"):
        clients[name] = app.test_client()
        assert login(clients[name], f"owner@{name}.test", f"{name} owner password") \
            .status_code == 302
    return clients


def form(client, path: str, **fields):
    token = csrf_token(client.get("/manage/").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **fields})


def slugs(app, organization: str) -> list[str]:
    with app.app_context():
        return sorted(p.slug for p in Project.select().join(Organization)
                      .where(Organization.slug == organization))


def test_two_organizations_may_both_have_a_shop(app, tenants):
    made = form(tenants["alpha"], "/manage/organizations/alpha/projects", name="Shop")
    assert made.status_code == 302 and made.headers["Location"] == "/manage/projects/alpha/shop"
    other = form(tenants["beta"], "/manage/organizations/beta/projects", name="Shop")
    assert other.status_code == 302 and other.headers["Location"] == "/manage/projects/beta/shop"
    assert slugs(app, "alpha") == slugs(app, "beta") == ["shop"]
    # each owner reaches their own shop, by bare slug or by handle, and never the other's
    for name, client in tenants.items():
        page = client.get("/manage/projects/shop")
        assert page.status_code == 200 and f"/webhook/{name}/shop" in page.get_data(True)
        other = "beta" if name == "alpha" else "alpha"
        assert client.get(f"/manage/projects/{other}/shop").status_code == 404
        assert client.get(f"/?project={other}/shop").status_code == 404
        assert client.get(f"/?project={name}/shop").status_code == 200


def test_a_read_token_names_its_own_project_whatever_another_tenant_calls_theirs(app, tenants):
    with app.app_context():
        alpha = create_project(Organization.get(Organization.slug == "alpha"), "Shop")
        beta = create_project(Organization.get(Organization.slug == "beta"), "Shop")
        _, alpha_token = create_key(alpha, "read", "r")
        _, beta_token = create_key(beta, "read", "r")
    client = app.test_client()
    for token, own, other in ((alpha_token, "alpha", "beta"), (beta_token, "beta", "alpha")):
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/events?project=shop", headers=headers).status_code == 200
        assert client.get(f"/events?project={own}/shop", headers=headers).status_code == 200
        assert client.get(f"/events?project={other}/shop", headers=headers).status_code == 403


def test_names_that_slugify_to_nothing_still_get_unique_slugs(app, tenants):
    for _ in range(3):
        assert form(tenants["alpha"], "/manage/organizations/alpha/projects",
                    name="!!!").status_code == 302
    assert slugs(app, "alpha") == ["project", "project-2", "project-3"]
    for _ in range(2):
        assert form(tenants["alpha"], "/manage/organizations", name="***").status_code == 302
    with app.app_context():
        made = [o.slug for o in Organization.select().where(Organization.name == "***")]
    assert len(set(made)) == 2 and all(s.startswith("organization-") for s in made)


def test_creating_an_organization_reveals_no_other_tenants_slug(app, tenants):
    answer = form(tenants["alpha"], "/manage/organizations", name="Beta")
    assert answer.status_code == 302  # not "an organization 'beta' exists already"
    page = tenants["alpha"].get("/manage/").get_data(as_text=True)
    with app.app_context():
        owner = User.get(User.email == "owner@alpha.test")
        mine = [m.organization.slug for m in Membership.select().where(Membership.user == owner)
                if m.organization.slug != "alpha"]
    assert len(mine) == 1 and mine[0].startswith("beta-")
    assert "/manage/organizations/beta/" not in page


def test_signed_deliveries_name_the_organization(app, tenants):
    with app.app_context():
        create_project(Organization.get(Organization.slug == "beta"), "Shop")
    client = app.test_client()
    body = json.dumps({"eventType": "a", "userId": "b"})
    unsigned = client.post("/webhook/beta/shop", data=body, content_type="application/json")
    assert unsigned.status_code == 400  # the project exists: the signature headers are missing
    nowhere = client.post("/webhook/alpha/shop", data=body, content_type="application/json")
    assert nowhere.status_code == 401


@pytest.fixture
def two_shops(app, tenants):
    """alpha/shop and beta/shop, each with one event of its own, and one user in both
    organizations, logged in."""
    from webapp.store.insert import store_batch

    with app.app_context():
        both = create_user("both@alpha.test", "in two organizations")
        for name in ("beta", "alpha"):  # beta's shop is the older: a bare slug found it first
            organization = Organization.get(Organization.slug == name)
            Membership.create(user=both, organization=organization, role="owner")
            shop = create_project(organization, "Shop")
            store_batch(shop.id, [{"id": f"{name}-1", "type": f"{name}_event", "user": "u",
                                   "ts": "2026-01-02T10:00:00Z", "meta": {"org": name},
                                   "rcv": "2026-01-02T10:00:00Z"}])
    client = app.test_client()
    assert login(client, "both@alpha.test", "in two organizations").status_code == 302
    return client


def test_report_and_share_pages_name_the_organization(app, two_shops):
    client = two_shops
    query = "?property=org&from=2026-01-01&to=2026-01-03"
    for name, other in (("alpha", "beta"), ("beta", "alpha")):
        page = client.get(f"/projects/{name}/shop/reports/breakdown{query}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and f'<th scope="row">{name}</th>' in html
        assert f'<th scope="row">{other}</th>' not in html
        # its links stay in that organization's shop
        assert f'href="/projects/{name}/shop/shares"' in html
        assert f"project={name}%2Fshop" in html  # the CSV and JSON links
        token = csrf_token(html)
        saved = client.post(f"/projects/{name}/shop/reports/breakdown/save",
                            data={"csrf_token": token, "name": f"{name} report",
                                  "query": query[1:]})
        assert saved.status_code == 302, saved.get_data(as_text=True)
        shares = client.get(f"/projects/{name}/shop/shares").get_data(as_text=True)
        assert f"{name} report" in shares and f"{other} report" not in shares
        assert f'action="/projects/{name}/shop/shares"' in shares
    with app.app_context():
        owners = {r.name: r.project.organization.slug for r in SavedReport.select()}
    assert owners == {"alpha report": "alpha", "beta report": "beta"}
    # a bare slug two of the user's organizations have names neither
    ambiguous = client.get(f"/projects/shop/reports/breakdown{query}")
    assert ambiguous.status_code == 404
    assert "name it as &lt;organization&gt;/shop" in ambiguous.get_data(as_text=True)
    assert client.get("/projects/shop/shares").status_code == 404
    assert client.get("/?project=shop").status_code == 404
