"""A project's annotations: what a note may hold, writing, changing and deleting one, and the
notes a span of time shows. Every query names the project: one project's notes are never
another's to see or change."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from peewee import JOIN

from webapp.annotations.markers import Marker, Note, place
from webapp.errors import BadAnnotation
from webapp.models import Annotation, ApiKey, User, digest, iso
from webapp.reads.chart import Chart
from webapp.reads.ranges import MAX_DAYS, parse_instant

MAX_TEXT = 200
MAX_LISTED = 500  # notes one answer or one chart holds at most (the latest ones)
FIELDS = ("text", "startsAt", "endsAt")
_OK = r"[^\x00-\x1f\x7f-\x9f\ud800-\udfff]"  # no control character, no lone surrogate
TEXT = re.compile(f"{_OK}*[^\\s\\x00-\\x1f\\x7f-\\x9f\\ud800-\\udfff]{_OK}*")
MAX_SPAN = timedelta(days=MAX_DAYS)  # a range's length at most, as a report's: so the notes a
# chart shows are found in the index from MAX_SPAN before its start


def validate(body: Any, zone: str, now: datetime,
             current: Annotation | None = None) -> dict[str, Any]:
    """The columns `body` sets ({"text", "startsAt", "endsAt"}, the API's names: the pages and
    the command line use them too), checked all at once; BadAnnotation names every field that
    is wrong. A new note (no `current`) needs `text` and starts now unless `startsAt` says
    otherwise; a change sets only the fields given (`endsAt` null makes a range an instant).
    Times are dates (the local midnight of the project's zone; an `endsAt` date includes that
    day) or instants (without an offset, on the project's clocks)."""
    if not isinstance(body, dict):
        raise BadAnnotation({"": "send a JSON object with text, startsAt and endsAt"})
    problems: dict[str, str] = {
        name: f"unknown field: give {', '.join(FIELDS)}" for name in body if name not in FIELDS}
    values: dict[str, Any] = {}
    if "text" in body or current is None:
        text = body.get("text")
        if not isinstance(text, str) or not TEXT.fullmatch(text) or len(text) > MAX_TEXT:
            problems["text"] = (f"1 to {MAX_TEXT} characters, not only spaces, and no control "
                                "characters")
        else:
            values["text"] = text.strip()
    for name, column, end in (("startsAt", "starts_at", False), ("endsAt", "ends_at", True)):
        if name not in body:
            continue
        value = body[name]
        if value is None and name == "endsAt":
            values[column] = None
            continue
        if not isinstance(value, str) or not value:
            problems[name] = ("a date (2026-03-08) or an instant (2026-03-08T09:30:00Z)"
                              + (", or null for an instant" if end else ""))
            continue
        found: list[str] = []
        moment = parse_instant(value, name, zone, found, end=end)
        if found:
            problems[name] = found[0].removeprefix(f'"{name}" ')
        else:
            values[column] = moment
    if current is None and "starts_at" not in values and "startsAt" not in problems:
        values["starts_at"] = now
    start = values.get("starts_at", current.starts_at if current else None)
    stop = values.get("ends_at", current.ends_at if current else None)
    if start is not None and stop is not None and stop <= start and not (
            {"startsAt", "endsAt"} & problems.keys()):
        if "ends_at" in values:
            problems["endsAt"] = "must be after startsAt" + (
                "" if "starts_at" in values else f" ({iso(start)})")
        else:  # a new start past the end the note has
            problems["startsAt"] = (f"must be before endsAt ({iso(stop)}): change endsAt too, "
                                    "or make it null")
    elif start is not None and stop is not None and stop - start > MAX_SPAN:
        problems["endsAt"] = f"a range spans at most {MAX_DAYS} days"
    if current is not None and not body:
        problems[""] = "nothing to change: give text, startsAt or endsAt"
    if problems:
        raise BadAnnotation(problems)
    return values


def create(project_id: int, values: dict[str, Any], source: str, *, user_id: int | None = None,
           key: str | None = None) -> Annotation:
    """A new note of the project (values from `validate`), written by a member on a page
    (`user_id`), with an annotation key (`key`, its plain text) or on the command line."""
    row = {"project": project_id, "source": source, "created_by_user": user_id, **values}
    if key is not None:  # the key's number, read in the same statement (and only if it is this
        # project's live annotation key)
        row["created_by_key"] = (ApiKey.select(ApiKey.id)
                                 .where(ApiKey.key_hash == digest(key),
                                        ApiKey.project == project_id,
                                        ApiKey.kind == "annotate"))
    note_id = Annotation.insert(**row).execute()
    return get(project_id, note_id)


def get(project_id: int, note_id: int) -> Annotation | None:
    """The note `note_id` of this project (None for any other project's)."""
    return _listing(project_id).where(Annotation.id == note_id).first()


def change(project_id: int, note_id: int, values: dict[str, Any]) -> Annotation | None:
    """Set these columns of the project's note; None when it has no such note."""
    changed = (Annotation.update(**values, updated_at=datetime.now(UTC))
               .where(Annotation.project == project_id, Annotation.id == note_id).execute())
    return get(project_id, note_id) if changed else None


def delete(project_id: int, note_id: int) -> bool:
    return bool(Annotation.delete().where(Annotation.project == project_id,
                                          Annotation.id == note_id).execute())


def between(project_id: int, start: datetime | None, end: datetime | None,
            limit: int = MAX_LISTED) -> list[Annotation]:
    """The project's notes that show in [start, end) (an instant in it, or a range that
    overlaps it; either bound None: open), newest first, at most `limit`."""
    query = _listing(project_id)
    if end is not None:
        query = query.where(Annotation.starts_at < end)
    if start is not None:
        earliest = start - min(MAX_SPAN, start - datetime.min.replace(tzinfo=UTC))
        query = query.where(Annotation.starts_at >= earliest,
                            (Annotation.starts_at >= start) | (Annotation.ends_at > start))
    return list(query.order_by(Annotation.starts_at.desc(), Annotation.id.desc()).limit(limit))


def as_note(row: Annotation) -> Note:
    """A stored note as charts (and their words) take it."""
    return Note(row.id, row.text, row.starts_at, row.ends_at)


def for_chart(project_id: int, start: datetime, end: datetime) -> list[Note]:
    """The notes a chart of [start, end) shows (at most MAX_LISTED, the latest)."""
    return [as_note(row) for row in between(project_id, start, end)]


def on_chart(project_id: int, chart: Chart, starts: list[datetime], end: datetime,
             zone: str) -> list[Marker]:
    """The markers of the project's notes on a dashboard chart (webapp/reads/chart.py) whose
    buckets start at `starts` and end at `end`."""
    if not starts:
        return []
    return place(for_chart(project_id, starts[0], end), starts, end, left=chart.left,
                 width=chart.right - chart.left, top=chart.top,
                 height=chart.baseline - chart.top, zone=zone)


def local_input(moment: datetime | None, zone: str) -> str:
    """An instant as the value of a form's datetime-local input, on the project's clocks."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if moment else ""


def _listing(project_id: int):
    """The project's notes, each with `author_email` (a member's) and `key_name`."""
    return (Annotation.select(Annotation, User.email.alias("author_email"),
                              ApiKey.name.alias("key_name"))
            .join(User, JOIN.LEFT_OUTER, on=Annotation.created_by_user == User.id)
            .switch(Annotation)
            .join(ApiKey, JOIN.LEFT_OUTER, on=(Annotation.created_by_key == ApiKey.id)
                  & (ApiKey.project == Annotation.project))
            .where(Annotation.project == project_id)
            .objects())


def author(row: Annotation) -> str:
    """Who wrote a note, in words (for members: the member's address)."""
    if row.author_email is not None:
        return row.author_email
    if row.key_name is not None:
        return f"annotation key “{row.key_name}”"
    return {"page": "a former member", "api": "a key", "command": "the command line"}[row.source]


def to_api(row: Annotation) -> dict:
    """A note as the API answers it. Who wrote it: a member (never their address: the API's
    callers are keys), a key (by its name) or the command line."""
    if row.key_name is not None:
        by = {"kind": "key", "name": row.key_name}
    else:
        by = {"kind": {"page": "member", "api": "key", "command": "command"}[row.source],
              "name": None}
    return {"id": row.id, "text": row.text, "startsAt": iso(row.starts_at),
            "endsAt": iso(row.ends_at) if row.ends_at is not None else None,
            "createdBy": by, "createdAt": iso(row.created_at), "updatedAt": iso(row.updated_at)}
