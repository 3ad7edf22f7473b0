"""A connection recorded by the sidecar in parts: every part is a capture that opens on its own, says what it
continues, attributes every chunk as the whole recording does, and flags exactly what the whole flags."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flushscope.cli.report import print_report
from flushscope.core.formats.recordings import open_recording
from flushscope.core.frames import Direction
from flushscope.core.model.anomalies import AnomalyKind
from flushscope.core.model.records import Segment
from flushscope.core.model.session import Session
from flushscope.core.store.capture_reader import read_capture
from flushscope.net.proxy_capture_dir import CaptureDirectory, Rotation
from session_wire import Wire

STARTED = datetime(2026, 12, 6, 11, 22, 33, 123000, tzinfo=UTC)
TARGET = "ws://127.0.0.1:9/tts/websocket?api_key=sk_in_the_url"
CONNECT = {"url": TARGET, "client": "test-agent/2.0", "remote": "127.0.0.1:5555", "port": 5555}


class Clock:
    """The recording's monotonic clock, moved by the test to each frame's time."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def conversation(wire: Wire) -> None:
    """Two interleaved contexts with flushes, word timestamps and a base-0 numbering, cancelled and ended."""
    wire.send("a", "Hello there. ")
    wire.send("b", "Good morning, ")
    wire.flush("a")
    wire.chunk("a", 1)
    wire.send("b", "my friend. ")
    wire.flush("b")
    wire.chunk("b", 0)
    wire.words("a", 1, ["Hello", "there."])
    wire.chunk("a", 1)
    wire.flush_done("a", 1)
    wire.send("a", "How are you? ")
    wire.chunk("b", 0)
    wire.flush("a")
    wire.flush_done("b", 0)
    wire.send("b", "Fine, thanks.")
    wire.end("b")
    wire.chunk("a", 2)
    wire.chunk("b", 1)
    wire.chunk("a", 2, dt=0.4)
    wire.flush_done("a", 2)
    wire.send("a", "Bye.")
    wire.end("a")
    wire.chunk("b", 1)
    wire.done("b")
    wire.chunk("a", 3)
    wire.done("a")
    wire.send("c", "Never mind.")
    wire.chunk("c", None)
    wire.cancel("c")
    wire.close()


def record_in_parts(
    tmp_path: Path, wire: Wire, rotation: Rotation, between: Callable[[Clock], None] = lambda c: None
) -> tuple[list[Path], Any]:
    """Replay the wire's frames through the sidecar's recording; the finished parts, in order, and the
    connection's summary."""
    clock = Clock()
    directory = CaptureDirectory(
        tmp_path,
        TARGET,
        secrets=["sk_in_the_url"],
        rotation=rotation,
        clock=clock,
        wall_clock=lambda: STARTED,
    )
    conn = directory.begin("test-agent/2.0")
    directory.meta(conn, "connect", **CONNECT)
    start = clock.t
    for frame in wire.session.frames:
        clock.t = start + frame.t
        between(clock)
        if frame.dir is Direction.META:
            event = frame.meta()
            directory.meta(conn, event.pop("event"), **event)
        else:
            directory.record(conn, frame.dir, frame.text)
    summary = directory.end(conn)
    directory.close()
    assert directory.problems == []
    name = "20261206T112233.123Z-test-agent-2.0-c1"
    parts = [tmp_path / f"{name}.jsonl"] + [
        tmp_path / f"{name}-part{n}.jsonl" for n in range(2, len(summary.files) + 1)
    ]
    assert [p.name for p in parts] == summary.files
    assert sorted(tmp_path.iterdir()) == sorted(parts)  # nothing left named .part
    return parts, summary


def opened(path: Path) -> Session:
    """A part as ``flushscope report`` opens it."""
    session = open_recording(path).session
    session.finish()
    return session


def whole(wire: Wire) -> Session:
    wire.session.finish()
    return wire.session


def attribution_holds(session: Session) -> None:
    """Every chunk that carries a flush_id is in the segment of that flush_id."""
    for ctx in session.contexts:
        for segment in ctx.segments:
            for frame in session.chunk_frames(segment):
                flush_id = json.loads(session.frames[frame].text).get("flush_id")
                if flush_id is not None:
                    assert segment.flush_id == flush_id, (ctx.context_id, frame)


def flush_done_times(segments: list[Segment]) -> set[tuple[str, int | None, float]]:
    return {
        (s.context.context_id, s.flush_id, round(s.flush_done_ms, 3))
        for s in segments
        if s.flush_done_ms is not None
    }


@pytest.mark.parametrize("max_bytes", [1, 700, 2_000])
def test_every_part_opens_alone_without_false_anomalies(
    tmp_path: Path, max_bytes: int, capsys: pytest.CaptureFixture[str]
) -> None:
    wire = Wire(conn=1)
    conversation(wire)
    reference = whole(wire)
    assert reference.counted_anomalies() == []

    parts, summary = record_in_parts(tmp_path, wire, Rotation(max_bytes=max_bytes))
    assert len(parts) > 2
    sessions = [opened(p) for p in parts]
    for path, session in zip(parts, sessions, strict=True):
        assert session.counted_anomalies() == [], (path.name, [a.message for a in session.anomalies])
        attribution_holds(session)
        assert print_report(session, as_json=False) == 0
        assert session.connections[1].client == "test-agent/2.0"
    capsys.readouterr()

    # Together the parts hold every frame, once and in order.
    frames = [(f.dir, f.text) for s in sessions for f in s.frames if f.dir is not Direction.META]
    assert frames == [(f.dir, f.text) for f in reference.frames if f.dir is not Direction.META]
    # A flush_done in a later part is timed from its flush in an earlier one.
    got = set().union(*(flush_done_times(list(s.segments())) for s in sessions))
    assert got == flush_done_times(list(reference.segments()))
    assert (summary.contexts, summary.segments, summary.anomalies) == (3, 6, 0)


