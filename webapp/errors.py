"""Every refusal of Pulseboard's, in one hierarchy: each carries its HTTP status and the
problems it lists; webapp/web/answers.py turns them into answers (JSON for the API, the error
page for pages) in one place. Nothing here imports the rest of the app."""

from __future__ import annotations


class PulseboardError(Exception):
    """A request (or a command) that cannot be done. `status` is its HTTP answer, `message` the
    answer's line (`title` when the class has one: "Invalid query"), `problems` every reason,
    listed as the answer's `errors`; `headers` go with the answer."""

    status = 500
    title: str | None = None
    reason: str | None = None  # counted among /metrics' rejections (on the ingest routes)

    def __init__(self, message: str = "", problems=(), headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.problems = list(problems)
        self.errors: list[dict] | None = [{"message": p} for p in self.problems] or None
        self._headers = dict(headers or {})

    @property
    def headers(self) -> dict[str, str]:
        return self._headers

    @property
    def summary(self) -> str:
        return self.title or self.message


# ---- who is asking -------------------------------------------------------------------------

class Unauthorized(PulseboardError):
    """A missing or wrong key, token or session."""

    status, reason = 401, "unauthorized"

    def __init__(self, message: str):
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(PulseboardError):
    """A caller who is known, but may not do this."""

    status = 403


class NotFound(PulseboardError):
    """Nothing of that name for this caller (another tenant's things do not exist for them)."""

    status = 404


class DatabaseUnavailable(PulseboardError):
    """A key could not be checked because PostgreSQL is unreachable (Retry-After is added
    from RETRY_AFTER_SECONDS)."""

    status = 503

    def __init__(self, message: str = "Database unavailable, retry later"):
        super().__init__(message)


# ---- what is asked -------------------------------------------------------------------------

class Invalid(PulseboardError, ValueError):
    """Input that cannot be used; `problems` names each thing wrong with it."""

    status = 400

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems), problems)


class BadQuery(Invalid):
    """A query parameter that cannot be used; the message names it."""

    title = "Invalid query"

    def __init__(self, message: str):
        super().__init__([message])


class UnknownFilter(BadQuery):
    """A `filter` that names no window."""


class BadFilter(Invalid):
    """Filters that cannot be used; `problems` lists each."""

    title = "Invalid query"


class BadReport(Invalid):
    """A report definition that cannot be run; `problems` lists every reason at once."""

    title = "Invalid report"


class BadFormula(BadReport):
    """A trend's formula that cannot be read (webapp/reports/formula.py says why)."""

    def __init__(self, problem: str):
        super().__init__([problem])


class BadSuggestion(Invalid):
    """A picker's question that cannot be answered; `problems` lists every reason at once."""

    title = "Invalid query"


class BrokenSavedReport(Invalid):
    """A shared report whose saved query is no longer valid (saved before a rule it breaks)."""

    status = 422

    def __init__(self, problems: list[str]):
        super().__init__(problems)
        self.message = ("This shared report cannot be shown: its saved query has problems ("
                        + "; ".join(problems) + "). Ask whoever shared it to save the report "
                        "again.")


class BadAnnotation(Invalid):
    """An annotation that cannot be saved: `fields` maps each field to what is wrong with it
    (listed as the answer's errors, each with its field as `path`)."""

    title = "Invalid annotation"

    def __init__(self, fields: dict[str, str]):
        super().__init__([f"{name}: {why}" if name else why for name, why in fields.items()])
        self.fields = fields
        self.errors = [{"path": [name] if name else [], "message": why}
                       for name, why in fields.items()]


class TenantError(Invalid):
    """A request to create or change something that cannot be done; the message says why."""

    def __init__(self, message: str):
        super().__init__([message])


class RoleError(PulseboardError):
    """A change of members that may not be made; `status` is 400, 403 or 404."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class DestinationRefused(PulseboardError, ValueError):
    """An alert destination we will not send to (private address, bad URL, unresolvable host)."""

    status = 400


# ---- ingestion -----------------------------------------------------------------------------

class IngestError(PulseboardError):
    """A request ingestion refuses; carries the HTTP status and the envelope's parts."""

    def __init__(self, status: int, message: str, errors: list | None = None,
                 retry_after: int | None = None, invalid: int = 0, reason: str | None = None):
        super().__init__(message)
        self.status = status
        self.errors = errors
        self.retry_after = retry_after
        self.invalid = invalid
        self.reason = reason  # the metrics' rejection reason, when the status does not say it

    @property
    def headers(self) -> dict[str, str]:  # (the enqueue sets retry_after after the fact)
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


class RateLimited(PulseboardError):
    """A sender went over its /webhook limit; carries the 429's headers."""

    status, reason = 429, "rate_limited"

    def __init__(self, limit: str, headers: dict[str, str]):
        super().__init__(f"Rate limit exceeded: {limit}", headers=headers)


class SignatureError(PulseboardError):
    """A signed request that fails verification; the message says why."""

    reason = "signature"

    def __init__(self, status: int, message: str, unmatched: bool = False):
        super().__init__(message)
        self.status = status
        self.unmatched = unmatched  # well formed and timely, but no secret given signed it


# ---- reads and reports ---------------------------------------------------------------------

class ExportsBusy(PulseboardError):
    """The project has as many exports running as it may; retry after `retry_after` seconds."""

    status = 429

    def __init__(self, limit: int, retry_after: int):
        super().__init__(f"At most {limit} exports of a project run at once; retry later",
                         headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class IndexUnavailable(PulseboardError):
    """The property index (in Redis) cannot be read right now; retry after a few seconds."""

    status = 503

    def __init__(self):
        super().__init__("Suggestions are unavailable while Redis cannot be reached; retry "
                         "later", headers={"Retry-After": "5"})


class TooSlow(PulseboardError):
    """A report ran past the time limit set for it (see `time_limit`); the caller hands it to
    the workers, so it is never an answer of its own."""

    status = 503


class StillRunning(PulseboardError):
    """A report the workers are computing did not finish while its request waited."""

    status, title = 503, "Report still running"

    def __init__(self):
        super().__init__(self.title, ["the workers are still computing this report; ask again "
                                      "in a few seconds for its result"],
                         headers={"Retry-After": "5"})


class ReportFailed(PulseboardError):
    """The worker computing a report failed (or its job expired)."""

    status, title = 503, "Report failed"

    def __init__(self):
        super().__init__(self.title, ["the worker computing this report failed; ask again"],
                         headers={"Retry-After": "5"})


class FormatChanged(PulseboardError):
    """Celery or kombu no longer writes what webapp/ingest/message.py writes or reads: a start
    refused (never an answer to a request)."""
