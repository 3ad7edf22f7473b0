"""The model's own lookups: where a segment's audio starts, which segment is heard at a position, and which
segment a frame belongs to."""

from __future__ import annotations

import pytest

from flushscope.core.frames import Direction, meta_text
from flushscope.core.model.records import Context
from flushscope.core.model.session import Session
from session_wire import AUDIO, FORMAT, Wire


def three_segments(wire: Wire) -> Context:
    """Segments with 0.2 s, no audio, then 0.1 s of 24 kHz audio (frames numbered in the comments)."""
    wire.send("a", "One. ")  # 0
    wire.flush("a")  # 1
    wire.send("a", "Two. ")  # 2
    wire.flush("a")  # 3
    wire.send("a", "Three. ")  # 4
    wire.flush("a")  # 5
    wire.end("a")  # 6
    wire.chunk("a", 1)  # 7
    wire.chunk("a", 1)  # 8
    wire.flush_done("a", 1)  # 9
    wire.flush_done("a", 2)  # 10
    wire.chunk("a", 3)  # 11
    wire.flush_done("a", 3)  # 12
    wire.done("a")  # 13
    return wire.session.contexts[0]


def test_start_seconds_is_where_a_segments_audio_starts_in_its_context() -> None:
    ctx = three_segments(Wire())
    assert [s.start_sample for s in ctx.segments] == [0, None, 4800, None]
    assert [s.start_seconds for s in ctx.segments] == [0.0, 0.0, 0.2, 0.0]


def test_start_seconds_is_zero_while_the_format_is_unknown() -> None:
    wire = Wire()
    wire.send("a", "One. ", output_format={**FORMAT, "encoding": "mp3"})
    wire.chunk("a", 1)
    wire.chunk("a", 1)
    ctx = wire.session.contexts[0]
    assert ctx.format is None
    assert ctx.segments[0].start_sample == 0
    assert ctx.segments[0].start_seconds == 0.0


@pytest.mark.parametrize(
    ("seconds", "ordinal"),
    [(-0.01, None), (0.0, 0), (0.1, 0), (0.1999, 0), (0.2, 2), (0.25, 2), (0.3, 2), (99.0, 2)],
)
def test_segment_at_finds_the_segment_heard_at_a_position(seconds: float, ordinal: int | None) -> None:
    ctx = three_segments(Wire())
    found = ctx.segment_at(seconds)
    assert (found.ordinal if found is not None else None) == ordinal


def test_segment_at_before_any_audio_is_none() -> None:
    wire = Wire()
    wire.send("a", "One. ")
    assert wire.session.contexts[0].segment_at(0.0) is None


def test_segment_of_frame_finds_chunks_transcripts_flushes_and_flush_dones() -> None:
    wire = Wire()
    ctx = three_segments(wire)
    of_frame = wire.session.segment_of_frame
    ordinals = {i: (s.ordinal if (s := of_frame(ctx, i)) is not None else None) for i in range(15)}
    assert ordinals == {
        0: 0, 1: 0, 7: 0, 8: 0, 9: 0,  # transcript, flush, chunks, flush_done
        2: 1, 3: 1, 10: 1,
        4: 2, 5: 2, 11: 2, 12: 2,
        6: None, 13: None,  # the end (an empty transcript) and done belong to no segment
        14: None,  # no such frame
    }  # fmt: skip


def test_segment_of_frame_is_none_for_another_contexts_frames() -> None:
    wire = Wire()
    wire.send("a", "One. ")
    wire.send("b", "Two. ")
    wire.chunk("b", 1, audio=AUDIO)
    a, b = wire.session.contexts
    of_frame = wire.session.segment_of_frame
    assert of_frame(a, 1) is None and of_frame(a, 2) is None
    assert of_frame(b, 2) is b.segments[0]
    assert of_frame(a, 0) is a.segments[0]


def test_a_proxied_connection_labels_its_contexts_with_its_client_and_port() -> None:
    session = Session()
    app = Wire(session, conn=1)
    app.add(Direction.META, meta_text("connect", url="ws://up/tts/websocket", client="Pipecat", port=50123))
    app.send("a", "Hello.")
    own = Wire(session, conn=2)
    own.connect()
    own.send("b", "Hi.")
    unknown_port = Wire(session, conn=3)
    unknown_port.add(
        Direction.META, meta_text("connect", url="ws://up/tts/websocket", client="LiveKit", port="x")
    )
    unknown_port.send("c", "Hey.")
    assert session.connections[1].label == "Pipecat :50123"
    assert session.connections[2].label is None
    assert session.connections[3].label == "LiveKit"
    assert [ctx.client for ctx in session.contexts] == ["Pipecat :50123", None, "LiveKit"]


def test_a_session_reads_the_audio_of_its_own_records_only() -> None:
    mine, other = Wire(), Wire()
    for wire, audio in ((mine, AUDIO), (other, AUDIO[::-1])):
        wire.send("a", "One. ")
        wire.chunk("a", 1, audio=audio)
        wire.chunk("a", 1, audio=audio)
    ctx, foreign = mine.session.contexts[0], other.session.contexts[0]
    audio = mine.session.audio
    assert audio.segment(ctx.segments[0]) == audio.context(ctx) == AUDIO * 2
    assert audio.chunks(ctx.segments[0]) == [AUDIO, AUDIO]
    assert audio.span(ctx.segments[0], 4790, 4810) == AUDIO[-10:] + AUDIO[:10]
    assert audio.plan(ctx).total_bytes == 2 * len(AUDIO)
    # Another session's segment has rows of other columns: refused in words, not read as this one's audio.
    for read in (audio.segment, audio.chunks, audio.plan, audio.slicer):
        with pytest.raises(ValueError, match="context a \\(number 1\\) is not one of this session's"):
            read(foreign.segments[0])
    with pytest.raises(ValueError, match="not one of this session's"):
        audio.context(foreign)
