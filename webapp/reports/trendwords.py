"""A trend in words for its page: numbers with thousands separators (exact, as the JSON gives
them), bucket times on the project's clocks, measures and comparisons in words, and the table
of numbers with readable headers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from webapp.reports import tables

# The measures as the form offers them ("sum of" amount), in the engine's order.
MEASURE_WORDS = {"events": "events", "users": "unique users", "per_user": "events per user",
                 "sum": "sum of", "avg": "average of", "min": "minimum of",
                 "max": "maximum of", "median": "median of", "p90": "90th percentile of",
                 "distinct": "distinct values of"}
# A measure's unit after a value: "12 unique users" (the singular for exactly one).
UNITS = {"events": ("event", "events"), "users": ("unique user", "unique users"),
         "per_user": ("event per user", "events per user")}
INTERVAL_WORDS = {"minute": "Minute", "hour": "Hour", "day": "Day", "week": "Week",
                  "month": "Month"}
COMPARE_WORDS = {"previous": "the previous period", "week": "a week earlier",
                 "year": "a year earlier"}
RANGE_WORDS = {"today": "today", "7d": "the last 7 days", "30d": "the last 30 days",
               "90d": "the last 90 days", "month": "this month"}
NO_VALUE = "–"
MINUS = "\N{MINUS SIGN}"


def exact(value) -> Decimal | None:
    """A value of the JSON (int, float written exactly, or a decimal's text) as a decimal."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None


def number(value) -> str:
    """A value with thousands separators, every digit kept: 1234 -> "1,234", "0.1" -> "0.1",
    a 20-digit decimal's text as written; no value is a dash."""
    found = exact(value)
    if found is None or not found.is_finite():
        return NO_VALUE
    return format(found, ",f")


def change(percent: float | None) -> str:
    """A change in percent with its sign: "+12.5%", "−3.0%" (a true minus), "0.0%"."""
    if percent is None:
        return NO_VALUE
    text = f"{abs(percent):,.1f}%"
    if text == "0.0%":
        return text
    return ("+" if percent > 0 else MINUS) + text


def local_of(label: str) -> datetime | date:
    """A bucket's "local" label: a date (days, weeks, months) or a local time with offset."""
    return datetime.fromisoformat(label) if "T" in label else date.fromisoformat(label)


def day_text(moment: date, year: bool) -> str:
    text = f"{moment:%a} {moment.day} {moment:%b}"
    return f"{text} {moment.year}" if year else text


def when(label: str, interval: str, year: bool = True, offset: bool = False) -> str:
    """A bucket's time in words on the project's clocks: "Tue 10 Mar 2026", "week of Mon 9
    Mar 2026", "March 2026", "Tue 10 Mar 14:00" (with `offset`, "+02:00" after it: the hour
    repeated when clocks go back)."""
    moment = local_of(label)
    if interval == "month":
        return f"{moment:%B %Y}"
    if interval == "week":
        return "week of " + day_text(moment, True)
    if interval == "day" or not isinstance(moment, datetime):
        return day_text(moment, True)
    text = f"{day_text(moment, year)} {moment:%H:%M}"
    if offset:
        text += " " + moment.isoformat()[-6:]
    return text


def repeated(labels: list[str], interval: str) -> set[int]:
    """The indexes of buckets whose wall-clock time another bucket shares (the hour that
    comes twice when clocks go back): they are told apart by their offsets."""
    if interval not in ("hour", "minute"):
        return set()
    seen: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        seen.setdefault(label[:16], []).append(i)
    return {i for found in seen.values() if len(found) > 1 for i in found}


def spans_years(labels: list[str]) -> bool:
    return len({label[:4] for label in labels}) > 1


def bucket_names(buckets: list[dict], interval: str, year: bool | None = None) -> list[str]:
    """Every bucket's time in words, the years shown when the labels span more than one."""
    labels = [b["local"] for b in buckets]
    twice = repeated(labels, interval)
    year = spans_years(labels) if year is None else year
    return [when(label, interval, year, i in twice) for i, label in enumerate(labels)]


def events_of(series: dict) -> str:
    """What a series counts: "signup", "every event", "purchase where metadata.plan=pro"."""
    what = series["eventType"] if series["eventType"] is not None else "every event"
    if series["conditions"]:
        what += " where " + " and ".join(series["conditions"])
    return what


def measure_of(series: dict) -> str:
    """A series' measure in words: "events", "sum of amount"."""
    words = MEASURE_WORDS.get(series["measure"], series["measure"])
    return f"{words} {series['property']}" if series["property"] else words


def amount(series: dict, value) -> str:
    """A value with its unit: "1,234 events", "1 unique user", "sum of amount 19.99",
    "no value"."""
    if exact(value) is None:
        return "no value"
    text = number(value)
    if series["measure"] in UNITS:
        one, many = UNITS[series["measure"]]
        return f"{text} {one if exact(value) == 1 else many}"
    if series["measure"] == "distinct":
        return f"{text} distinct values of {series['property']}"
    return f"{measure_of(series)} {text}"


def name_of(series: dict) -> str:
    """A series as its legend and headers name it: "A: signup (events)"."""
    return f"{series['letter']}: {events_of(series)} ({measure_of(series)})"


def line_name(property_name: str, line: dict) -> str:
    """A breakdown line: "plan = pro", "plan: other values", "plan: no value"."""
    if line["other"]:
        return f"{property_name}: other values"
    if line["value"] is None:
        return f"{property_name}: no value"
    return f"{property_name} = {line['value']}"


def headers(data: dict) -> list[str]:
    """The headers of `tables.trends`' columns in words, column for column."""
    found = [f"{INTERVAL_WORDS.get(data['interval'], data['interval'])} ({data['timeZone']})"]
    for series in data["series"]:
        found.append(name_of(series))
        found.extend(f"{series['letter']}: {line_name(data['breakdown']['property'], line)}"
                     for line in series.get("breakdown", []))
    if data.get("formula"):
        found.append(f"Formula: {data['formula']['expression']}")
    compare = data.get("compare")
    if compare:
        found.extend(f"{s['letter']}, {COMPARE_WORDS.get(compare['mode'], compare['mode'])}"
                     for s in compare["series"])
    return found


def table(data: dict) -> tuple[list[str], list[list[str]]]:
    """The trend's table (`tables.trends`) as the page shows it: readable headers, each
    bucket's time in words, numbers with thousands separators, a last row of totals."""
    header, rows = tables.trends(data)
    names = bucket_names(data["buckets"], data["interval"])
    readable = headers(data)
    if len(readable) != len(header):  # a column this page does not know: the plain names
        readable = header
    shown = [[names[i] if i < len(names) else row[0], *(number(cell) for cell in row[1:])]
             for i, row in enumerate(rows[:-1])]
    shown.append(["Total", *(number(cell) for cell in rows[-1][1:])])
    return readable, shown
