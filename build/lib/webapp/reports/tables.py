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


TABLES = {"funnel": funnel, "retention": retention, "paths": paths, "breakdown": breakdown}


def as_csv(kind: str, data: dict) -> str:
    """The report's table as CSV, its cells neutralised as the event export's are."""
    return csv_table(*TABLES[kind](data))
