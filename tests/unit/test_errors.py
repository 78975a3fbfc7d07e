"""One exception hierarchy: every refusal of the app's is a PulseboardError defined in
webapp/errors.py, carrying its HTTP status and the problems it lists."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import webapp
from webapp import errors

ENTRY_POINTS = ("webapp.wsgi", "webapp.gunicorn_conf")  # they build or configure a server


def app_modules():
    for info in pkgutil.walk_packages(webapp.__path__, "webapp."):
        if ".migrations." not in info.name and info.name not in ENTRY_POINTS:
            yield importlib.import_module(info.name)


def test_every_exception_of_the_app_is_a_pulseboard_error_from_errors_py():
    defined = {(cls.__module__, cls.__qualname__)
               for module in app_modules()
               for _, cls in inspect.getmembers(module, inspect.isclass)
               if issubclass(cls, BaseException) and cls.__module__.startswith("webapp")
               and not cls.__name__.startswith("_")}  # private signals stay where they are used
    assert defined, "no exception classes found"
    elsewhere = {name for name in defined if name[0] != "webapp.errors"}
    assert elsewhere == set(), "exceptions defined outside webapp/errors.py"
    for _, name in defined:
        assert issubclass(getattr(errors, name), errors.PulseboardError), name


@pytest.mark.parametrize("exc, status, summary, listed", [
    (errors.BadQuery('"limit" must be a whole number'), 400, "Invalid query",
     ['"limit" must be a whole number']),
    (errors.BadReport(["a step is missing", "no such window"]), 400, "Invalid report",
     ["a step is missing", "no such window"]),
    (errors.Unauthorized("Invalid API key"), 401, "Invalid API key", []),
    (errors.NotFound("No such project for your account"), 404,
     "No such project for your account", []),
    (errors.RoleError(403, "Only an owner may grant or remove the owner role."), 403,
     "Only an owner may grant or remove the owner role.", []),
    (errors.ExportsBusy(2, 7), 429, "At most 2 exports of a project run at once; retry later",
     []),
    (errors.StillRunning(), 503, "Report still running",
     ["the workers are still computing this report; ask again in a few seconds for its "
      "result"]),
])
def test_each_refusal_carries_its_status_and_problems(exc, status, summary, listed):
    assert isinstance(exc, errors.PulseboardError)
    assert (exc.status, exc.summary, exc.problems) == (status, summary, listed)
    assert exc.errors == ([{"message": p} for p in listed] or None)


def test_bad_input_is_still_a_value_error():
    """Code that catches ValueError around parsing keeps catching the app's refusals of it."""
    for cls in (errors.BadQuery, errors.BadFilter, errors.BadReport, errors.TenantError):
        assert issubclass(cls, ValueError)


def test_an_ingest_refusal_tells_when_to_retry_whenever_that_is_known():
    refused = errors.IngestError(503, "Queue unavailable, retry later")
    assert refused.headers == {}
    refused.retry_after = 5  # the enqueue knows the app's RETRY_AFTER_SECONDS
    assert refused.headers == {"Retry-After": "5"}
