"""How a project is named: "<organization>/<slug>" or a bare slug, one SLUG pattern for both
parts (at most 63 characters, as creating one allows)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from webapp.errors import NotFound
from webapp.tenancy.projects import SLUG, Handle, find


def project(organization: str, slug: str):
    return SimpleNamespace(organization=SimpleNamespace(slug=organization), slug=slug,
                           handle=f"{organization}/{slug}")


def test_a_handle_is_an_organization_and_a_slug():
    assert Handle.parse("acme/shop") == Handle("acme", "shop")
    assert Handle.parse("shop") == Handle(None, "shop")
    assert str(Handle.parse("acme/shop")) == "acme/shop" and str(Handle.parse("shop")) == "shop"


@pytest.mark.parametrize("text, well_formed", [
    ("shop", True), ("acme/shop", True), ("a" * 63, True), (f"{'a' * 63}/{'b' * 63}", True),
    ("a" * 64, False), (f"acme/{'a' * 64}", False), (f"{'a' * 64}/shop", False),
    ("Shop", False), ("-shop", False), ("acme/", False), ("/shop", False), ("sh\0op", False),
    ("a/b/c", False),
])
def test_one_slug_pattern_for_organizations_and_projects(text, well_formed):
    assert Handle.parse(text).well_formed is well_formed
    if "/" not in text:
        assert bool(SLUG.fullmatch(text)) is well_formed


def test_a_bare_slug_names_a_project_only_where_one_has_it():
    alpha, beta, other = project("alpha", "shop"), project("beta", "shop"), project("beta", "x")
    mine = [alpha, beta, other]
    assert find("alpha/shop", mine) is alpha and find("beta/shop", mine) is beta
    assert find("x", mine) is other
    with pytest.raises(NotFound, match="name it as <organization>/shop"):
        find("shop", mine)
    with pytest.raises(NotFound, match="No such project for your account"):
        find("gamma/shop", mine)
    assert find("shop", [alpha]) is alpha
