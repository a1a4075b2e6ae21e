"""The fallback a user would write: dlt's REST client paging Clever's users into DuckDB.

Run by `compare_dlt.py` inside a virtual environment that has dlt (it is not a dependency of
this project). It pages `/v3.1/users` at the same page size as the tap, following Clever's
`links[rel=next]`, and loads the inner records into a DuckDB file with dlt's normal
extract / normalize / load steps.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import BaseNextUrlPaginator


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
    parser.add_argument("--token", required=True)
    parser.add_argument("--database", required=True)
    parser.add_argument("--page-size", type=int, default=10000)
    args = parser.parse_args()

    client = RESTClient(
        base_url=args.base_url,
        auth=BearerTokenAuth(args.token),
        paginator=CleverNextLink(),
        data_selector="data",
    )

    # Nested objects stay JSON (as in tap-clever's raw tables): dlt's fastest setting here.
    @dlt.resource(name="users", primary_key="id", write_disposition="replace", max_table_nesting=0)
    def users() -> Any:
        for page in client.paginate("/v3.1/users", params={"limit": args.page_size}):
            yield [item["data"] for item in page]

    pipeline = dlt.pipeline(
        pipeline_name="clever_users_benchmark",
        destination=dlt.destinations.duckdb(args.database),
        dataset_name="raw_clever",
        pipelines_dir=args.database + ".dlt",
    )
    info = pipeline.run(users())
    rows = pipeline.last_trace.last_normalize_info.row_counts.get("users", 0)
    print(f"dlt loaded {rows} users ({info.loads_ids})", file=sys.stderr)


if __name__ == "__main__":
    main()
