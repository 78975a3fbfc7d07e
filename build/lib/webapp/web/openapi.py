"""The OpenAPI document of the HTTP API: kept as YAML beside the routes, served as JSON."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import orjson
import yaml

PATH = Path(__file__).with_name("openapi.yaml")


@cache
def document() -> dict:
    """The document, read once per process."""
    with PATH.open(encoding="utf-8") as file:
        return yaml.safe_load(file)


@cache
def document_json() -> bytes:
    return orjson.dumps(document())
