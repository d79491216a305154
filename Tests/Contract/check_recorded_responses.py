"""check_recorded_responses.py LOG [MINIMUM]: every API response the Swift tests received,
against the contract.

TestSupport's HTTPClient appends each response to LOG (one JSON line) when scripts/test
sets MEDIA_TEST_RESPONSE_LOG. Responses of the `_debug` routes (test hooks that exist only
with MEDIA_DEBUG_ENDPOINTS, outside the contract) are counted but not checked. Fails when
any response breaks the contract, or when fewer than MINIMUM (default 500) were checked:
a log that stopped being written must not pass.
"""
import base64
import collections
import json
import sys
from urllib.parse import urlsplit

import contract


def main(arguments):
    if not 1 <= len(arguments) <= 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    minimum = int(arguments[1]) if len(arguments) > 1 else 500
    checked, skipped, failures = 0, collections.Counter(), []
    seen = collections.Counter()
    api = contract.Contract()
    with open(arguments[0], encoding="utf-8") as log:
        for number, line in enumerate(log, 1):
            entry = json.loads(line)
            path = urlsplit(entry["target"]).path
            if path.startswith("/api/media/_debug/"):
                skipped["_debug routes"] += 1
                continue
            body = entry["body"].encode() if "body" in entry else base64.b64decode(entry["bodyBase64"])
            problems = api.problems(entry["method"], entry["target"], entry["status"], entry["headers"], body)
            checked += 1
            matched = api.match(path)
            seen[(entry["method"], matched[0] if matched else "(unlisted path)", entry["status"])] += 1
            if problems:
                failures.append((number, entry, problems))
    for (method, template, status), count in sorted(seen.items(), key=lambda item: (item[0][1], item[0][0], item[0][2])):
        print(f"  {count:5d}  {method:6s} {template} -> {status}")
    print(f"responses: {checked} checked against the contract, "
          + ", ".join(f"{count} of {what} not checked" for what, count in skipped.items()))
    for number, entry, problems in failures[:50]:
        print(f"FAIL line {number}: {entry['method']} {entry['target'][:200]} -> {entry['status']}")
        for problem in problems[:5]:
            print(f"     {problem}")
    if failures:
        print(f"responses: {len(failures)} of {checked} break the contract")
        return 1
    if checked < minimum:
        print(f"responses: only {checked} recorded (at least {minimum} expected): is MEDIA_TEST_RESPONSE_LOG written?")
        return 1
    print(f"responses: all {checked} conform")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
