"""The JSON envelope every API answer uses: {"success", "message"?, "data"?, "errors"?}."""

from __future__ import annotations

import orjson
from flask import Response


def envelope(success: bool, status: int, message: str | None = None, data: dict | None = None,
             errors: list | None = None, headers: dict | None = None) -> Response:
    body: dict = {"success": success}
    if message is not None:
        body["message"] = message
    if data is not None:
        body["data"] = data
    if errors is not None:
        body["errors"] = errors
    return Response(orjson.dumps(body), status=status, headers=headers,
                    mimetype="application/json")


def ok(data: dict | None = None, status: int = 200, message: str | None = None) -> Response:
    return envelope(True, status, message, data)


def fail(status: int, message: str, errors: list | None = None,
         headers: dict | None = None) -> Response:
    return envelope(False, status, message, errors=errors, headers=headers)
