"""`python -m target_duckdb_clever`: the same as the `target-duckdb-clever` command."""

from target_duckdb_clever.target import main

main()
