"""The Postman collection in docs/ is the one generated from the OpenAPI document."""

from __future__ import annotations

import json
import re

import yaml

from webapp.dev import postman


def test_the_committed_collection_is_generated_from_the_document():
    assert postman.COLLECTION.read_text(encoding="utf-8") == postman.render(), (
        "docs/ holds an old collection: run `make postman`")


def requests_by_name(collection: dict) -> dict[tuple[str, str], dict]:
    return {(item["request"]["method"], "/" + "/".join(item["request"]["url"]["path"])): item
            for folder in collection["item"] for item in folder["item"]}


def test_every_operation_is_one_request_with_its_credentials():
    document = yaml.safe_load(postman.DOCUMENT.read_text(encoding="utf-8"))
    collection = json.loads(postman.render())
    requests = requests_by_name(collection)
    expected = {(method.upper(), re.sub(r"\{(\w+)\}", r":\1", path))
                for path, item in document["paths"].items() for method in item}
    assert set(requests) == expected
    assert requests["POST", "/webhook"]["request"]["auth"]["type"] == "apikey"
    assert requests["GET", "/events"]["request"]["auth"]["bearer"][0]["value"] == "{{readToken}}"
    assert requests["GET", "/health"]["request"]["auth"] == {"type": "noauth"}
    signed = requests["POST", "/webhook/:project"]
    assert signed["request"]["auth"] == {"type": "noauth"}
    assert "HmacSHA256" in "\n".join(signed["event"][0]["script"]["exec"])
    in_organization = requests["POST", "/webhook/:organization/:project"]
    assert [v["value"] for v in in_organization["request"]["url"]["variable"]] == [
        "{{organization}}", "{{project}}"]
    assert "HmacSHA256" in "\n".join(in_organization["event"][0]["script"]["exec"])
    timeline = requests["GET", "/users/:userId"]["request"]
    assert timeline["auth"]["bearer"][0]["value"] == "{{readToken}}"
    assert timeline["url"]["variable"][0]["value"] == ""
    body = json.loads(requests["POST", "/webhook"]["request"]["body"]["raw"])
    assert body["eventType"] == "page_view"
    segment = requests["POST", "/v1/track"]["request"]
    assert segment["auth"]["type"] == "basic"
    assert segment["auth"]["basic"][0]["value"] == "{{ingestKey}}"
    capture = requests["POST", "/capture/"]["request"]  # the key in the body, as PostHog's SDKs
    assert capture["auth"] == {"type": "noauth"}
    assert json.loads(capture["body"]["raw"])["api_key"] == "{{ingestKey}}"
    v1 = requests["POST", "/i/v1/analytics/events"]["request"]
    assert v1["auth"]["bearer"][0]["value"] == "{{ingestKey}}"
