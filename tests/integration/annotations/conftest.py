"""Annotation tests: the default project with an annotation key of its own."""

from __future__ import annotations

import pytest

from tests.helpers import ANNOTATION_KEY


@pytest.fixture
def note_key(app, project):
    """The default project's annotation key ("deploy"), as a deploy script holds it."""
    from webapp.tenancy.tenants import create_key

    with app.app_context():
        key, _ = create_key(project, "annotate", "deploy", ANNOTATION_KEY)
    return key
