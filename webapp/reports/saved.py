"""Saved reports and read-only share links: unguessable, revocable, optionally password-locked,
each scoped to one project and one view (the dashboard, a saved report or a board); what an
alert rule may watch in a saved trend."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from peewee import IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.db import database
from webapp.models import Board, SavedReport, ShareLink, digest
from webapp.reports import intervals, params
from webapp.reports.definition import BadReport

KINDS = ("funnel", "retention", "paths", "breakdown", "trends")
MAX_QUERY = 4000
NO_REPORT = "no such saved report in this project"
NO_BOARD = "no such board in this project"


def _name_problems(name: str) -> list[str]:
    if not name.strip() or len(name) > 200:
        return ["give the report a name of at most 200 characters"]
    return []


def save(project_id: int, name: str, kind: str, query: str) -> SavedReport:
    problems = _name_problems(name)
    if kind not in KINDS:
        problems.append(f"kind is one of {', '.join(KINDS)}")
    if len(query) > MAX_QUERY:
        problems.append(f"a report's query is at most {MAX_QUERY} characters")
    if problems:
        raise BadReport(problems)
    return SavedReport.create(project=project_id, name=name.strip(), kind=kind, query=query)


def rename(project_id: int, report_id: int, name: str) -> bool:
    """False when the project has no such report."""
    problems = _name_problems(name)
    if problems:
        raise BadReport(problems)
    return bool(SavedReport.update(name=name.strip())
                .where(SavedReport.id == report_id, SavedReport.project == project_id).execute())


def delete(project_id: int, report_id: int) -> bool:
    """Deletes the report, and with it its share links and the alert rules that watch it
    (their foreign keys cascade); False when the project has no such report."""
    return bool(SavedReport.delete().where(SavedReport.id == report_id,
                                           SavedReport.project == project_id).execute())


def saved_for(project_id: int) -> list[SavedReport]:
    return list(SavedReport.select().where(SavedReport.project == project_id)
                .order_by(SavedReport.name, SavedReport.id))


def args_of(report: SavedReport) -> MultiDict:
    return MultiDict(parse_qsl(report.query, keep_blank_values=False))


@dataclass(frozen=True)
class Outline:
    """A saved report as an alert rule on it sees it: its kind and, for a trend, what may be
    watched (its series letters, and "formula" when it has one), whether it is cumulative,
    and why a rule could not watch it (`problems`)."""

    id: int
    name: str
    kind: str
    targets: tuple[str, ...] = ()
    cumulative: bool = False
    problems: tuple[str, ...] = ()


def outline(report: SavedReport, time_zone: str, now: datetime) -> Outline:
    """What a rule may watch in `report`, read from its query as running it would read it.
    A rule judges the latest bucket of the trend that has ended, so the trend's range must
    move on with the days (a preset or no `to`) and hold more than one bucket."""
    if report.kind != "trends":
        return Outline(report.id, report.name, report.kind)
    args, problems = args_of(report), []
    scope = params.scope(args, report.project_id, time_zone, now, problems)
    trend = params.build("trends", args, problems)
    if trend is None or problems:
        return Outline(report.id, report.name, report.kind, problems=tuple(problems))
    problems.extend(trend.problems_with(scope))
    interval = trend.interval_for(scope)
    if args.get("to"):
        problems.append(f"its range ends on a fixed date (to={args['to']}), so its latest "
                        f"bucket never moves on: save it with range= (or without to)")
    elif not problems and len(intervals.starts(interval, time_zone, scope.start,
                                               scope.end)) < 2:
        problems.append(f"its range is a single {interval}, which has not ended while it is "
                        f"the range's: give it a shorter interval or a longer range")
    targets = tuple(series.letter for series in trend.series) + (
        ("formula",) if trend.formula else ())
    return Outline(report.id, report.name, report.kind, targets, trend.cumulative,
                   tuple(problems))


def outlines(project_id: int, time_zone: str, now: datetime) -> list[Outline]:
    """Every saved report of the project, outlined for alert rules."""
    return [outline(report, time_zone, now) for report in saved_for(project_id)]


def share(project_id: int, saved_report_id: int | None, password: str = "",
          board_id: int | None = None) -> str:
    """A new link's token (shown once; only its SHA-256 is kept): to the dashboard, to one
    saved report or to one board."""
    problems = []
    if saved_report_id is not None and not SavedReport.select().where(
            SavedReport.id == saved_report_id, SavedReport.project == project_id).exists():
        problems.append(NO_REPORT)
    if board_id is not None and not Board.select().where(
            Board.id == board_id, Board.project == project_id).exists():
        problems.append(NO_BOARD)
    if saved_report_id is not None and board_id is not None:
        problems.append("a link shows one view: a saved report or a board, not both")
    if problems:
        raise BadReport(problems)
    token = secrets.token_urlsafe(32)
    try:
        with database.atomic():
            ShareLink.create(project=project_id, saved_report=saved_report_id, board=board_id,
                             token_hash=digest(token),
                             password_hash=generate_password_hash(password) if password else None)
    except IntegrityError:  # the report or board was deleted since the checks above
        raise BadReport([NO_BOARD if board_id is not None else NO_REPORT]) from None
    return token


def links_for(project_id: int) -> list[ShareLink]:
    return list(ShareLink.select().where(ShareLink.project == project_id,
                                         ShareLink.revoked_at.is_null()).order_by(ShareLink.id))


def revoke(project_id: int, link_id: int) -> bool:
    return bool(ShareLink.update(revoked_at=datetime.now(UTC))
                .where(ShareLink.id == link_id, ShareLink.project == project_id,
                       ShareLink.revoked_at.is_null()).execute())


def live_link(token: str) -> ShareLink | None:
    return ShareLink.get_or_none(ShareLink.token_hash == digest(token),
                                 ShareLink.revoked_at.is_null())


def unlocks(link: ShareLink, password: str) -> bool:
    return link.password_hash is None or check_password_hash(link.password_hash, password)
