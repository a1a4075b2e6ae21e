"""The loader's own errors: each one is reported as a single line naming what failed."""

from __future__ import annotations


class LoaderError(Exception):
    """A load that cannot go on; the message is the whole report (no traceback needed)."""


class RecordRejected(LoaderError):
    """A record failed validation (`validate_records`): names the stream, its key, the problem.

    Deliberately not the SDK's `InvalidRecord`: the SDK logs that one with a traceback and, with
    `fail_on_record_validation_exception` off, would skip the record instead of stopping.
    """


class BatchFileError(LoaderError):
    """A BATCH message's file is missing, unreadable, or not JSON lines."""
