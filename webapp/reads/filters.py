"""Property filters on event metadata (`where=metadata.page=/pricing`, `^=` for "starts
with"), shared by stats, listings, exports and reports."""

from __future__ import annotations

import json
from dataclasses import dataclass

from webapp.errors import BadFilter

OPERATORS = ("eq", "prefix")  # `key=value` and `key^=value`
MAX_CONDITIONS = 8


@dataclass(frozen=True)
class Condition:
    """A test of one metadata property, compared as text (`metadata->>key`)."""

    key: str
    value: str
    op: str = "eq"

    def sql(self, alias: str, params: list) -> str:
        if self.op == "prefix":
            params.extend((self.key, self.value))
            return f"starts_with({alias}.metadata->>%s, %s)"
        # containment finds candidates through a GIN index on metadata where an install has
        # one (migration 0051 dropped ours: the value as a string, or as the JSON it spells,
        # such as 7 or true); the text test then decides exactly
        shapes = self._shapes()
        params.extend(shapes)
        params.extend((self.key, self.value))
        contains = " OR ".join(f"{alias}.metadata @> %s::jsonb" for _ in shapes)
        text = f"{alias}.metadata->>%s = %s"
        return f"(({contains}) AND {text})" if shapes else f"({text})"

    def _shapes(self) -> list[str]:
        """JSON objects that every matching row's metadata contains. None when the value
        spells escapes PostgreSQL may print differently (then only the text test runs)."""
        if "\\u" in self.value:
            return []
        shapes = [json.dumps({self.key: self.value})]
        try:
            spelled = json.loads(self.value, parse_constant=_no_constants)
        except ValueError:
            return shapes
        if not isinstance(spelled, str):  # a number, true/false, an array or an object
            shapes.append("{" + json.dumps(self.key) + ":" + self.value + "}")
        return shapes

    def __str__(self) -> str:
        return f"metadata.{self.key}{'^=' if self.op == 'prefix' else '='}{self.value}"


def _no_constants(name: str):
    raise ValueError(name)  # NaN and Infinity are not JSON to PostgreSQL


def condition(text: str, name: str, problems: list[str]) -> Condition | None:
    """`metadata.key=value` or `metadata.key^=value`."""
    key, sep, value = text.partition("=")
    op = "eq"
    if key.endswith("^"):
        key, op = key[:-1], "prefix"
    if not sep or not key.startswith("metadata.") or len(key) == len("metadata."):
        problems.append(f'"{name}" must look like metadata.page=/pricing or '
                        f'metadata.page^=/docs, not "{text}"')
        return None
    return Condition(key[len("metadata."):], value, op)


def conditions(args, name: str, problems: list[str]) -> tuple[Condition, ...]:
    given = args.getlist(name)
    found = [condition(text, name, problems) for text in given if text]
    if len(given) > MAX_CONDITIONS:  # empty ones too: the limit is on the query as written
        problems.append(f'at most {MAX_CONDITIONS} "{name}" conditions')
    return tuple(c for c in found if c is not None)


def from_args(args, name: str = "where") -> tuple[Condition, ...]:
    """The filters of a request's query; raises BadFilter listing every problem."""
    problems: list[str] = []
    found = conditions(args, name, problems)
    if problems:
        raise BadFilter(problems)
    return found


def sql(found: tuple[Condition, ...], alias: str, params: list) -> str:
    """The conditions joined with AND (TRUE when there are none)."""
    return " AND ".join(c.sql(alias, params) for c in found) or "TRUE"
