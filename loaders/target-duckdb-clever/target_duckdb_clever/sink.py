"""One stream's sink: RECORDs staged to a JSON-lines file, BATCH files handed to DuckDB as they are.

Both paths end in `loading.load_files`: one transaction per drain (RECORDs) or per BATCH
message, after which the host target may emit the STATE that the data covers.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import duckdb
from singer_sdk.helpers.conform import DatetimeErrorTreatmentEnum
from singer_sdk.sinks import BatchSink
from typing_extensions import override

from target_duckdb_clever import sql_text
from target_duckdb_clever.batch_files import BatchFiles
from target_duckdb_clever.column_types import table_columns
from target_duckdb_clever.errors import LoaderError
from target_duckdb_clever.loading import LoadPlan, LoadResult, load_files
from target_duckdb_clever.staging import StagingFile
from target_duckdb_clever.validation import RecordValidator, describe_key
from target_duckdb_clever.warehouse import prepare_table

if TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding
    from singer_sdk.sinks import Sink
    from singer_sdk.sinks.core import BaseJSONSchemaValidator
    from singer_sdk.target_base import Target

_STAGING = "staging_file"  # the key of a batch context holding its StagingFile


class LoaderHost(Protocol):
    """What a sink needs from the target it belongs to."""

    connection: duckdb.DuckDBPyConnection
    staging_dir: Path

    def drain_one(self, sink: Sink) -> None: ...

    def note_commit(self) -> None:
        """Data was committed: a STATE that arrives now may be emitted."""


def _utc_now() -> datetime.datetime:
    # Naive UTC, as the TIMESTAMP columns hold it.
    return datetime.datetime.now(tz=datetime.UTC).replace(tzinfo=None)


class DuckDBSink(BatchSink):
    """Loads one stream into `<default_target_schema>.<stream>`, upserting on its key."""

    #: Records staged before a drain when `batch_size_rows` is unset: they wait on disk, not in
    #: memory, so a drain can be large (each drain is one DuckDB transaction).
    MAX_SIZE_DEFAULT = 100_000

    @override
    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict[str, Any],
        key_properties: Sequence[str] | None,
    ) -> None:
        self.record_validator: RecordValidator | None = None
        super().__init__(target, stream_name, schema, key_properties)
        # The target is TargetDuckDBClever (it names this class as its sink); typed by what a
        # sink uses of it, so that this module need not import the target's.
        self.host = cast("LoaderHost", target)
        self.table_schema = str(self.config.get("default_target_schema") or "main")
        self.table = sql_text.table_name(self.table_schema, stream_name)
        self.column_types: dict[str, str] = {}

    @override
    def setup(self) -> None:
        super().setup()
        if not self.key_properties and self.config.get("primary_key_required", True):
            raise LoaderError(
                f"{self.stream_name}: the SCHEMA message has no key_properties, so records "
                "cannot be upserted (set primary_key_required to false to append them)"
            )
        self.column_types = prepare_table(
            self.host.connection,
            self.table_schema,
            self.stream_name,
            table_columns(self.schema),
            self.key_properties,
        )

    @override
    def _parse_timestamps_in_record(
        self,
        record: dict[str, Any],
        schema: dict[str, Any],
        treatment: DatetimeErrorTreatmentEnum,
    ) -> None:
        # Left to DuckDB: it parses date-time text when it loads the staged file, with the same
        # rules and the same bad-value policy (NULL and a warning) as for a BATCH file's. The
        # SDK's per-field Python parse took a third of the RECORD path's time, then the value
        # had to be re-encoded as text. Private SDK hook: pinned by
        # tests/loader/test_sdk_contract.py.
        return

    @override
    def get_validator(self) -> BaseJSONSchemaValidator | None:
        if not self.validate_schema:
            return None
        self.record_validator = RecordValidator(
            self.schema, stream=self.stream_name, key_properties=self.key_properties
        )
        return self.record_validator

    # RECORD path

    @override
    def start_batch(self, context: dict[str, Any]) -> None:
        # Any stream name is a table name, not always a file name ("a/b"): keep the safe part.
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.stream_name)
        path = self.host.staging_dir / f"{safe}-{context['batch_id']}.jsonl"
        context[_STAGING] = StagingFile(path)

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        staging: StagingFile = context[_STAGING]
        try:
            staging.append(record)
        except UnicodeEncodeError as error:
            raise LoaderError(
                f"{self.stream_name} record ({describe_key(record, self.key_properties)}): "
                f"a string is not valid Unicode ({error.reason})"
            ) from None

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        staging: StagingFile | None = context.pop(_STAGING, None)
        if staging is None:
            return
        staging.close()
        try:
            result = load_files(
                self.host.connection,
                self._plan(defaults={}),
                [staging.path],
                compression="none",
                describe=lambda _: f"{staging.records} staged record(s)",
            )
        finally:
            staging.remove()
        self._report(result)

    # BATCH path

    @override
    def process_batch_files(self, encoding: BaseBatchFileEncoding, files: Sequence[str]) -> None:
        # Records staged earlier for this stream come first: a file's record wins over them.
        self.host.drain_one(self)
        arrived = _utc_now()
        batch = BatchFiles.from_message(
            self.stream_name, encoding.format, encoding.compression, files
        )
        if self.record_validator is not None:
            for path, number, record in batch.records():
                self.record_validator.check(record, where=f"batch file {path} line {number}")
        # What RECORD messages carry per record, a BATCH file's lines do not: its rows get
        # the time the BATCH message arrived (see the README's metadata section).
        defaults: dict[str, Any] = {
            "_sdc_extracted_at": arrived,
            "_sdc_received_at": arrived,
            "_sdc_sequence": int(arrived.replace(tzinfo=datetime.UTC).timestamp() * 1000),
            "_sdc_sync_started_at": self.sync_started_at,
        }
        result = load_files(
            self.host.connection,
            self._plan(defaults=defaults),
            batch.paths,
            compression=batch.compression,
        )
        self.record_counter_metric.increment(result.rows)
        self._report(result)
        if not self.config.get("keep_batch_files", False):
            batch.remove()

    # Both paths

    def _plan(self, *, defaults: dict[str, Any]) -> LoadPlan:
        metadata = self.include_sdc_metadata_properties
        return LoadPlan(
            stream=self.stream_name,
            table=self.table,
            columns=self.column_types,
            key=tuple(self.key_properties),
            defaults={k: v for k, v in defaults.items() if k in self.column_types},
            overrides={"_sdc_batched_at": _utc_now()} if metadata else {},
            hard_delete=bool(self.config.get("hard_delete", False)),
        )

    def _report(self, result: LoadResult) -> None:
        self.host.note_commit()
        for column, bad in result.bad_values.items():
            self.logger.warning(
                "%s: %d value(s) of column %s are not a valid %s and were stored as NULL "
                "(the first: %r, key %s, %s)",
                self.stream_name,
                bad.count,
                column,
                self.column_types[column],
                bad.first_value[:200],
                bad.first_key,
                bad.first_where,
            )
