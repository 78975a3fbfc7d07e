"""Each report as a table (header and rows): the CSV download and the pages' tables."""

from __future__ import annotations

from webapp.reads.export import csv_table


def funnel(data: dict) -> tuple[list[str], list[list]]:
    header = ["step", "eventType", "conditions", "users", "conversionFromFirst",
              "conversionFromPrevious", "dropOff", "medianSeconds", "p90Seconds"]
    return header, [[s["step"], s["eventType"], " & ".join(s["conditions"]), s["users"],
                     s["conversionFromFirst"], s["conversionFromPrevious"], s["dropOff"],
                     s["medianSeconds"], s["p90Seconds"]] for s in data["steps"]]


def retention(data: dict) -> tuple[list[str], list[list]]:
    header = ["cohort", "users"] + [f"{data['unit']} {n}" for n in range(data["periods"])]
    return header, [[c["cohort"], c["users"], *c["counts"]] for c in data["cohorts"]]


def paths(data: dict) -> tuple[list[str], list[list]]:
    return ["path", "users"], [[" > ".join(p["events"]), p["users"]] for p in data["paths"]]


def breakdown(data: dict) -> tuple[list[str], list[list]]:
    return ["value", "count", "uniqueUsers", "share"], [
        [v["value"], v["count"], v["uniqueUsers"], v["share"]] for v in data["values"]]


def trends(data: dict) -> tuple[list[str], list[list]]:
    """One row per bucket: its start (local) and each series' value (each breakdown line's
    too), then the formula; a last row of the range's totals."""
    columns = []  # (header, values, total)
    for series in data["series"]:
        columns.append((f"{series['letter']}: {series['label']}", series["values"],
                        series["total"]))
        for line in series.get("breakdown", []):
            name = "other" if line["other"] else ("(none)" if line["value"] is None
                                                  else line["value"])
            columns.append((f"{series['letter']} {data['breakdown']['property']} = {name}",
                            line["values"], line["total"]))
    if data.get("formula"):
        formula = data["formula"]
        columns.append((f"formula: {formula['expression']}", formula["values"],
                        formula["total"]))
    compare = data.get("compare")
    if compare:
        for series in compare["series"]:
            columns.append((f"{series['letter']} ({compare['mode']} period)", series["values"],
                            series["total"]))
    header = [f"{data['interval']} ({data['timeZone']})", *(c[0] for c in columns)]
    rows = [[bucket["local"], *(c[1][i] if i < len(c[1]) else None for c in columns)]
            for i, bucket in enumerate(data["buckets"])]
    rows.append(["total", *(c[2] for c in columns)])
    return header, rows


TABLES = {"funnel": funnel, "retention": retention, "paths": paths, "breakdown": breakdown,
          "trends": trends}


def as_csv(kind: str, data: dict) -> str:
    """The report's table as CSV, its cells neutralised as the event export's are."""
    return csv_table(*TABLES[kind](data))
