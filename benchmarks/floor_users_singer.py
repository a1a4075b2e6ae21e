"""Floor of the `one-district` scenario: a minimal Singer writer for one district's users.

What a tight standalone script doing the tap's job on the `users` stream would do, and nothing
more: page `/v3.1/users?limit=N` with urllib (following `links[rel=next]`), decode each page
with orjson, and write the Singer messages the tap writes to stdout: one SCHEMA line, one
`{"type":"RECORD","stream":"users","record":{...},"time_extracted":"..."}` line per record
(with `district` and `_clever_snapshot_id` set on the record, as the tap does), then one STATE
line. The cyclic garbage collector is off (the records hold no cycles; `--gc` keeps it on, as
a plain script would: each decoded page of millions of objects then costs collections), one
write per page.

`benchmarks/scenarios.py --scenario one-district` runs it as a subprocess, stdout to
/dev/null, and times it whole (start-up included), like the tap. By hand:

    .venv/bin/python benchmarks/floor_users_singer.py --base-url URL --token TOKEN \
        --district DISTRICT_ID > /dev/null
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import re
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson

_OPTIONS = orjson.OPT_UTC_Z


def _fetch(url: str, token: str) -> bytes:
    """One page; a 429 waits for the rate-limit reset, 5xx retry with backoff."""
    request = urllib.request.Request(  # noqa: S310 - the sandbox URL given on the command line
        url, headers={"Authorization": f"Bearer {token}"}
    )
    for attempt in range(8):
        try:
            with urllib.request.urlopen(request, timeout=300) as response:  # noqa: S310
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 429:
                reset = float(exc.headers.get("X-RateLimit-Reset") or time.time() + 1)
                time.sleep(min(max(0.0, reset - time.time()) + 0.02, 120.0))
            elif exc.code in (500, 502, 503, 504):
                time.sleep(min(0.5 * 2**attempt, 8.0))
            else:
                raise
        except (urllib.error.URLError, OSError):
            time.sleep(min(0.5 * 2**attempt, 8.0))
    msg = f"GET {url} still failing after 8 attempts"
    raise RuntimeError(msg)


# A high surrogate escape with no low one after it: an emoji a source system cut in half.
_LONE_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])")


def _decode(body: bytes) -> Any:
    """The page, as orjson decodes it; orjson refuses a lone surrogate, which is replaced by
    U+FFFD first (as the tap does), so the records can be written as UTF-8 again."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return orjson.loads(_LONE_SURROGATE.sub(rb"\\ufffd", body))


def _next_url(base_url: str, page: dict[str, Any], page_size: int) -> str | None:
    uri = next((lk.get("uri") for lk in page.get("links") or [] if lk.get("rel") == "next"), None)
    if not uri or not page["data"]:
        return None
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if not any(key == "limit" for key, _ in query):
        query.append(("limit", str(page_size)))
    return f"{base_url}{parts.path}?{urlencode(query)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--district", required=True, help="the district id to set on records")
    parser.add_argument("--stream", default="users")
    parser.add_argument("--page-size", type=int, default=10_000)
    parser.add_argument("--schema-file", type=Path, help="JSON schema of the SCHEMA message")
    parser.add_argument("--summary", type=Path, help="write {records, requests} here as JSON")
    parser.add_argument("--gc", action="store_true", help="keep the garbage collector on")
    args = parser.parse_args()
    if not args.gc:
        gc.disable()

    base_url = args.base_url.rstrip("/")
    stream = args.stream
    out = sys.stdout.buffer
    snapshot_id = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    schema = orjson.loads(args.schema_file.read_bytes()) if args.schema_file else {}
    schema_message = {
        "type": "SCHEMA",
        "stream": stream,
        "schema": schema,
        "key_properties": ["id"],
    }
    out.write(orjson.dumps(schema_message) + b"\n")

    records = requests = 0
    url: str | None = f"{base_url}/v3.1/{stream}?limit={args.page_size}"
    while url:
        page = _decode(_fetch(url, args.token))
        requests += 1
        lines = []
        for item in page["data"]:
            record = item["data"]
            record["district"] = args.district
            record["_clever_snapshot_id"] = snapshot_id
            message = {
                "type": "RECORD",
                "stream": stream,
                "record": record,
                "time_extracted": dt.datetime.now(dt.UTC),
            }
            lines.append(orjson.dumps(message, option=_OPTIONS))
        if lines:
            out.write(b"\n".join(lines) + b"\n")
        records += len(lines)
        url = _next_url(base_url, page, args.page_size)

    state = {"bookmarks": {stream: {"partitions": [{"context": {"district": args.district}}]}}}
    out.write(orjson.dumps({"type": "STATE", "value": state}) + b"\n")
    out.flush()
    summary = json.dumps({"records": records, "requests": requests})
    if args.summary:
        args.summary.write_text(summary)
    else:
        print(summary, file=sys.stderr)


if __name__ == "__main__":
    main()
