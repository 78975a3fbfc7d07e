"""What the protocol adapters share: a translation into /webhook's event shape, and the step
that validates it with /webhook's own rules (the adapters' names allowed) and gives it ids."""

from __future__ import annotations

import numbers
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from webapp.ingest.accept import Accepted, IngestError, prepare_body
from webapp.ingest.validation import SDK, parse_timestamp
from webapp.models import iso


def label(path: list) -> str:
    """A path as the sender would write it: batch[0].properties."""
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)
    return text.lstrip(".") or "value"


def problem(path: list, message: str, kind: str) -> dict:
    return {"path": path, "message": f'"{label(path)}" {message}', "type": kind}


@dataclass
class Origin:
    """Where an event came from: its place among the sent events, its path in the body, and the
    sender's name for each of /webhook's fields (dotted when nested: properties.distinct_id)."""

    position: int
    path: list
    fields: dict[str, str]


@dataclass
class Translation:
    """Events in /webhook's shape, their origins, and the problems found while translating
    (each with the position of the sent event it concerns, -1 for the body as a whole)."""

    container: list = field(default_factory=list)  # the path of the list of events, if any
    events: list[dict] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)
    problems: list[tuple[int, dict]] = field(default_factory=list)

    def add(self, event: dict, origin: Origin) -> None:
        self.events.append(event)
        self.origins.append(origin)

    def refuse(self, position: int, path: list, message: str, kind: str) -> None:
        self.problems.append((position, problem(path, message, kind)))


def _in_sender_terms(error: dict, translation: Translation) -> tuple[int, dict]:
    """A problem /webhook's validation found, told with the sender's path and field names."""
    native = error["path"]
    if not native:
        position, path = -1, list(translation.container)
    else:
        origin = translation.origins[native[0]]
        position, path = origin.position, origin.path
        if len(native) > 1:
            path = path + origin.fields.get(native[1], native[1]).split(".") + native[2:]
    message = error["message"].split('" ', 1)[-1]
    return position, {**error, "path": path, "message": f'"{label(path)}" {message}'}


def prepare(translation: Translation, now: datetime) -> Accepted:
    """Validate and give ids to a translation's events, as /webhook does (under the adapters'
    rules); every problem at once, in the sender's terms. Raises IngestError."""
    found = list(translation.problems)
    accepted = None
    if translation.events:
        try:
            accepted = prepare_body(translation.events, now, rules=SDK)
        except IngestError as exc:
            if not exc.errors:
                raise
            told = {tuple(p["path"]) for _, p in found}
            for error in exc.errors:
                position, in_terms = _in_sender_terms(error, translation)
                if tuple(in_terms["path"]) not in told:  # the translation said it better
                    found.append((position, in_terms))
    elif not found:
        found.append((-1, problem(translation.container, "must contain at least 1 items",
                                  "array.min")))
    if found:
        found.sort(key=lambda item: item[0])
        bad = {position for position, _ in found if position >= 0}
        raise IngestError(400, "Validation failed", errors=[p for _, p in found],
                          invalid=len(bad) if bad else len(translation.events))
    return accepted


def corrected(timestamp: Any, sent_at: Any, received: datetime) -> Any:
    """A device's time moved onto the server's clock: timestamp + (received - sent_at), when
    both are times; otherwise the timestamp unchanged (validation reports a bad one)."""
    if not isinstance(timestamp, str) or not isinstance(sent_at, str):
        return timestamp
    moment, sent = parse_timestamp(timestamp), parse_timestamp(sent_at)
    if moment is None or sent is None:
        return timestamp
    try:
        return iso(moment + (received - sent))
    except OverflowError:  # past year 9999 or before year 1: left for validation to refuse
        return timestamp


def stringify_id(value: Any) -> Any:
    """Ids sent as numbers become text, as the SDKs do themselves; anything else is left for
    validation to report."""
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return str(value)
    return value


def too_large(limit: int, status: int) -> IngestError:
    return IngestError(status, f"Request body too large: at most {limit // 1024} KB",
                       reason="too_large")


def gunzip(data: bytes, limit: int, status: int = 413) -> bytes:
    """A gzip (or zlib) body, inflated to at most `limit` bytes in all. Every member of a
    multi-member body (streams one after another, as `cat a.gz b.gz` makes and gzip reads)
    is inflated, not only the first; zero bytes after the last are padding, anything else is
    refused."""
    parts: list[bytes] = []
    left = limit + 1
    while True:
        inflater = zlib.decompressobj(wbits=47)  # gzip or zlib, told by the header
        try:
            out = inflater.decompress(data, left)
        except zlib.error as exc:
            raise IngestError(400, f"Body is not valid gzip: {exc}") from None
        parts.append(out)
        left -= len(out)
        if left <= 0:
            raise too_large(limit, status)
        if not inflater.eof:
            raise IngestError(400, "Body is not valid gzip: the stream is cut short")
        data = inflater.unused_data
        if not data.strip(b"\0"):
            return b"".join(parts)
