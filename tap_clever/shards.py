"""Which districts a run takes when the sync is split over parallel runs (`district_shard`).

A partner with thousands of districts runs the sync as n jobs at once (an Actions matrix,
Airflow's dynamic task mapping, Dagster partitions), job i with `district_shard: i/n`. A
district belongs to shard `hash(district id) mod n`: every district in exactly one shard, the
same one on every run, whether its token was configured or discovered, and whichever other
districts join or leave. Changing n moves districts between shards: a district new to a shard
has no bookmark in that shard's state and is read from a full snapshot, which the warehouse
takes like any resync (nothing lost, nothing doubled).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

SHARD_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class DistrictShard:
    """Shard `index` (1 to `count`) of `count`."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: object) -> DistrictShard | None:
        """The shard `text` names ("2/4"), or None if it names none."""
        match = SHARD_PATTERN.match(text) if isinstance(text, str) else None
        if match is None:
            return None
        index, count = int(match.group(1)), int(match.group(2))
        return cls(index, count) if 1 <= index <= count else None

    def holds(self, district_id: str) -> bool:
        # SHA-256, not Python's hash(): the same on every machine and run.
        digest = hashlib.sha256(district_id.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
