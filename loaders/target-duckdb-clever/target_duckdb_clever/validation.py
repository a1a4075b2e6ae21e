"""Record validation (`validate_records`) that stops the load with one line saying what is wrong.

The SDK's own validator is used (jsonschema, formats checked: `date-time` needs the
rfc3339-validator package, a dependency of this one); only its failure is reported differently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jsonschema.exceptions import ValidationError, best_match
from singer_sdk.sinks.core import JSONSchemaValidator
from typing_extensions import override

from target_duckdb_clever.errors import RecordRejected

_MAX_PROBLEM_CHARS = 300


class RecordValidator(JSONSchemaValidator):
    """The SDK's JSON-schema validator, failing with a `RecordRejected` naming stream and key."""

    def __init__(
        self, schema: dict[str, Any], *, stream: str, key_properties: Sequence[str]
    ) -> None:
        super().__init__(schema, validate_formats=True)
        self.stream = stream
        self.key_properties = tuple(key_properties)

    @override
    def validate(self, record: dict[str, Any]) -> None:
        self.check(record, where="record")

    def check(self, record: Mapping[str, Any], *, where: str) -> None:
        """Raise `RecordRejected` if `record` does not match; `where` says where it came from."""
        error = best_match(self.validator.iter_errors(record))
        if error is not None:
            raise RecordRejected(
                f"{self.stream} {where} ({describe_key(record, self.key_properties)}): "
                f"{_problem(error)}"
            )


def describe_key(record: Mapping[str, Any], key_properties: Sequence[str]) -> str:
    """`id='abc'` (every key property), or `no key` for a keyless stream."""
    if not key_properties:
        return "no key"
    return ", ".join(f"{name}={record.get(name)!r}" for name in key_properties)


def _problem(error: ValidationError) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "record"
    message = " ".join(error.message.split())  # one line, even for a value with newlines
    if len(message) > _MAX_PROBLEM_CHARS:
        message = message[:_MAX_PROBLEM_CHARS] + "..."
    return f"{where}: {message}"
