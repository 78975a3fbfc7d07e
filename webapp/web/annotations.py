"""Annotations over the API: listed with a read token, an annotation key or a session;
written, changed and deleted with an annotation key (a deploy script's). Thin views over
webapp.annotations.notes."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from flask import Blueprint, abort, current_app, request
from redis.exceptions import RedisError

from webapp.annotations import notes
from webapp.errors import BadAnnotation, BadFilter, NotFound
from webapp.ingest.accept import is_json_content_type
from webapp.live import publish
from webapp.models import Project, iso
from webapp.reads.ranges import parse_range
from webapp.responses import ok
from webapp.tenancy import credentials, policy

bp = Blueprint("annotations", __name__)
NOTE_ID = "<int:note_id>"


def json_body() -> object:
    """The request's JSON body; 415 for another type, 400 for one that is not JSON."""
    if not is_json_content_type(request.mimetype):
        abort(415, "Content-Type must be application/json")
    try:
        return orjson.loads(request.get_data())
    except orjson.JSONDecodeError as exc:
        raise BadAnnotation({"": f"malformed JSON: {exc}"}) from None


def show_live(project_id: int) -> None:
    """After a note changed: open dashboards of the project get their panels again (the
    chart with its markers) at the next push. The note is saved whether or not Redis
    answers; a dashboard that missed the push shows it at its next one."""
    try:
        publish.mark_dirty(current_app.extensions["redis"], current_app.extensions["celery"],
                           project_id)
    except RedisError:
        current_app.logger.warning("annotation saved, live dashboards not told")


@bp.get("/annotations")
def list_annotations():
    project_id = policy.annotation_project_id()
    zone = Project.time_zone_of(project_id)
    start = end = None
    if request.args.get("from") or request.args.get("to"):
        problems: list[str] = []
        start, end = parse_range(request.args.get("from"), request.args.get("to"), zone,
                                 datetime.now(UTC), problems)
        if problems:
            raise BadFilter(problems)
    rows = notes.between(project_id, start, end, notes.MAX_LISTED + 1)
    return ok({"annotations": [notes.to_api(row) for row in rows[:notes.MAX_LISTED]],
               "count": min(len(rows), notes.MAX_LISTED),
               "truncated": len(rows) > notes.MAX_LISTED,
               "from": iso(start) if start else None, "to": iso(end) if end else None,
               "timeZone": zone})


@bp.post("/annotations")
def create_annotation():
    project_id = policy.annotation_project_id(change=True)
    values = notes.validate(json_body(), Project.time_zone_of(project_id), datetime.now(UTC))
    row = notes.create(project_id, values, "api", key=credentials.presented_key("X-API-Key"))
    show_live(project_id)
    return ok(notes.to_api(row), status=201, message="Annotation saved")


@bp.patch(f"/annotations/{NOTE_ID}")
def change_annotation(note_id: int):
    project_id = policy.annotation_project_id(change=True)
    current = notes.get(project_id, note_id)
    if current is None:
        raise NotFound(f"No annotation #{note_id} in this project")
    values = notes.validate(json_body(), Project.time_zone_of(project_id), datetime.now(UTC),
                            current)
    row = notes.change(project_id, note_id, values)
    if row is None:  # deleted meanwhile
        raise NotFound(f"No annotation #{note_id} in this project")
    show_live(project_id)
    return ok(notes.to_api(row), message="Annotation changed")


@bp.delete(f"/annotations/{NOTE_ID}")
def delete_annotation(note_id: int):
    project_id = policy.annotation_project_id(change=True)
    if not notes.delete(project_id, note_id):
        raise NotFound(f"No annotation #{note_id} in this project")
    show_live(project_id)
    return ok({"id": note_id}, message="Annotation deleted")
