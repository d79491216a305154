"""The contract is valid OpenAPI 3.1 and documents every error's codes; the validator the
tests rely on refuses what breaks it (a check that cannot fail would prove nothing)."""
import copy
import json

import pytest
from openapi_spec_validator import validate

import contract

API = contract.Contract()
ASSET = {
    "checksum": "ab" * 32, "createdAt": "2026-01-31T09:30:00.000Z", "description": None, "durationMs": None,
    "height": 48, "id": "c" + "0" * 24, "metadata": None, "mimeType": "image/jpeg", "sizeBytes": 1234,
    "source": "upload", "status": "ready", "tags": ["night"], "title": "Harbour", "type": "image",
    "updatedAt": "2026-01-31T09:30:00.000Z", "userId": "u-alice", "visibility": "private", "width": 64,
    "variants": [{"format": "jpeg", "height": 48, "id": "c" + "1" * 24, "kind": "original", "sizeBytes": 1234,
                  "url": "https://cdn.example/u-alice/a/original/harbour.jpg?X-Amz-Signature=abc", "width": 64}],
}
JSON = {"content-type": "application/json; charset=utf-8"}
PAGE_HEADERS = {**JSON, "etag": 'W/"abc"', "cache-control": "private, no-cache"}


def problems(method, target, status, headers, value):
    body = value if isinstance(value, bytes) else json.dumps(value).encode()
    return API.problems(method, target, status, headers, body)


def error(code, message="Something."):
    return {"error": {"code": code, "message": message}}


def test_the_contract_is_valid_openapi_3_1():
    validate(API.document)
    assert API.document["openapi"].startswith("3.1")


def test_every_operation_has_an_id_and_every_error_response_lists_its_codes():
    for path, item in API.document["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue  # `parameters`, `x-served-by`
            assert operation.get("operationId"), f"{method} {path}"
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    schema = API.resolve(response)["content"]["application/json"]["schema"]
                    codes = schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"]
                    assert codes, f"{method} {path} {status}"


def test_a_conforming_page_passes():
    assert problems("GET", "/api/media?limit=2", 200, PAGE_HEADERS, {"items": [ASSET], "nextCursor": None}) == []


@pytest.mark.parametrize("change, expected", [
    (lambda asset: asset.pop("variants"), "'variants' is a required property"),
    (lambda asset: asset.update(storageKey="u/a/original/x.jpg"), "Unevaluated properties are not allowed"),
    (lambda asset: asset.update(createdAt="2026-01-31 09:30:00"), "does not match"),
    (lambda asset: asset.update(status="deleted"), "is not one of"),
    (lambda asset: asset["variants"][0].pop("url"), "'url' is a required property"),
])
def test_an_asset_that_breaks_its_schema_is_refused(change, expected):
    asset = copy.deepcopy(ASSET)
    change(asset)
    found = problems("GET", "/api/media/" + ASSET["id"], 200, JSON, asset)
    assert any(expected in problem for problem in found), found


def test_statuses_codes_headers_and_bodies_are_checked():
    target = "/api/media/" + ASSET["id"]
    assert "status not documented" in problems("GET", target, 418, JSON, error("teapot"))[0]
    assert problems("PATCH", target, 422, JSON, error("invalid_title")) == []
    assert "is not one of" in problems("PATCH", target, 422, JSON, error("invalid_prompt"))[0]
    assert "no ETag header" in problems("GET", "/api/media", 200, {**JSON, "cache-control": "private, no-cache"},
                                        {"items": [], "nextCursor": None})[0]
    assert "a body where none is documented" in problems("DELETE", target, 204, {}, b"{}")[0]
    assert "Content-Type 'text/html'" in problems("GET", target, 404, {"content-type": "text/html"}, b"<h1>404</h1>")[0]
    assert "not JSON" in problems("GET", target, 404, JSON, b"<h1>404</h1>")[0]


def test_the_rules_beyond_the_operations():
    assert problems("GET", "/api/media/a/b/c", 404, JSON, error("not_found")) == []
    assert "not 404" in problems("GET", "/api/media/a/b/c", 200, JSON, {})[0]
    assert problems("POST", "/api/media/jobs", 405, {**JSON, "allow": "GET"}, error("method_not_allowed")) == []
    assert "without an Allow header" in problems("POST", "/api/media/jobs", 405, JSON, error("method_not_allowed"))[0]
    assert problems("GET", "/api/media/%ff", 400, JSON, error("bad_request")) == []
    assert problems("PATCH", "/api/media/%ff", 400, JSON, error("bad_request")) == []
    assert problems("GET", "/api/media/%ZZ", 400, JSON, error("bad_request")) == []
    assert problems("GET", "/api/media/%ZZ", 400, {"content-type": "text/html"}, b"<html>") != []
    assert problems("GET", "/api/media", 429, {**JSON, "retry-after": "1"}, error("rate_limited")) == []
    assert "without a Retry-After" in problems("DELETE", "/api/media/c1", 429, JSON, error("rate_limited"))[0]
    assert problems("GET", "/api/media/" + "a" * 9000, 414, JSON, error("uri_too_long")) == []
    assert "not a path of the service" in problems("GET", "/api/other", 200, JSON, {})[0]


def test_static_segments_win_over_parameters_like_the_router():
    assert API.match("/api/media/jobs")[0] == "/api/media/jobs"
    assert API.match("/api/media/upload")[0] == "/api/media/upload"
    assert API.match("/api/media/c123")[0] == "/api/media/{id}"
    assert API.match("/api/owners/scene/media")[0] == "/api/owners/{ownerType}/media"
    assert API.match("/api/owners/scene/s1/media")[0] == "/api/owners/{ownerType}/{ownerId}/media"
