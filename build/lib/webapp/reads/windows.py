"""Time windows of the hour/day/week filters, aligned to whole buckets of the chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from webapp.errors import UnknownFilter


@dataclass(frozen=True)
class Window:
    name: str
    bucket: timedelta  # width of one chart bucket
    buckets: int  # how many buckets the window spans, the current one included

    def start(self, now: datetime) -> datetime:
        """First instant of the window: the start of the oldest bucket shown."""
        return self.bucket_of(now) - self.bucket * (self.buckets - 1)

    def bucket_of(self, moment: datetime) -> datetime:
        seconds = int(self.bucket.total_seconds())
        epoch = int(moment.timestamp())
        return datetime.fromtimestamp(epoch - epoch % seconds, UTC)

    def bucket_starts(self, now: datetime) -> list[datetime]:
        first = self.start(now)
        return [first + self.bucket * i for i in range(self.buckets)]

    @property
    def bucket_label(self) -> str:
        minutes = int(self.bucket.total_seconds() // 60)
        return f"{minutes}m" if minutes < 60 else f"{minutes // 60}h"


# hour: 60 one-minute buckets; day: 48 half hours; week: 56 three-hour buckets (UTC-aligned).
WINDOWS = {
    "hour": Window("hour", timedelta(minutes=1), 60),
    "day": Window("day", timedelta(minutes=30), 48),
    "week": Window("week", timedelta(hours=3), 56),
}
DEFAULT_WINDOW = "hour"


def window_for(value: str | None) -> Window:
    """The window a `filter` parameter names; a missing one is the hour, an unknown one an error."""
    if value is None or value == "":
        return WINDOWS[DEFAULT_WINDOW]
    if value not in WINDOWS:
        raise UnknownFilter(f'"filter" must be one of [{", ".join(WINDOWS)}], not "{value}"')
    return WINDOWS[value]
