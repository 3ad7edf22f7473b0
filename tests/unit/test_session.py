"""The session model fed hand-made frames: attribution under each numbering, and every anomaly."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from flushscope.core.frames import Direction, Frame, meta_text
from flushscope.core.model.anomalies import AnomalyKind, Severity
from flushscope.core.model.findings import Thresholds
from flushscope.core.model.observers import SessionObserver
from flushscope.core.model.records import ContextState, SegmentState
from flushscope.core.model.session import Session, rebuild
from session_snapshot import snapshot
from session_wire import AUDIO, Wire

Found = tuple[AnomalyKind, Severity, int | None, int | None, list[int], str]


def found(session: Session) -> list[Found]:
    """Each anomaly as (kind, severity, context number, flush_id, frames, sentence)."""
    return [
        (a.kind, a.severity, a.context_number, a.flush_id, a.frames, a.message) for a in session.anomalies
    ]


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
    assert wire.session.audio.segment(first) == AUDIO * 2
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
    assert [wire.session.chunk_frames(s) for s in ctx.segments[:2]] == [[1, 3], [7]]
    assert ctx.segments[0].unnumbered_chunks == 2
    # Folded into one; the severity is the first one's, which came before any flush.
    assert found(wire.session) == [
        (AnomalyKind.MISSING_FLUSH_ID, Severity.INFO, 1, None, [1, 3],
         "chunks without flush_id in context a, attributed by order to segment ~1 (no flush had been sent "
         "yet, as some servers do)"),
    ]  # fmt: skip


@pytest.mark.parametrize("base", [1, 0])
def test_learning_the_base_renumbers_segments_but_columns_keep_what_frames_carried(base: int) -> None:
    changed: list[tuple[int, int | None]] = []

    class Changes(SessionObserver):
        def segment_changed(self, segment: Any) -> None:
            changed.append((segment.ordinal, segment.flush_id))

    wire = Wire()
    wire.session.observers.append(Changes())
    wire.send("a", "One. ")
    wire.flush("a")
    wire.send("a", "Two. ")
    before = wire.chunk("a", None)
    wire.chunk("a", None)
    assert [s.label for s in wire.session.contexts[0].segments] == ["~1", "~2"]
    changed.clear()
    numbered = wire.chunk("a", base)
    ctx = wire.session.contexts[0]
    assert ctx.base == base
    assert [(s.flush_id, s.label) for s in ctx.segments] == [(base, str(base)), (base + 1, str(base + 1))]
    assert changed == [(0, base), (1, base + 1)]  # every segment, once, with its id known
    columns = wire.session.chunks
    assert columns.column("flush_id").tolist() == [-1, -1, base]
    assert columns.column("segment").tolist() == [0, 0, 0]
    assert columns.column("frame").tolist() == [before.index, before.index + 1, numbered.index]
    assert ctx.segments[0].unnumbered_chunks == 2
    # The sentence keeps the label the segment had when it was written.
    assert [(a.kind, a.frames, a.message) for a in wire.session.anomalies] == [
        (AnomalyKind.MISSING_FLUSH_ID, [3, 4],
         "chunks without flush_id in context a, attributed by order to segment ~1"),
    ]  # fmt: skip


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
    assert [(s.text, wire.session.chunk_frames(s), s.server_only) for s in ctx.segments] == [
        ("One. ", [1], False),
        ("Two.", [4], True),
        ("", [], True),
    ]
    unrequested = "for a segment the client never flushed (some servers close a segment per input when "
    assert found(wire.session) == [
        (AnomalyKind.FLUSH_DONE_UNREQUESTED, Severity.WARNING, 1, 1, [2],
         f"flush_done 1 in context a {unrequested}max_buffer_delay_ms is 0)"),
        (AnomalyKind.FLUSH_DONE_UNREQUESTED, Severity.WARNING, 1, 2, [5],
         f"flush_done 2 in context a {unrequested}max_buffer_delay_ms is 0)"),
    ]  # fmt: skip


def test_late_chunk_after_flush_done() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.chunk("a", 1)
    wire.flush_done("a", 1)
    late = wire.chunk("a", 1)
    ctx = wire.session.contexts[0]
    assert ctx.segments[0].chunk_count == 2
    assert late.index == 4
    assert found(wire.session) == [
        (AnomalyKind.CHUNK_AFTER_FLUSH_DONE, Severity.ERROR, 1, 1, [4],
         "a chunk for segment 1 of context a arrived after its flush_done: clients that end the segment on "
         "flush_done lose or misplace it"),
    ]  # fmt: skip


def test_skipped_and_backwards_flush_ids() -> None:
    wire = Wire()
    for text in ("A. ", "B. ", "C. "):
        wire.send("a", text)
        wire.flush("a")
    wire.chunk("a", 1)
    wire.flush_done("a", 1)
    wire.flush_done("a", 3)
    wire.flush_done("a", 2)
    wire.chunk("a", -3)
    wire.chunk("a", -3)
    segments = wire.session.contexts[0].segments
    assert [s.state for s in segments] == [SegmentState.CLOSED] * 3 + [SegmentState.OPEN]
    assert [s.flush_done_frame for s in segments] == [7, 9, 8, None]
    # Below the base: flagged, and attributed by order to the oldest segment not yet closed.
    assert [wire.session.chunk_frames(s) for s in segments] == [[6], [], [], [10, 11]]
    assert found(wire.session) == [
        (AnomalyKind.FLUSH_ID_SKIPPED, Severity.ERROR, 1, 3, [8],
         "flush_done 3 in context a where 2 was expected: 1 segment id(s) skipped, so every later chunk is off "
         "by that much"),
        (AnomalyKind.FLUSH_ID_BACKWARDS, Severity.ERROR, 1, 2, [9],
         "flush_done 2 in context a after flush_done 3: flush ids went backwards or repeated"),
        (AnomalyKind.FLUSH_ID_BACKWARDS, Severity.ERROR, 1, -3, [10, 11],
         "flush_id -3 is below the context's first segment (1)"),
    ]  # fmt: skip


def test_done_while_a_flush_is_pending_and_missing_done_timeout() -> None:
    wire = Wire(Session(Thresholds(flush_done_s=5, done_s=5)))
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.chunk("a", 1)
    wire.done("a")
    assert [s.state for s in wire.session.contexts[0].segments] == [SegmentState.ENDED] * 2
    pending = (
        AnomalyKind.DONE_WHILE_FLUSH_PENDING, Severity.ERROR, 1, 1, [1, 3],
        "done for context a while the flush of segment 1 was still waiting for its flush_done",
    )  # fmt: skip
    assert found(wire.session) == [pending]
    wire.send("b", "Hello. ")
    wire.end("b")
    wire.chunk("b", 1)
    wire.session.check_timeouts(wire.t + 1)
    assert found(wire.session) == [pending]
    wire.session.check_timeouts(wire.t + 6)
    assert found(wire.session) == [
        pending,
        (AnomalyKind.DONE_TIMEOUT, Severity.ERROR, 2, None, [],
         "no done for context b within 5 s of its end (continue: false)"),
    ]  # fmt: skip


def test_flush_done_timeout_is_noticed_by_later_frames_alone() -> None:
    wire = Wire(Session(Thresholds(flush_done_s=2, slow_first_audio_s=5)))
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.send("b", "Other. ")
    wire.chunk("b", 1, dt=3.0)  # time moves on with frames of another context
    assert found(wire.session) == [
        (AnomalyKind.FLUSH_DONE_TIMEOUT, Severity.ERROR, 1, None, [1],
         "no flush_done for segment ~1 of context a within 2 s of its flush"),
    ]  # fmt: skip


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
    wire.chunk("zzz", 2)
    a, c = wire.session.contexts
    chunk_frames = wire.session.chunk_frames
    assert (a.state, a.frames, chunk_frames(a.segments[0])) == (ContextState.DONE, [0, 1, 2, 3], [1, 3])
    assert (c.state, c.frames, chunk_frames(c.segments[0])) == (ContextState.CANCELLED, [5, 6, 7], [7])
    zzz = wire.session.anomalies[1]
    assert (zzz.conn, zzz.context_id) == (1, "zzz")
    assert found(wire.session) == [
        (AnomalyKind.AFTER_DONE, Severity.ERROR, 1, 1, [3], "a chunk frame for context a after its done"),
        (AnomalyKind.UNKNOWN_CONTEXT, Severity.ERROR, None, None, [4, 8],
         "a chunk frame for context zzz, which this connection never opened"),
        (AnomalyKind.AFTER_CANCEL, Severity.INFO, 2, None, [7],
         "chunk frames for context c after it was cancelled: the service finishes a generation already "
         "running, and clients that forget a context on cancel may hand these to another one"),
    ]  # fmt: skip


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
    ctx = wire.session.contexts[0]
    assert ctx.state is ContextState.FAILED
    assert ctx.error == "transcript empty or contains only punctuation: first transcript for WS is empty"
    # Both chunks are kept in their segment; the one that was not base64 has no audio.
    assert wire.session.chunk_frames(ctx.segments[0]) == [1, 2]
    assert wire.session.audio.chunks(ctx.segments[0]) == [b"\x00\x01\x02", b""]
    assert ctx.frames == [0, 1, 2, 4, 6, 7]
    assert [f.text for f in wire.session.frames[3:6]] == [
        "{not json",
        '{"type": "mystery", "context_id": "a"}',
        '{"type": "chunk", "done": false, "data": ""}',
    ]  # nothing dropped
    assert found(wire.session) == [
        (AnomalyKind.PARTIAL_SAMPLE, Severity.ERROR, 1, 1, [1],
         "a chunk of 3 bytes is not a whole number of pcm_s16le samples (2 bytes each): playback would drift "
         "out of alignment"),
        (AnomalyKind.BAD_BASE64, Severity.ERROR, 1, 1, [2],
         "chunk data in context a is not valid base64; its audio is lost"),
        (AnomalyKind.MALFORMED_FRAME, Severity.ERROR, None, None, [3],
         "the server sent a frame that is not a message: frame is not JSON: Expecting property name enclosed "
         "in double quotes at line 1 column 2"),
        (AnomalyKind.UNKNOWN_TYPE, Severity.WARNING, 1, None, [4],
         "a frame of unknown type 'mystery': some clients (Pipecat) turn these into errors"),
        (AnomalyKind.MISSING_CONTEXT_ID, Severity.ERROR, None, None, [5],
         "a chunk frame without context_id: clients cannot route it"),
        (AnomalyKind.MALFORMED_FRAME, Severity.ERROR, 1, None, [6],
         "a flush_done frame the client cannot read: field 'flush_id' must be an integer, not a string"),
        (AnomalyKind.SERVER_ERROR, Severity.ERROR, 1, None, [7],
         "server error 400: transcript empty or contains only punctuation: first transcript for WS is empty. "
         "Likely cause: the context's first transcript was empty, whitespace or punctuation only: typically a "
         "framework that opens and closes a context with no text (a tool call turn, an interrupted turn)"),
    ]  # fmt: skip


def test_client_frames_the_service_will_reject_are_recorded_and_flagged() -> None:
    wire = Wire()
    wire.add(Direction.SEND, "{oops")
    wire.add(Direction.SEND, {"transcript": "hi", "continue": True})
    wire.send("a", "Hi", output_format={"container": "raw", "encoding": "mp3", "sample_rate": 24000})
    wire.recv(
        {"type": "flush_done", "context_id": "a", "status_code": 206, "done": False, "flush_done": True}
    )
    wire.chunk("a", None)
    ctx = wire.session.contexts[0]
    assert (ctx.format, ctx.frames, wire.session.chunk_frames(ctx.segments[0])) == (None, [2, 3, 4], [4])
    assert found(wire.session) == [
        (AnomalyKind.MALFORMED_FRAME, Severity.WARNING, None, None, [0],
         "the client sent a frame the service will reject: frame is not JSON: Expecting property name enclosed "
         "in double quotes at line 1 column 2"),
        (AnomalyKind.MISSING_CONTEXT_ID, Severity.WARNING, None, None, [1],
         "a generation request without context_id: its replies cannot be told apart from others"),
        (AnomalyKind.BAD_OUTPUT_FORMAT, Severity.WARNING, 1, None, [2],
         "context a asks for an output format the protocol does not define: encoding: 'mp3' is not one of "
         "pcm_f32le, pcm_s16le, pcm_mulaw, pcm_alaw"),
        (AnomalyKind.MALFORMED_FRAME, Severity.ERROR, 1, None, [3],
         "flush_done without flush_id in context a: it cannot be matched to a segment"),
        (AnomalyKind.MISSING_FLUSH_ID, Severity.INFO, 1, None, [4],
         "chunks without flush_id in context a, attributed by order to segment ~1 (no flush had been sent "
         "yet, as some servers do)"),
    ]  # fmt: skip


def test_missing_flush_id_after_a_flush_is_a_warning() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.chunk("a", None)
    assert found(wire.session) == [
        (AnomalyKind.MISSING_FLUSH_ID, Severity.WARNING, 1, None, [2],
         "chunks without flush_id in context a, attributed by order to segment ~1"),
    ]  # fmt: skip


def test_context_reuse_after_done_starts_a_new_context() -> None:
    wire = Wire()
    wire.send("a", "Hello. ", cont=False)
    wire.done("a")
    wire.send("a", "Again. ", cont=False)
    first, second = wire.session.contexts
    assert (first.frames, second.frames) == ([0, 1], [2])
    assert (first.state, second.state) == (ContextState.DONE, ContextState.ENDING)
    assert second.segments[0].text == "Again. "
    # Flagged on the new context, whose first frame reuses the id.
    assert found(wire.session) == [
        (AnomalyKind.CONTEXT_REUSED, Severity.WARNING, 2, None, [2],
         "context_id a reused after it done: the service does not support reuse and may reject it or mix its "
         "frames up"),
    ]  # fmt: skip


def test_stall_inside_a_segment_but_not_between_transcripts() -> None:
    wire = Wire(Session(Thresholds(stall_s=0.5)))
    wire.send("a", "Hello. ")
    wire.chunk("a", 1)
    wire.send("a", "More text, sent much later. ", dt=2.0)
    wire.chunk("a", 1)  # the wait was for the client's text: no stall
    assert wire.session.anomalies == []
    wire.chunk("a", 1, dt=0.9)
    wire.chunk("a", 1, dt=0.7)
    assert found(wire.session) == [  # each stall on its own
        (AnomalyKind.STALL, Severity.WARNING, 1, 1, [4], "900 ms without audio inside segment 1 of context a"),
        (AnomalyKind.STALL, Severity.WARNING, 1, 1, [5], "700 ms without audio inside segment 1 of context a"),
    ]  # fmt: skip


def test_connection_close_fails_open_contexts() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.send("b", "Hello. ", cont=False)
    wire.done("b")
    wire.session.add_text(wire.t + 0.1, 1, Direction.META, meta_text("close", code=1006, reason=""))
    a, b = wire.session.contexts
    assert (a.state, a.error) == (ContextState.FAILED, "connection closed (1006)")
    assert (b.state, b.error) == (ContextState.DONE, None)
    info = wire.session.connections[1]
    assert (info.closed_t, info.close_code, info.close_reason) == (pytest.approx(0.13), 1006, "")
    assert found(wire.session) == [  # a drop without a close frame: the server went away
        (AnomalyKind.SERVER_WENT_AWAY, Severity.ERROR, 1, None, [3],
         "the server went away: it dropped the connection without a close frame before context a was done"),
    ]  # fmt: skip


def test_a_clean_close_before_done_is_a_warning() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.close(1000, "bye")
    assert found(wire.session) == [
        (AnomalyKind.CONNECTION_LOST, Severity.WARNING, 1, None, [1],
         "the connection closed (code 1000, bye) before context a was done"),
    ]  # fmt: skip


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


def test_chunk_frames_read_back_whole_and_show_their_audio_as_a_size() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    original = wire.chunk("a", 1)
    session = wire.session
    assert session.frames[original.index] == original
    assert '"data": "<4800 bytes>"' in session.frame_text(original.index)
    full = json.loads(session.frame_text(original.index, elide_audio=False))
    assert base64.b64decode(full["data"]) == AUDIO
    assert session.audio.segment(session.contexts[0].segments[0]) == AUDIO


def test_chunks_no_context_takes_keep_their_audio_in_the_frame_text() -> None:
    wire = Wire()
    orphan = wire.chunk("zzz", 1)
    wire.send("a", "Hello. ")
    nameless = wire.recv(
        {"type": "chunk", "status_code": 206, "done": False, "data": base64.b64encode(AUDIO).decode()}
    )
    for frame in (orphan, nameless):
        assert base64.b64encode(AUDIO).decode() in wire.session.frames[frame.index].text
        assert json.loads(wire.session.frame_text(frame.index, elide_audio=False))["data"] == (
            base64.b64encode(AUDIO).decode()
        )
    assert [a.kind for a in wire.session.anomalies] == [
        AnomalyKind.UNKNOWN_CONTEXT,
        AnomalyKind.MISSING_CONTEXT_ID,
    ]


def test_a_member_named_data_that_starts_alike_is_not_the_audio() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    data = base64.b64encode(AUDIO).decode()
    decoy = data[:-4] + "AAAA"
    text = json.dumps(
        {"type": "chunk", "context_id": "a", "x": {"data": decoy}, "data": data, "flush_id": 1, "done": False}
    )
    frame = wire.recv(text)
    assert wire.session.frame_text(frame.index, elide_audio=False) == text
    elided = wire.session.frame_text(frame.index)
    assert decoy in elided and data not in elided and "<4800 bytes>" in elided
    assert wire.session.audio.chunks(wire.session.contexts[0].segments[0]) == [AUDIO]


def test_repeats_in_a_context_that_reuses_an_id_are_its_own() -> None:
    wire = Wire()
    wire.send("a", "Hello. ", cont=False)
    wire.chunk("a", None)
    wire.done("a")
    wire.send("a", "Again. ", cont=False)
    wire.chunk("a", None)
    wire.chunk("a", None)
    assert [(a.kind, a.context_number, a.frames) for a in wire.session.anomalies] == [
        (AnomalyKind.MISSING_FLUSH_ID, 1, [1]),
        (AnomalyKind.CONTEXT_REUSED, 2, [3]),
        (AnomalyKind.MISSING_FLUSH_ID, 2, [4, 5]),
    ]


def test_late_flushes_and_ends_are_listed_in_deadline_order_however_time_was_checked() -> None:
    def frames(session: Session) -> Wire:
        """An end, then a flush whose flush_done is due first."""
        wire = Wire(session)
        wire.send("a", "Hello. ", cont=False)  # its done is due at 3.01
        wire.send("b", "Hello. ", dt=0.5)
        wire.flush("b")  # its flush_done is due at 2.52
        return wire

    thresholds = Thresholds(flush_done_s=2.0, done_s=3.0, slow_first_audio_s=5.0)
    timer = Session(thresholds)
    wire = frames(timer)
    timer.check_timeouts(2.6)  # the live window's timer, between two frames
    wire.chunk("b", 1, dt=3.0)
    whole = [
        Frame(f.index, f.t, f.conn, f.dir, timer.frame_text(f.index, elide_audio=False)) for f in timer.frames
    ]
    rebuilt = rebuild(whole, thresholds)
    assert [(a.kind, a.context_id) for a in timer.anomalies] == [
        (AnomalyKind.FLUSH_DONE_TIMEOUT, "b"),
        (AnomalyKind.DONE_TIMEOUT, "a"),
    ]
    assert snapshot(rebuilt) == snapshot(timer)


def test_flush_done_ids_below_the_first_segment_or_going_back() -> None:
    wire = Wire()
    wire.send("a", "A. ")
    wire.flush("a")
    wire.send("a", "B. ")
    wire.flush("a")
    wire.chunk("a", 0)  # the server numbers from 0
    wire.flush_done("a", 0)
    wire.flush_done("a", -1)
    wire.flush_done("a", 1)  # the one expected after 0: not a skip
    assert [(a.kind, a.flush_id, a.frames, a.message) for a in wire.session.anomalies] == [
        (AnomalyKind.FLUSH_ID_BACKWARDS, -1, [6], "flush_id -1 is below the context's first segment (0)"),
        (AnomalyKind.FLUSH_ID_BACKWARDS, -1, [6],
         "flush_done -1 in context a after flush_done 0: flush ids went backwards or repeated"),
    ]  # fmt: skip
    assert wire.session.contexts[0].last_flush_done_id == 1


def test_a_first_flush_done_below_the_first_segment_is_flagged_once() -> None:
    wire = Wire()
    wire.send("a", "A. ")
    wire.flush("a")
    wire.chunk("a", 1)
    wire.flush_done("a", 0)
    assert [(a.kind, a.frames, a.message) for a in wire.session.anomalies] == [
        (AnomalyKind.FLUSH_ID_BACKWARDS, [3], "flush_id 0 is below the context's first segment (1)"),
    ]


def test_rebuilding_from_frames_gives_the_same_model() -> None:
    wire = Wire()
    two_segments(wire, 1, 2, (1, 2))
    wire.chunk("zzz", 1)
    frames = [
        Frame(f.index, f.t, f.conn, f.dir, wire.session.frame_text(f.index, elide_audio=False))
        for f in wire.session.frames
    ]
    again = rebuild(frames)
    assert snapshot(again) == snapshot(wire.session)
    ctx = again.contexts[0]
    assert [(s.flush_id, s.text, again.chunk_frames(s)) for s in ctx.segments] == [
        (1, "Hello there. ", [5, 6]),
        (2, "How are you?", [8]),
        (3, "", []),
    ]
    assert again.chunks.column("start").tolist() == [0.0, 0.1, 0.2]
    assert found(again) == [
        (AnomalyKind.UNKNOWN_CONTEXT, Severity.ERROR, None, None, [11],
         "a chunk frame for context zzz, which this connection never opened"),
    ]  # fmt: skip


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
