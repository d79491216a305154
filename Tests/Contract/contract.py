"""The API contract (Sources/MediaAPI/openapi.yaml) as a response validator.

`Contract.problems(method, target, status, headers, body)` lists how one response breaks
the contract (empty: it conforms). It finds the operation the way the service's router
does (static segments win over parameters, position by position), then checks the status
is documented, the required headers are there, and the body has a documented media type
and matches its JSON Schema (2020-12, the dialect of OpenAPI 3.1). Beyond the operations
it applies the rules the contract's description states: an unlisted path answers 404
`not_found`, an unlisted method 405 `method_not_allowed` with `Allow`, any request may
answer 400 `bad_request` for a path that is not valid percent-encoded UTF-8 (nginx's
JSON 400 for a `%` that starts no escape), 414 `uri_too_long`, and nginx's 429
`rate_limited` with `Retry-After`.
"""
import json
import os
import re
import subprocess
from urllib.parse import urlsplit

import jsonschema
import referencing
from referencing.jsonschema import DRAFT202012

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = "urn:media-openapi"
# A `%` that starts no escape: nginx refuses the request line itself.
INVALID_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
# What nginx/media.conf sends to the service; any other path is the host app's.
SERVICE_PATH = re.compile(r"^/api/media(/|$)|^/api/owners/[^/]+(/[^/]+)?/media(/|$)")


def is_service_path(target):
    return SERVICE_PATH.match(urlsplit(target).path) is not None


def load_document():
    """The contract as nginx serves it (rendered by scripts/openapi-json)."""
    rendered = subprocess.run(["/usr/bin/python3", os.path.join(REPO, "scripts", "openapi-json")],
                              check=True, capture_output=True, text=True)
    return json.loads(rendered.stdout)


def pointer(*parts):
    return "#/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)


class Contract:
    def __init__(self, document=None):
        self.document = document or load_document()
        self.registry = referencing.Registry().with_resource(BASE, DRAFT202012.create_resource(self.document))
        self.templates = []
        for template, item in self.document["paths"].items():
            segments = [s for s in template.split("/") if s]
            self.templates.append((template, segments, item))
        self.validators = {}

    def lookup(self, location):
        return self.registry.resolver(BASE).lookup(BASE + location).contents

    def resolve(self, node):
        """Follows a `$ref` to a component (responses, headers), as often as needed."""
        while "$ref" in node:
            node = self.lookup(node["$ref"])
        return node

    def located(self, location):
        """The pointer of what `location` holds, through `$ref`s (a shared response)."""
        while "$ref" in (node := self.lookup(location)):
            location = node["$ref"]
        return location

    def match(self, path):
        """(template, path item) for a request path; None when no template matches."""
        segments = [s for s in path.split("/") if s]
        best = None
        for template, pattern, item in self.templates:
            if len(pattern) != len(segments):
                continue
            rank = []
            for expected, actual in zip(pattern, segments):
                if expected.startswith("{"):
                    rank.append(1)
                elif expected == actual:
                    rank.append(0)
                else:
                    break
            else:
                if best is None or rank < best[0]:
                    best = (rank, template, item)
        return None if best is None else best[1:]

    def validator(self, location):
        if location not in self.validators:
            self.validators[location] = jsonschema.Draft202012Validator(
                {"$ref": BASE + location}, registry=self.registry,
                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        return self.validators[location]

    def schema_problems(self, location, value):
        return [f"body{''.join(f'[{p!r}]' for p in error.absolute_path)}: {error.message[:300]}"
                for error in self.validator(location).iter_errors(value)]

    def problems(self, method, target, status, headers, body):
        """How one response breaks the contract. `headers`: lower-case names; `body`: bytes."""
        headers = {name.lower(): value for name, value in headers.items()}
        path = urlsplit(target).path
        if INVALID_ESCAPE.search(path):
            # nginx refuses to decode it before choosing a location, in the API's JSON shape.
            if status == 400 and error_code(body) == "bad_request":
                return self.schema_problems(pointer("components", "schemas", "Error"), parse_json(body))
            return [f"a path with an invalid %-escape answered {status} {body[:100]!r}, not a JSON 400 bad_request"]
        if not is_service_path(path):
            return [f"{path} is not a path of the service"]
        for any_status, code in ((429, "rate_limited"), (414, "uri_too_long")):
            if status == any_status and error_code(body) == code:
                found = self.schema_problems(pointer("components", "schemas", "Error"), parse_json(body))
                if status == 429 and "retry-after" not in headers:
                    found.append("429 rate_limited without a Retry-After header")
                return found
        matched = self.match(path)
        if matched is None:
            return self.rule_problems("an unlisted path", 404, "not_found", status, headers, body)
        template, item = matched
        operation_method = "get" if method.upper() == "HEAD" and "head" not in item else method.lower()
        if operation_method not in item:
            found = self.rule_problems(f"{method} on {template}", 405, "method_not_allowed", status, headers, body)
            if not found and "allow" not in headers:
                found.append("405 without an Allow header")
            return found
        if status == 400 and error_code(body) == "bad_request":
            return []  # the path's percent-encoding: any operation (the router refuses it first)
        return self.operation_problems(template, operation_method, status, headers, body,
                                       skip_body=method.upper() == "HEAD")

    def rule_problems(self, what, expected_status, expected_code, status, headers, body):
        if status == 400 and error_code(body) == "bad_request":
            return []
        if status != expected_status:
            return [f"{what} answered {status}, not {expected_status}"]
        if error_code(body) != expected_code:
            return [f"{what}: error code {error_code(body)!r}, not {expected_code!r}: {body[:200]!r}"]
        return self.schema_problems(pointer("components", "schemas", "Error"), parse_json(body))

    def operation_problems(self, template, method, status, headers, body, skip_body):
        responses = self.document["paths"][template][method]["responses"]
        key = next((k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None)
        where = f"{method.upper()} {template} {status}"
        if key is None:
            return [f"{where}: status not documented (documented: {', '.join(sorted(responses))})"]
        response = self.resolve(responses[key])
        problems = []
        for name, header in response.get("headers", {}).items():
            header = self.resolve(header)
            value = headers.get(name.lower())
            if value is None:
                if header.get("required"):
                    problems.append(f"{where}: no {name} header")
            elif "schema" in header and not jsonschema.Draft202012Validator(header["schema"]).is_valid(value):
                problems.append(f"{where}: {name} header {value!r} does not match {header['schema']}")
        if skip_body:
            return problems
        content = response.get("content")
        if not content:
            if body:
                problems.append(f"{where}: a body where none is documented ({len(body)} bytes)")
            return problems
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in content:
            return problems + [f"{where}: Content-Type {media_type!r}, documented: {', '.join(content)}"]
        if media_type == "application/json" and "schema" in content[media_type]:
            value = parse_json(body)
            if value is NOT_JSON:
                return problems + [f"{where}: the body is not JSON: {body[:200]!r}"]
            location = self.located(pointer("paths", template, method, "responses", key))
            location += pointer("content", media_type, "schema")[1:]
            problems += [f"{where}: {p}" for p in self.schema_problems(location, value)]
        return problems


NOT_JSON = object()


def parse_json(body):
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return NOT_JSON


def error_code(body):
    value = parse_json(body)
    if isinstance(value, dict) and isinstance(value.get("error"), dict):
        return value["error"].get("code")
    return None
