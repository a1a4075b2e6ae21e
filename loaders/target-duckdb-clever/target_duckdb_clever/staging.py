"""Records of the RECORD path, appended to a JSON-lines file that DuckDB reads at drain time.

A batch of records never sits in memory decoded: each record is encoded as it arrives and
written through a buffered file, so the loader's memory does not grow with `batch_size_rows`.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import msgspec


def _encode_other(value: Any) -> str:
    # msgspec writes datetimes, Decimals and UUIDs itself; anything else (a type a stream map
    # might produce) goes in as its text.
    return str(value)


# Numbers as numbers: the SDK's msgspec reader hands floats over as Decimals.
_ENCODER = msgspec.json.Encoder(enc_hook=_encode_other, decimal_format="number")


class StagingFile:
    """One drain's worth of records of one stream, on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.records = 0
        self._buffer = bytearray()
        self._file: IO[bytes] = path.open("wb")

    def append(self, record: dict[str, Any]) -> None:
        """Encode one record as a line (raises UnicodeEncodeError on a lone surrogate)."""
        _ENCODER.encode_into(record, self._buffer, -1)
        self._buffer += b"\n"
        self.records += 1
        if len(self._buffer) >= 1 << 20:
            self._file.write(self._buffer)
            self._buffer.clear()

    def close(self) -> None:
        """Flush and close; DuckDB reads the file by name afterwards."""
        if not self._file.closed:
            self._file.write(self._buffer)
            self._buffer.clear()
            self._file.close()

    def remove(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)
