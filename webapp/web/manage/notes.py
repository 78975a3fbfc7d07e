"""A project's notes on its charts: every member sees them; owners and admins add, change and
delete them with plain forms (htmx swaps the list in place). The dashboard's "add a note here"
form posts here too, and goes back to the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, redirect, request

from webapp.annotations import notes
from webapp.annotations.markers import when
from webapp.errors import BadAnnotation, NotFound
from webapp.models import Annotation, Project
from webapp.tenancy import accounts, policy
from webapp.tenancy.projects import Handle
from webapp.web.annotations import show_live
from webapp.web.dashboard import safe_next
from webapp.web.manage.forms import AnnotationForm
from webapp.web.manage.pages import partial_or_page

bp = Blueprint("notes", __name__)
FORM_FIELDS = {"text": "text", "startsAt": "at", "endsAt": "until"}  # the API's -> the form's


def rows_of(project: Project) -> list[dict]:
    zone = project.time_zone
    return [{"row": row, "author": notes.author(row), "at": notes.local_input(row.starts_at, zone),
             "until": notes.local_input(row.ends_at, zone),
             "when": when(notes.as_note(row), zone)}
            for row in notes.between(project.id, None, None)]


def _answer(slug: Handle, status: int = 200, **extra):
    """The notes page, or only its list for htmx, with the form's problems in `errors`."""
    user, _, project = policy.user_project(slug)
    role = policy.role_in(user, project.organization_id)
    context = {"project": project, "rows": rows_of(project), "errors": {}, "form": {},
               "editing": None, "may_write": role in policy.MANAGERS,
               "now": notes.local_input(datetime.now(UTC), project.time_zone), **extra}
    return partial_or_page("manage/annotations.html", "manage/_annotations.html",
                           **context), status


@bp.get("/projects/<project:slug>/annotations")
@accounts.login_required
def annotations(slug: Handle):
    return _answer(slug)


def _values(project: Project, form: AnnotationForm, current: Annotation | None = None) -> dict:
    """The form's fields as the API's body: an empty time is now (a new note) or, for the end,
    none (an instant); BadAnnotation's fields are named as the form's."""
    body = {"text": form.text.data or ""}
    if form.at.data or current is not None:
        body["startsAt"] = form.at.data or ""
    if form.until.data or current is not None:
        body["endsAt"] = form.until.data or None
    try:
        return notes.validate(body, project.time_zone, datetime.now(UTC), current)
    except BadAnnotation as exc:
        raise BadAnnotation({FORM_FIELDS.get(name, name): why
                             for name, why in exc.fields.items()}) from None


@bp.post("/projects/<project:slug>/annotations")
@accounts.login_required
def add_annotation(slug: Handle):
    project = policy.managed_project(slug)
    form = AnnotationForm()
    try:
        values = _values(project, form)
    except BadAnnotation as exc:
        return _answer(slug, 400, errors=exc.fields, form=form.data)
    notes.create(project.id, values, "page", user_id=accounts.current_user().id)
    show_live(project.id)
    if target := request.form.get("next"):
        return redirect(safe_next(target))
    return _answer(slug, saved=values["text"])


@bp.post("/projects/<project:slug>/annotations/<int:note_id>")
@accounts.login_required
def change_annotation(slug: Handle, note_id: int):
    project = policy.managed_project(slug)
    current = notes.get(project.id, note_id)
    if current is None:
        raise NotFound("No such annotation in this project")
    form = AnnotationForm()
    try:
        values = _values(project, form, current)
    except BadAnnotation as exc:
        return _answer(slug, 400, errors=exc.fields, form=form.data, editing=note_id)
    if notes.change(project.id, note_id, values) is None:
        raise NotFound("No such annotation in this project")
    show_live(project.id)
    return _answer(slug)


@bp.post("/projects/<project:slug>/annotations/<int:note_id>/delete")
@accounts.login_required
def delete_annotation(slug: Handle, note_id: int):
    project = policy.managed_project(slug)
    if not notes.delete(project.id, note_id):
        raise NotFound("No such annotation in this project")
    show_live(project.id)
    return _answer(slug)
