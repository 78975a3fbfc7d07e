"""The dashboard's live panels: their data and their HTML, shared by the page and the pushes."""

from __future__ import annotations

from datetime import datetime

from flask import render_template

from webapp.alerts import panel as alerts
from webapp.annotations import notes
from webapp.models import EventRollupMinute, Organization, Project
from webapp.reads import chart, stats
from webapp.reads.events import list_events
from webapp.reads.windows import WINDOWS, Window
from webapp.store import deadletters

RECENT = 20
# fragment name -> partial template; each renders one element with a stable id
FRAGMENTS = {
    "counters": "_counters.html",
    "chart": "_chart.html",
    "top-types": "_top_types.html",
    "recent": "_recent.html",
    "alert-badge": "_alert_badge.html",
    "alerts": "_alerts_panel.html",
}


def events_this_minute(project_id: int, now: datetime) -> int:
    minute = now.replace(second=0, microsecond=0)
    total = (EventRollupMinute.select(EventRollupMinute.count)
             .where(EventRollupMinute.project == project_id, EventRollupMinute.minute == minute))
    return sum(row.count for row in total)


def panel_data(project_id: int, window: Window, now: datetime) -> dict:
    """The live window's panels; their times read in the project's zone (the buckets are the
    window's, whole minutes, half hours or three hours of UTC)."""
    data = stats.compute(project_id, window, now)
    organization, slug, zone = (Project.select(Organization.slug, Project.slug, Project.time_zone)
                                .join(Organization).where(Project.id == project_id)
                                .tuples().get())
    drawn = chart.build(data["series"], int(window.bucket.total_seconds()), zone)
    return {
        "stats": data,
        "this_minute": events_this_minute(project_id, now),
        "chart": drawn,
        "markers": notes.on_chart(project_id, drawn, window.bucket_starts(now),
                                  window.bucket_of(now) + window.bucket, zone),
        "recent": list_events(project_id, window, now, limit=RECENT)["events"],
        "dead_letters": deadletters.pending_count(project_id),
        "project_slug": f"{organization}/{slug}",  # a handle: the same for every watcher
        "time_zone": zone,
        "window": window,
        "windows": list(WINDOWS),
        "rendered_at": now,
        **alerts.dashboard_data(project_id),
    }


def render_fragments(project_id: int, window: Window, now: datetime) -> dict[str, str]:
    """Each live fragment's HTML, rendered once for everyone watching this window."""
    context = panel_data(project_id, window, now)
    return {name: render_template(template, **context) for name, template in FRAGMENTS.items()}
