"""The Postman collection in docs/, generated from the OpenAPI document: `make postman`.

One folder per tag, one request per operation, with the project's credentials as collection
variables (`ingestKey`, `readToken`, `annotationKey`, `signingSecret`) and a pre-request
script that signs deliveries to `/webhook/{project}` the Standard Webhooks way.
tests/unit/dev/test_postman.py checks that the committed collection is what this writes.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "webapp" / "web" / "openapi.yaml"
COLLECTION = ROOT / "docs" / "pulseboard.postman_collection.json"
SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
METHODS = ("get", "post", "put", "patch", "delete")
VARIABLES = {
    "baseUrl": "http://127.0.0.1:8000",
    "ingestKey": "",
    "readToken": "",
    "annotationKey": "",
    "signingSecret": "",
    "project": "default",
    "organization": "default",
}
AUTH = {  # security scheme -> Postman auth
    "ingestKey": {"type": "apikey", "apikey": [
        {"key": "key", "value": "X-API-Key", "type": "string"},
        {"key": "value", "value": "{{ingestKey}}", "type": "string"},
        {"key": "in", "value": "header", "type": "string"}]},
    "ingestBearer": {"type": "bearer", "bearer": [
        {"key": "token", "value": "{{ingestKey}}", "type": "string"}]},
    "readToken": {"type": "bearer", "bearer": [
        {"key": "token", "value": "{{readToken}}", "type": "string"}]},
    "annotationKey": {"type": "apikey", "apikey": [
        {"key": "key", "value": "X-API-Key", "type": "string"},
        {"key": "value", "value": "{{annotationKey}}", "type": "string"},
        {"key": "in", "value": "header", "type": "string"}]},
    "segmentWriteKey": {"type": "basic", "basic": [  # Segment's way: the key as the username
        {"key": "username", "value": "{{ingestKey}}", "type": "string"},
        {"key": "password", "value": "", "type": "string"}]},
}
SIGN = [
    "// Signs the delivery the Standard Webhooks way with the collection's signingSecret",
    "// (`flask --app webapp.wsgi projects signing-secret <project>` prints one).",
    "const secret = CryptoJS.enc.Base64.parse(",
    "    pm.collectionVariables.get('signingSecret').replace(/^whsec_/, ''));",
    "const id = 'msg_' + pm.variables.replaceIn('{{$guid}}');",
    "const timestamp = Math.floor(Date.now() / 1000).toString();",
    "const content = id + '.' + timestamp + '.' + pm.request.body.raw;",
    "const signature = CryptoJS.HmacSHA256(content, secret).toString(CryptoJS.enc.Base64);",
    "pm.request.headers.upsert({key: 'webhook-id', value: id});",
    "pm.request.headers.upsert({key: 'webhook-timestamp', value: timestamp});",
    "pm.request.headers.upsert({key: 'webhook-signature', value: 'v1,' + signature});",
]
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def resolve(document: dict, item: dict) -> dict:
    """A component a `$ref` points to (one level, as the document uses them)."""
    ref = item.get("$ref")
    if ref is None:
        return item
    node = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def example_value(schema: dict):
    if "default" in schema:
        return schema["default"]
    values = [value for value in schema.get("enum", []) if value != ""]
    return values[0] if values else ""


def request_item(document: dict, path: str, method: str, operation: dict) -> dict:
    parameters = [resolve(document, p) for p in operation.get("parameters", [])]
    # a trailing slash is kept (PostHog's paths have one)
    segments = [re.sub(r"\{(\w+)\}", r":\1", part) for part in path.lstrip("/").split("/")]
    query = [{"key": p["name"], "value": str(example_value(p.get("schema", {}))),
              "description": p.get("description", "").strip(), "disabled": True}
             for p in parameters if p["in"] == "query"]
    url = {"raw": "{{baseUrl}}/" + "/".join(segments), "host": ["{{baseUrl}}"],
           "path": segments, "query": query,
           "variable": [{"key": p["name"],  # a slug from the collection's variables
                         "value": "{{" + p["name"] + "}}" if p["name"] in VARIABLES else "",
                         "description": p.get("description", "")}
                        for p in parameters if p["in"] == "path"]}
    headers = [{"key": p["name"], "value": "", "description": p.get("description", "").strip(),
                "disabled": True}
               for p in parameters if p["in"] == "header" and p["name"] not in SIGNATURE_HEADERS]
    request = {"method": method.upper(), "header": headers, "url": url,
               "description": (operation.get("description") or operation["summary"]).strip()}
    # the first way the operation names; none when that is no header (e.g. a key in the body,
    # which the example body then carries as {{ingestKey}})
    security = operation.get("security", document.get("security", []))
    first = next(iter(security[0]), None) if security else None
    request["auth"] = AUTH.get(first, {"type": "noauth"})
    item = {"name": operation["summary"], "request": request, "response": []}
    if "requestBody" in operation:
        content = resolve(document, operation["requestBody"])["content"]
        media, body = next(iter(content.items()))
        headers.insert(0, {"key": "Content-Type", "value": media})
        request["body"] = {"mode": "raw", "raw": json.dumps(body.get("example", {}), indent=2),
                           "options": {"raw": {"language": "json"}}}
    if any(p["name"] == "webhook-signature" for p in parameters):
        item["event"] = [{"listen": "prerequest",
                          "script": {"type": "text/javascript", "exec": SIGN}}]
    return item


def collection(document: dict) -> dict:
    """The Postman collection (v2.1) of every operation in `document`."""
    info = document["info"]
    folders = {tag["name"]: {"name": tag["name"], "description": tag.get("description", ""),
                             "item": []} for tag in document.get("tags", [])}
    for path, path_item in document["paths"].items():
        for method in METHODS:
            if method in path_item:
                operation = path_item[method]
                tag = (operation.get("tags") or ["other"])[0]
                folders.setdefault(tag, {"name": tag, "item": []})["item"].append(
                    request_item(document, path, method, operation))
    return {
        "info": {"_postman_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "pulseboard-api")),
                 "name": f"{info['title']} {info['version']}",
                 "description": info.get("description", "").strip(), "schema": SCHEMA},
        "variable": [{"key": key, "value": value} for key, value in VARIABLES.items()],
        "item": [folder for folder in folders.values() if folder["item"]],
    }


def render(document_path: Path = DOCUMENT) -> str:
    with document_path.open(encoding="utf-8") as file:
        document = yaml.safe_load(file)
    return json.dumps(collection(document), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    COLLECTION.write_text(render(), encoding="utf-8")
    print(f"wrote {COLLECTION.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
