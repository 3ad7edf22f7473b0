"""The session model fed hand-made frames: attribution under each numbering, and every anomaly."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from flushscope.core.anomalies import AnomalyKind, Severity
from flushscope.core.frames import Direction, Frame, meta_text
from flushscope.core.session import ContextState, SegmentState, Session, SessionObserver, Thresholds, rebuild
from session_wire import AUDIO, Wire


def two_segments(wire: Wire, first_id: int | None, second_id: int | None, close_ids: tuple[int, int]) -> None:
    wire.send("a", "Hello there. ")
    wire.flush("a")
    wire.send("a", "How are you?")
    wire.flush("a")
    wire.end("a")
    wire.chunk("a", first_id)
    wire.chunk("a", first_id)
    wire.flush_done("a", close_ids[0])
    wire.chunk("a", second_id)
    wire.flush_done("a", close_ids[1])
    wire.done("a")


def test_documented_numbering_attributes_each_chunk_to_its_transcript() -> None:
    wire = Wire()
    two_segments(wire, 1, 2, (1, 2))
    ctx = wire.session.contexts[0]
    assert ctx.base == 1
    assert ctx.state is ContextState.DONE
    first, second = ctx.segments[0], ctx.segments[1]
    assert (first.flush_id, first.text, first.chunk_count) == (1, "Hello there. ", 2)
    assert (second.flush_id, second.text, second.chunk_count) == (2, "How are you?", 1)
    assert first.state is SegmentState.CLOSED and second.state is SegmentState.CLOSED
    assert first.audio() == AUDIO * 2
    assert first.audio_seconds == pytest.approx(0.2)
    assert second.start_sample == 4800
    assert wire.session.anomalies == []


def test_zero_based_numbering_is_learnt_from_the_first_flush_id() -> None:
    wire = Wire()
    two_segments(wire, 0, 1, (0, 1))
    ctx = wire.session.contexts[0]
    assert ctx.base == 0
    assert [s.chunk_count for s in ctx.segments[:2]] == [2, 1]
    assert [s.flush_id for s in ctx.segments[:2]] == [0, 1]
    assert wire.session.anomalies == []


def test_chunks_without_flush_id_go_to_the_oldest_open_segment_and_are_flagged() -> None:
    wire = Wire()
    wire.send("a", "Hello there. ")
    wire.chunk("a", None)  # before any flush was sent: some servers do this
    wire.flush("a")
    wire.chunk("a", None)
    wire.flush_done("a", 1)
    wire.send("a", "Second.")
    wire.end("a")
    wire.chunk("a", 2)
    wire.done("a")
    ctx = wire.session.contexts[0]
    assert ctx.base == 1
    assert [s.chunk_count for s in ctx.segments[:2]] == [2, 1]
    assert ctx.segments[0].unnumbered_chunks == 2
    missing = [a for a in wire.session.anomalies if a.kind is AnomalyKind.MISSING_FLUSH_ID]
    assert len(missing) == 1 and len(missing[0].frames) == 2  # folded
    assert missing[0].severity is Severity.INFO  # the first one came before any flush


def test_flush_done_per_input_opens_server_segments_and_is_reported() -> None:
    wire = Wire()
    wire.send("a", "One. ")
    wire.chunk("a", 1)
    wire.flush_done("a", 1)
    wire.send("a", "Two.")
    wire.chunk("a", 2)
    wire.flush_done("a", 2)
    wire.end("a")
    wire.done("a")
    ctx = wire.session.contexts[0]
    assert [(s.text, s.chunk_count) for s in ctx.segments[:2]] == [("One. ", 1), ("Two.", 1)]
    assert wire.kinds().count(AnomalyKind.FLUSH_DONE_UNREQUESTED) == 2


def test_late_chunk_after_flush_done() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.chunk("a", 1)
    wire.flush_done("a", 1)
    late = wire.chunk("a", 1)
    ctx = wire.session.contexts[0]
    assert ctx.segments[0].chunk_count == 2
    (anomaly,) = wire.session.anomalies
    assert anomaly.kind is AnomalyKind.CHUNK_AFTER_FLUSH_DONE
    assert anomaly.frames == [late.index] and anomaly.flush_id == 1


def test_skipped_and_backwards_flush_ids() -> None:
    wire = Wire()
    for text in ("A. ", "B. ", "C. "):
        wire.send("a", text)
        wire.flush("a")
    wire.chunk("a", 1)
    wire.flush_done("a", 1)
    wire.flush_done("a", 3)
    wire.flush_done("a", 2)
    kinds = wire.kinds()
    assert AnomalyKind.FLUSH_ID_SKIPPED in kinds
    assert AnomalyKind.FLUSH_ID_BACKWARDS in kinds


def test_done_while_a_flush_is_pending_and_missing_done_timeout() -> None:
    wire = Wire(Session(Thresholds(flush_done_s=5, done_s=5)))
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.chunk("a", 1)
    wire.done("a")
    assert AnomalyKind.DONE_WHILE_FLUSH_PENDING in wire.kinds()
    wire.send("b", "Hello. ")
    wire.end("b")
    wire.chunk("b", 1)
    wire.session.check_timeouts(wire.t + 1)
    assert AnomalyKind.DONE_TIMEOUT not in wire.kinds()
    wire.session.check_timeouts(wire.t + 6)
    assert AnomalyKind.DONE_TIMEOUT in wire.kinds()


def test_flush_done_timeout_is_noticed_by_later_frames_alone() -> None:
    wire = Wire(Session(Thresholds(flush_done_s=2)))
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.send("b", "Other. ")
    wire.chunk("b", 1, dt=3.0)  # time moves on with frames of another context
    (anomaly,) = [a for a in wire.session.anomalies if a.kind is AnomalyKind.FLUSH_DONE_TIMEOUT]
    assert anomaly.context_id == "a"


def test_frames_after_done_for_unknown_and_cancelled_contexts() -> None:
    wire = Wire()
    wire.send("a", "Hello. ", cont=False)
    wire.chunk("a", 1)
    wire.done("a")
    wire.chunk("a", 1)
    wire.chunk("zzz", 1)
    wire.send("c", "Bye. ")
    wire.cancel("c")
    wire.chunk("c", 1)
    kinds = wire.kinds()
    assert AnomalyKind.AFTER_DONE in kinds
    assert AnomalyKind.UNKNOWN_CONTEXT in kinds
    after_cancel = [a for a in wire.session.anomalies if a.kind is AnomalyKind.AFTER_CANCEL]
    assert after_cancel and after_cancel[0].severity is Severity.INFO
    assert wire.session.contexts[1].state is ContextState.CANCELLED


def test_bad_audio_bad_frames_and_errors_keep_everything_recorded() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.chunk("a", 1, audio=b"\x00\x01\x02")  # 3 bytes of 16-bit audio
    wire.recv(
        {"type": "chunk", "context_id": "a", "status_code": 206, "done": False, "data": "@@@", "flush_id": 1}
    )
    wire.recv("{not json")
    wire.recv({"type": "mystery", "context_id": "a"})
    wire.recv({"type": "chunk", "done": False, "data": ""})
    wire.recv({"type": "flush_done", "context_id": "a", "flush_id": "one"})
    wire.recv(
        {"type": "error", "context_id": "a", "status_code": 400, "done": True,
         "error": "transcript empty or contains only punctuation: first transcript for WS is empty"}
    )  # fmt: skip
    kinds = wire.kinds()
    for kind in (
        AnomalyKind.PARTIAL_SAMPLE,
        AnomalyKind.BAD_BASE64,
        AnomalyKind.MALFORMED_FRAME,
        AnomalyKind.UNKNOWN_TYPE,
        AnomalyKind.MISSING_CONTEXT_ID,
        AnomalyKind.SERVER_ERROR,
    ):
        assert kind in kinds, kind
    error = next(a for a in wire.session.anomalies if a.kind is AnomalyKind.SERVER_ERROR)
    assert "Likely cause" in error.message and "first transcript" in error.message
    assert wire.session.contexts[0].state is ContextState.FAILED
    assert len(wire.session.frames) == 8  # nothing dropped


def test_context_reuse_after_done_starts_a_new_context() -> None:
    wire = Wire()
    wire.send("a", "Hello. ", cont=False)
    wire.done("a")
    wire.send("a", "Again. ", cont=False)
    assert len(wire.session.contexts) == 2
    assert AnomalyKind.CONTEXT_REUSED in wire.kinds()


def test_stall_inside_a_segment_but_not_between_transcripts() -> None:
    wire = Wire(Session(Thresholds(stall_s=0.5)))
    wire.send("a", "Hello. ")
    wire.chunk("a", 1)
    wire.send("a", "More text, sent much later. ", dt=2.0)
    wire.chunk("a", 1)  # the wait was for the client's text: no stall
    assert AnomalyKind.STALL not in wire.kinds()
    wire.chunk("a", 1, dt=0.9)
    assert AnomalyKind.STALL in wire.kinds()


def test_connection_close_fails_open_contexts() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.session.add_text(wire.t + 0.1, 1, Direction.META, meta_text("close", code=1006, reason=""))
    assert wire.session.contexts[0].state is ContextState.FAILED
    assert AnomalyKind.CONNECTION_LOST in wire.kinds()


def test_connect_event_names_the_connection_and_its_client() -> None:
    session = Session()
    session.add_text(0.0, 1, Direction.META, meta_text("connect", url="ws://h/tts/websocket"))
    session.add_text(
        0.1,
        2,
        Direction.META,
        meta_text("connect", url="ws://u/tts/websocket", client="cartesia-python/4.2.0"),
    )
    assert [(c.number, c.url, c.client) for c in session.connections.values()] == [
        (1, "ws://h/tts/websocket", None),
        (2, "ws://u/tts/websocket", "cartesia-python/4.2.0"),
    ]


def test_chunk_frames_keep_text_without_audio_and_can_rebuild_it() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    original = wire.chunk("a", 1)
    session = wire.session
    stored = session.frames[original.index]
    assert len(stored.text) < 200
    assert '"data": "<4800 bytes>"' in session.frame_text(original.index)
    full = json.loads(session.frame_text(original.index, elide_audio=False))
    assert base64.b64decode(full["data"]) == AUDIO


def test_rebuilding_from_frames_gives_the_same_model() -> None:
    wire = Wire()
    two_segments(wire, 1, 2, (1, 2))
    wire.chunk("zzz", 1)
    frames = [
        Frame(f.index, f.t, f.conn, f.dir, wire.session.frame_text(f.index, elide_audio=False))
        for f in wire.session.frames
    ]
    again = rebuild(frames)
    assert [(c.context_id, c.state, c.base) for c in again.contexts] == [
        (c.context_id, c.state, c.base) for c in wire.session.contexts
    ]
    assert [s.audio() for s in again.segments()] == [s.audio() for s in wire.session.segments()]
    assert [(a.kind, a.frames) for a in again.anomalies] == [
        (a.kind, a.frames) for a in wire.session.anomalies
    ]
    assert (again.chunks.column("start") == wire.session.chunks.column("start")).all()


def test_observers_hear_each_change_once() -> None:
    seen: list[str] = []

    class Log(SessionObserver):
        def context_added(self, context: Any) -> None:
            seen.append("context")

        def chunk_added(self, segment: Any, row: int) -> None:
            seen.append(f"chunk{row}")

        def anomaly_added(self, anomaly: Any) -> None:
            seen.append("anomaly")

    session = Session()
    session.observers.append(Log())
    wire = Wire(session)
    wire.send("a", "Hi. ")
    wire.chunk("a", 1)
    wire.chunk("a", 1)
    wire.chunk("q", 1)
    assert seen == ["context", "chunk0", "chunk1", "anomaly"]


def test_time_to_first_audio_counts_from_when_the_server_could_start() -> None:
    wire = Wire()
    wire.send("a", "First. ")
    wire.flush("a")
    wire.send("a", "Second. ")  # sent at once, while the first segment is still being spoken
    wire.flush("a")
    wire.chunk("a", 1, dt=0.1)
    last_of_first = wire.chunk("a", 1, dt=0.5)
    wire.flush_done("a", 1)
    first_of_second = wire.chunk("a", 2, dt=0.08)
    first, second = wire.session.contexts[0].segments[:2]
    assert first.first_audio_ms == pytest.approx((first.first_audio_t - first.first_send_t) * 1000)
    expected = (first_of_second.t - last_of_first.t) * 1000
    assert second.first_audio_ms == pytest.approx(expected)
    assert second.first_audio_ms < 100


def test_chunks_between_finds_rows_by_arrival_time() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    times = [wire.chunk("a", 1, dt=0.5).t for _ in range(4)]
    rows = wire.session.chunks_between(times[1], times[3])
    assert (rows.start, rows.stop) == (1, 3)
    assert wire.session.chunks_between(times[-1] + 1, times[-1] + 2) == slice(4, 4)