def test_a_part_says_what_it_continues_and_what_continues_it(tmp_path: Path) -> None:
    wire = Wire(conn=1)
    conversation(wire)
    parts, _ = record_in_parts(tmp_path, wire, Rotation(max_bytes=1_500))
    loaded = [read_capture(p) for p in parts]
    for number, (path, capture) in enumerate(zip(parts, loaded, strict=True), 1):
        metas = [f.meta() for f in capture.frames if f.dir is Direction.META]
        assert capture.header.target == "ws://127.0.0.1:9/tts/websocket?api_key=REDACTED"
        assert "sk_in_the_url" not in path.read_text()
        if number == 1:
            assert capture.header.note == "recorded by flushscope proxy, connection 1"
            assert metas[0] == {"event": "connect", **CONNECT, "url": capture.header.target}
        else:
            assert capture.header.note == f"recorded by flushscope proxy, connection 1, part {number}"
            assert metas[0] == {"event": "connect", **CONNECT, "url": capture.header.target, "part": number}
            assert metas[1]["event"] == "continued"
            assert (metas[1]["part"], metas[1]["previous"]) == (number, parts[number - 2].name)
        if number < len(parts):
            assert metas[-1] == {"event": "rotated", "next": parts[number].name}
        else:
            assert metas[-1]["event"] == "close"
        assert {f.conn for f in capture.frames} == {1}


def test_a_real_anomaly_is_flagged_once_in_the_part_where_it_happens(tmp_path: Path) -> None:
    wire = Wire(conn=1)
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.chunk("a", 1)
    wire.send("a", "Again. ")  # flushed, but its flush_done never comes
    wire.flush("a")
    wire.chunk("a", 2)
    for _ in range(12):
        wire.t += 1.0
        wire.send("b", "Still talking. ")
    wire.flush_done("a", 1)
    wire.flush_done("b", 3)  # never asked for, and a skip
    wire.close()
    reference = whole(wire)
    expected = sorted(a.kind.value for a in reference.counted_anomalies())
    # Flagged while the connection went on, not when the recording ended.
    timeout = next(a for a in reference.anomalies if a.kind is AnomalyKind.FLUSH_DONE_TIMEOUT)
    assert reference.frames[-1].index not in timeout.frames

    parts, summary = record_in_parts(tmp_path, wire, Rotation(max_bytes=1))
    found = sorted(a.kind.value for p in parts for a in opened(p).counted_anomalies())
    assert found == expected
    assert summary.anomalies == len(expected)


def test_a_part_is_cut_by_age_at_the_first_frame_after_it(tmp_path: Path) -> None:
    wire = Wire(conn=1)
    for i in range(6):
        wire.t += 25.0
        wire.send("a", f"Sentence {i}. ")
    wire.end("a")
    wire.done("a")
    wire.close()
    parts, _ = record_in_parts(tmp_path, wire, Rotation(max_seconds=60.0))
    sends = [
        [f for f in read_capture(p).frames if f.dir is Direction.SEND and "Sentence" in f.text] for p in parts
    ]
    # Frames 25 s apart from the connection's start: the one at 75 s finds the first part past a minute old
    # and opens the second, the one at 150 s the third.
    assert [len(s) for s in sends] == [2, 3, 1]
    for part in parts:
        assert opened(part).counted_anomalies() == []


def test_a_continued_event_that_is_not_usable_loses_nothing_and_flags_what_it_cannot_join(
    tmp_path: Path,
) -> None:
    capture = tmp_path / "odd.jsonl"
    header = {
        "format": "flushscope-capture",
        "version": 1,
        "app": "x",
        "started": "2026-12-06T00:00:00Z",
        "target": "ws://h",
    }
    garbage: list[Any] = [
        "not an object",
        {"context_id": 5},
        {"context_id": "x", "state": "done", "request": {}, "segments": [{}]},
        {"context_id": "y", "state": "open", "request": {"transcript": 3}, "segments": [{}]},
        {"context_id": "z", "state": "open", "request": {"transcript": ""}, "segments": "many"},
        {"context_id": "w", "state": "open", "request": {"transcript": ""}, "segments": [{"state": "nope",
            "sent_s_ago": -1, "flushed_s_ago": float("nan"), "text": 7}], "base": True, "end_s_ago": "1"},
    ]  # fmt: skip
    lines = [
        json.dumps(header),
        json.dumps({"t": 0.0, "conn": 4, "dir": "meta", "meta": {"event": "continued", "contexts": garbage}}),
        json.dumps(
            {"t": 0.1, "conn": 4, "dir": "meta", "meta": {"event": "continued", "contexts": {"a": 1}}}
        ),
        json.dumps(
            {"t": 0.2, "conn": 4, "dir": "recv", "frame": json.dumps({"type": "done", "context_id": "x"})}
        ),
        json.dumps(
            {"t": 0.3, "conn": 4, "dir": "recv", "frame": json.dumps({"type": "done", "context_id": "w"})}
        ),
    ]
    capture.write_text("\n".join(lines) + "\n")
    session = opened(capture)
    assert len(session.frames) == 4
    assert [ctx.context_id for ctx in session.contexts] == ["w"]
    assert [a.kind for a in session.counted_anomalies()] == [AnomalyKind.UNKNOWN_CONTEXT]
