"""A board's tiles, their results and their HTML, shared by the board page and the pushes.

A tile shows its saved report's result as the report cache has it (`params.run`: computed
again only once a commit touched the days it covers), within a time limit; a report that takes
longer is handed to the jobs workers (`jobs.start`), and the tile says it is still computing
(or shows the workers' last result while they compute the next). When such a job is done, the
worker asks for a push (`report_done`), so the stream fills the tile in.

A tile's content is rendered once per change of its result, for every tab, and kept in Redis
with the digest of the result it shows: a push re-renders only the tiles whose result changed,
and a tile whose report is being computed again keeps showing its last content."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import orjson
from flask import current_app, render_template
from markupsafe import Markup

from webapp.boards import drawing
from webapp.boards import tiles as board_tiles
from webapp.errors import BadReport, TooSlow
from webapp.models import BoardTile, Project, SavedReport
from webapp.reports import jobs, params, saved, tables, trendwords
from webapp.reports.definition import time_limit

BUDGET_MS = 1000  # a page or a push computes its board's reports for this long in all
CONTENT_TTL = 86400  # how long a tile's rendered content is kept unread
JOBS_TTL = jobs.TTL_SECONDS  # how long a tile waits for a job it handed over
READY, UPDATING, COMPUTING, FAILED, BROKEN = "ready", "updating", "computing", "failed", "broken"


def content_key(project_id: int) -> str:
    """Hash of tile id -> "<digest of its result>\\n<its rendered content>"."""
    return f"pulseboard:live:tiles:{project_id}"


def awaited_key(project_id: int) -> str:
    """Set of the jobs of the project's reports that a tile waits for."""
    return f"pulseboard:live:tile-jobs:{project_id}"


@dataclass
class Result:
    """A tile's report as it can be shown now: its data (None while computing, failed or
    broken), its state and, for a broken one, why."""

    data: dict | None
    state: str
    problems: tuple[str, ...] = ()


@dataclass
class TileView:
    """One tile of a board as a page or a push shows it."""

    tile: BoardTile
    report: SavedReport
    state: str
    body: Markup  # the tile's fragment (`boards/_tile_body.html`), swapped by the pushes


def query_of(report: SavedReport) -> str:
    """The report's query as the jobs name it (`jobs.job_id`)."""
    return urlencode(list(saved.args_of(report).items(multi=True)))


def result_of(project: Project, report: SavedReport, limit_ms: float,
              now: datetime) -> Result:
    """The report's result, found in the report cache or computed here within `limit_ms` (at
    least a millisecond: a cached result is always found), else by the jobs workers."""
    try:
        with time_limit(max(1, int(limit_ms))):
            return Result(params.run(report.kind, saved.args_of(report), project.id,
                                     project.time_zone, now), READY)
    except BadReport as exc:  # saved before a rule it breaks
        return Result(None, BROKEN, tuple(exc.problems))
    except TooSlow:
        pass
    celery, redis = current_app.extensions["celery"], current_app.extensions["redis"]
    query = query_of(report)
    job = jobs.job_id(project.id, report.kind, query)
    state = jobs.state(celery, job)
    if state == "failed":  # started again once the failed job has expired
        return Result(None, FAILED)
    data = jobs.result(celery, job) if state == "done" else None
    if state in (None, "done"):  # none yet, or a result older than the days it covers
        jobs.start(celery, project.id, report.kind, query)
    pipe = redis.pipeline(transaction=False)
    pipe.sadd(awaited_key(project.id), job)
    pipe.expire(awaited_key(project.id), JOBS_TTL)
    pipe.execute()
    return Result(data, UPDATING if data is not None else COMPUTING)


def report_done(redis, job: str, project_id: int) -> bool:
    """Whether a tile waited for this job (the worker then asks for a push)."""
    return bool(redis.srem(awaited_key(project_id), job))


def digest_of(tile: BoardTile, kind: str, data: dict) -> str:
    """What a tile's content depends on: its size, its report's kind and its result (whether
    that came from the cache aside)."""
    shown = {key: value for key, value in data.items() if key != "cached"}
    return hashlib.sha1(orjson.dumps([tile.size, kind, shown],
                                     option=orjson.OPT_SORT_KEYS)).hexdigest()


def content_context(tile: BoardTile, kind: str, data: dict) -> dict:
    """What `boards/_tile_content.html` draws: the headline, the chart and the table."""
    context = {"tile": tile, "kind": kind, "data": data,
               "headline": drawing.headline(kind, data), "spark": None, "bars": None}
    if kind == "trends":
        context["spark"] = drawing.spark(data, tile.size)
        context["table"] = trendwords.table(data)
    elif kind == "funnel":
        context["bars"] = drawing.funnel_bars(data)
    elif kind == "breakdown":
        context["bars"] = drawing.breakdown_bars(data)
    elif kind == "paths":
        context["bars"] = drawing.paths_bars(data)
    if kind != "trends":
        context["table"] = tables.TABLES[kind](data)
    return context


def render_content(tile: BoardTile, kind: str, data: dict) -> str:
    return render_template("boards/_tile_content.html", **content_context(tile, kind, data))


def views(project: Project, board_id: int, now: datetime, budget_ms: float) -> list[TileView]:
    """The board's tiles with their bodies. Their reports are computed here for at most
    `budget_ms` in all (each within REPORT_INLINE_MS); the rest go to the jobs workers."""
    found = board_tiles.tiles_of(project.id, board_id)
    if not found:
        return []
    redis = current_app.extensions["redis"]
    key = content_key(project.id)
    try:
        kept = redis.hmget(key, [str(tile.id) for tile in found])
    except Exception:  # Redis away: every tile is rendered afresh
        kept = [None] * len(found)
    inline = current_app.config["REPORT_INLINE_MS"]
    deadline = time.monotonic() + budget_ms / 1000
    shown, fresh = [], {}
    for tile, stored in zip(found, kept, strict=True):
        report = tile.saved_report
        left = (deadline - time.monotonic()) * 1000
        result = result_of(project, report, min(inline, left), now)
        stored_digest, _, stored_html = (stored or b"").decode().partition("\n")
        content = ""
        if result.data is not None:
            digest = digest_of(tile, report.kind, result.data)
            if digest == stored_digest:
                content = stored_html
            else:
                content = render_content(tile, report.kind, result.data)
                fresh[str(tile.id)] = f"{digest}\n{content}"
        elif result.state == COMPUTING and stored_html:
            content, result.state = stored_html, UPDATING  # the last result, until the next
        body = render_template("boards/_tile_body.html", tile=tile, state=result.state,
                               problems=result.problems, content=Markup(content))
        shown.append(TileView(tile, report, result.state, Markup(body)))
    if fresh:
        try:
            pipe = redis.pipeline(transaction=False)
            pipe.hset(key, mapping=fresh)
            pipe.expire(key, CONTENT_TTL)
            pipe.execute()
        except Exception:
            pass  # shown all the same; only the next render misses it
    return shown
