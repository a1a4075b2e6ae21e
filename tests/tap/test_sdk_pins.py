"""Where the tap replaces SDK behaviour, it must behave as the SDK's own code does.

`CleverStream._generate_record_messages` overrides a private SDK method (for speed), and the
tap's writer replaces the SDK's flush-per-message writer. These tests run the SDK's own code
beside the tap's on the same input, so an SDK upgrade that changes either shows up here.
"""

from __future__ import annotations

import sys
import typing as t

import pytest
from singer_sdk import Stream
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import RecordMessage, SchemaMessage, StateMessage

from tap_clever.singer_output import BufferedMsgSpecWriter
from tap_clever.tap import TapClever

USER = {
    "id": "5f0000000000000000000001",
    "district": "5f0000000000000000000a01",
    "name": {"first": "Ío", "last": "Ng"},
    "email": "io@example.org",
    "roles": {"student": {"grade": "5", "ext": {"house": "Red"}}},
    "added_later": {"kept": True},
    "_clever_snapshot_id": "2026-11-01T00:00:00.000000Z",
}


def _messages(stream: Stream, generate: t.Callable[..., t.Iterator[RecordMessage]]) -> list:
    return [
        {k: v for k, v in message.to_dict().items() if k != "time_extracted"}
        for message in generate(stream, dict(USER))
    ]


@pytest.mark.parametrize("deselect", [None, ("properties", "email")])
def test_record_messages_are_the_sdks_own(deselect: tuple[str, ...] | None) -> None:
    stream = TapClever(config={}).streams["users"]
    if deselect is not None:
        stream.metadata[deselect].selected = False

    ours = _messages(stream, type(stream)._generate_record_messages)
    sdks = _messages(stream, Stream._generate_record_messages)

    assert ours == sdks
    assert ("email" in ours[0]["record"]) is (deselect is None)


class _Stdout:
    """An unbuffered stdout (as with PYTHONUNBUFFERED) that records the size of each write."""

    def __init__(self) -> None:
        self.buffer = self
        self.written = bytearray()
        self.writes: list[int] = []

    def write(self, data: bytes) -> None:
        self.written += data
        self.writes.append(len(data))

    def flush(self) -> None:
        pass


def _write(writer_class: type[MsgSpecWriter], monkeypatch: pytest.MonkeyPatch) -> _Stdout:
    stdout = _Stdout()
    monkeypatch.setattr(sys, "stdout", stdout)
    writer = writer_class()
    writer.write_message(SchemaMessage("users", {"type": "object"}, ["id"]))
    for n in range(3):
        writer.write_message(RecordMessage("users", {"id": str(n)}))
    writer.write_message(StateMessage({"bookmarks": {}}))
    return stdout


def test_the_writer_writes_what_the_sdks_writes_and_flushes_before_each_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sdks = _write(MsgSpecWriter, monkeypatch)
    ours = _write(BufferedMsgSpecWriter, monkeypatch)

    assert ours.written == sdks.written
    lines = ours.written.splitlines(keepends=True)
    # The SCHEMA at once, then the records with the STATE that follows them: not per record.
    assert ours.writes == [len(lines[0]), len(b"".join(lines[1:]))]
