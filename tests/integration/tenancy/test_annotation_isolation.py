"""Notes stay in their project: no key, token, session or page of one project or
organization lists, changes or deletes another's, and the database refuses a note that
names another project's key."""

from __future__ import annotations

import pytest
from peewee import IntegrityError

from tests.helpers import ANNOTATION_HEADERS, ANNOTATION_KEY, READ_HEADERS, csrf_token
from webapp.models import Annotation, Membership, Organization
from webapp.tenancy.accounts import create_user
from webapp.tenancy.tenants import create_key, create_organization, create_project

MARK = "beta-only-note-marker"


@pytest.fixture
def tenants(app, admin, project):
    """Beta's organization with its project, keys and owner; a second project of the default
    organization with an annotation key of its own; the default project's annotation key."""
    with app.app_context():
        create_key(project, "annotate", "deploy", ANNOTATION_KEY)
        beta = create_project(create_organization("Beta Corp", "beta"), "Beta shop", "beta-shop")
        _, beta_key = create_key(beta, "annotate", "beta deploy")
        _, beta_read = create_key(beta, "read", "beta read")
        owner = create_user("owner@beta.test", "beta owner password")
        Membership.create(user=owner, organization=beta.organization, role="owner")
        sibling = create_project(Organization.get(Organization.slug == "default"), "Second",
                                 "second")
        _, sibling_key = create_key(sibling, "annotate", "second deploy")
    return {"beta": {"X-API-Key": beta_key},
            "beta_read": {"Authorization": f"Bearer {beta_read}"},
            "sibling": {"X-API-Key": sibling_key}, "beta_project": beta}


def write(client, headers, text):
    answer = client.post("/annotations", json={"text": text}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["data"]["id"]


def texts(client, headers, query=""):
    answer = client.get("/annotations" + query, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return [note["text"] for note in answer.get_json()["data"]["annotations"]]


def test_no_note_crosses_between_projects_or_organizations(app, client, logged_in, tenants):
    theirs = write(client, tenants["beta"], MARK)
    sibling = write(client, tenants["sibling"], "second project's note")
    mine = write(client, ANNOTATION_HEADERS, "alpha note")

    for who in (lambda path: client.get(path, headers=READ_HEADERS),
                lambda path: client.get(path, headers=ANNOTATION_HEADERS), logged_in.get):
        answer = who("/annotations")
        assert [n["text"] for n in answer.get_json()["data"]["annotations"]] == ["alpha note"]
        assert who("/annotations?project=beta-shop").status_code == 403
    # the session may pick the organization's other project; keys and tokens may not
    second = logged_in.get("/annotations?project=default/second").get_json()["data"]
    assert [n["text"] for n in second["annotations"]] == ["second project's note"]
    assert client.get("/annotations?project=second",
                      headers=ANNOTATION_HEADERS).status_code == 403
    assert texts(client, tenants["beta_read"]) == [MARK]

    # another project's note does not exist for a key: not changed, not deleted
    for key, note_id in ((ANNOTATION_HEADERS, theirs), (ANNOTATION_HEADERS, sibling),
                         (tenants["beta"], mine), (tenants["sibling"], mine)):
        assert client.patch(f"/annotations/{note_id}", json={"text": "taken"},
                            headers=key).status_code == 404
        assert client.delete(f"/annotations/{note_id}", headers=key).status_code == 404
    assert texts(client, tenants["beta"]) == [MARK]
    assert texts(client, tenants["sibling"]) == ["second project's note"]

    # nor for a user of another organization, on any page
    csrf = csrf_token(logged_in.get("/manage/").get_data(as_text=True))
    page = "/manage/projects/beta/beta-shop/annotations"
    assert logged_in.get(page).status_code == 404
    for path, data in ((page, {"text": "x"}), (f"{page}/{theirs}", {"text": "x", "at": ""}),
                       (f"{page}/{theirs}/delete", {})):
        assert logged_in.post(path, data={"csrf_token": csrf, **data}).status_code == 404
    # a number of another project's note, under one's own project, is none either
    own = "/manage/projects/default/default/annotations"
    assert logged_in.post(f"{own}/{theirs}/delete", data={"csrf_token": csrf}).status_code == 404
    assert logged_in.post(f"{own}/{theirs}", data={"csrf_token": csrf, "text": "x",
                                                   "at": "2026-03-01T00:00"}).status_code == 404
    assert MARK not in logged_in.get(own).get_data(as_text=True)
    assert MARK not in logged_in.get("/?filter=hour").get_data(as_text=True)
    assert texts(client, tenants["beta"]) == [MARK]


def test_the_database_refuses_a_note_naming_another_projects_key(app, tenants, project):
    with app.app_context():
        from webapp.models import ApiKey

        beta_key = ApiKey.get(ApiKey.project == tenants["beta_project"].id,
                              ApiKey.kind == "annotate")
        with pytest.raises(IntegrityError):
            Annotation.create(project=project.id, text="forged", source="api",
                              starts_at="2026-03-01T00:00:00Z", created_by_key=beta_key.id)
        assert Annotation.select().count() == 0
