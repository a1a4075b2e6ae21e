"""The fallback a user would write: dlt's REST client paging Clever into DuckDB.

Run by `warehouse.py --scenario el-vs-dlt` (every snapshot stream of every district, parquet)
inside a virtual environment that has dlt (it is not a dependency of this project). It pages
`/v3.1/<stream>` at the same page size as the tap, following Clever's `links[rel=next]`, once
per district token, and loads the inner records into a DuckDB file with dlt's extract /
normalize / load steps. Each page is yielded whole (dlt's first performance advice) and nested
objects stay JSON columns (`max_table_nesting=0`), as in tap-clever's raw tables.

    /tmp/dlt-venv/bin/python benchmarks/dlt_clever_users.py --base-url URL \\
        --token TOKEN1 --token TOKEN2 --streams all --loader-file-format parquet \\
        --database /tmp/dlt.duckdb --summary /tmp/dlt-summary.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import BaseNextUrlPaginator

#: Clever's snapshot record types (the tap's streams but events and snapshots).
SNAPSHOT_STREAMS = ("districts", "schools", "terms", "courses", "sections", "users", "resources")

# A high surrogate escape with no low one after it: an emoji a source system cut in half.
_LONE_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])")


def replace_lone_surrogates(response: Any, *args: Any, **kwargs: Any) -> Any:
    """A response hook: dlt's writers (orjson) refuse a string holding a lone surrogate, which
    the sandbox serves as real sources do; it becomes U+FFFD, as the tap makes it. Replaces
    dlt's default hook, so it raises for an error status as that one does."""
    response.raise_for_status()
    response._content = _LONE_SURROGATE.sub(rb"\\ufffd", response.content)
    return response


class CleverNextLink(BaseNextUrlPaginator):
    """Clever puts the next page's host-relative URL in `links[rel=next].uri`."""

    def update_state(self, response: Any, data: Any = None) -> None:
        links = response.json().get("links", [])
        self._next_reference = next((lk["uri"] for lk in links if lk.get("rel") == "next"), None)
        if not data:
            self._next_reference = None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument(
        "--token", required=True, action="append", help="a district token (repeat for more)"
    )
    parser.add_argument("--database", required=True)
    parser.add_argument("--page-size", type=int, default=10000)
    parser.add_argument(
        "--streams", default="users", help="comma-separated streams, or `all` (snapshot streams)"
    )
    parser.add_argument(
        "--loader-file-format", help="e.g. parquet (default: the destination's, insert_values)"
    )
    parser.add_argument(
        "--parallelized", action="store_true", help="extract the streams in parallel threads"
    )
    parser.add_argument("--summary", help="write row counts and step times here as JSON")
    args = parser.parse_args()
    streams = SNAPSHOT_STREAMS if args.streams == "all" else tuple(args.streams.split(","))

    # One client for every district: the token goes with each paginate() (which pages with its
    # own copy of the paginator).
    client = RESTClient(base_url=args.base_url, paginator=CleverNextLink(), data_selector="data")

    def pages(stream: str) -> Iterator[list[dict[str, Any]]]:
        for token in args.token:
            for page in client.paginate(
                f"/v3.1/{stream}",
                params={"limit": args.page_size},
                auth=BearerTokenAuth(token),
                hooks={"response": [replace_lone_surrogates]},
            ):
                yield [item["data"] for item in page]

    resources = [
        dlt.resource(
            pages(stream),
            name=stream,
            primary_key="id",
            write_disposition="replace",
            # Nested objects stay JSON (as in tap-clever's raw tables): dlt's fastest setting.
            max_table_nesting=0,
            parallelized=args.parallelized,
        )
        for stream in streams
    ]
    pipeline = dlt.pipeline(
        pipeline_name="clever_benchmark",
        destination=dlt.destinations.duckdb(args.database),
        dataset_name="raw_clever",
        pipelines_dir=args.database + ".dlt",
    )
    run_options = {"loader_file_format": args.loader_file_format} if args.loader_file_format else {}
    info = pipeline.run(resources, **run_options)
    trace = pipeline.last_trace
    rows = dict(trace.last_normalize_info.row_counts)
    summary = {
        "row_counts": {stream: rows.get(stream, 0) for stream in streams},
        "step_seconds": {
            step.step: (step.finished_at - step.started_at).total_seconds()
            for step in trace.steps
            if step.finished_at
        },
        "loader_file_format": args.loader_file_format,
        "parallelized": args.parallelized,
        "load_ids": list(info.loads_ids),
    }
    if args.summary:
        Path(args.summary).write_text(json.dumps(summary))
    print(f"dlt loaded {summary['row_counts']} ({info.loads_ids})", file=sys.stderr)


if __name__ == "__main__":
    main()
