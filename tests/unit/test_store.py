"""The capture file as the session's store: frames and audio read back on demand, bit-exact, live and after
reopening; bad input that loses nothing; a file that changes under the session, said in words; no per-chunk
Python object kept."""

from __future__ import annotations

import base64
import gc
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from flushscope.core.formats.capture_index import CaptureIndexer, index_capture
from flushscope.core.formats.recordings import open_recording, write_recording
from flushscope.core.frames import Direction
from flushscope.core.growable import GrowableArray
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.session import Session, rebuild
from flushscope.core.store.capture_reader import read_capture
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.core.store.line_format import CaptureError
from flushscope.core.store.line_storage import StoreError
from flushscope.protocol.audio import Encoding
from session_snapshot import snapshot

URL = "ws://127.0.0.1:1/tts/websocket"


#: A step of the clock that the capture's microseconds keep exactly (so live and reopened times agree).
DT = 1 / 64


class Clock:
    """The recorder's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def request(ctx: str, encoding: Encoding, rate: int, **extra: Any) -> str:
    obj = {
        "context_id": ctx,
        "model_id": "sonic-3",
        "transcript": "Hello there. ",
        "output_format": {"container": "raw", "encoding": encoding.value, "sample_rate": rate},
        "continue": True,
        "flush": True,
        **extra,
    }
    return json.dumps(obj, separators=(",", ":"))


def chunk(ctx: str, audio: bytes, flush_id: int = 1, *, compact: bool = True) -> str:
    obj = {"type": "chunk", "context_id": ctx, "status_code": 206, "done": False}
    obj |= {"data": base64.b64encode(audio).decode(), "step_time": 1.5, "flush_id": flush_id}
    return json.dumps(obj, separators=(",", ":") if compact else None)


def audio_of(encoding: Encoding, index: int) -> bytes:
    """Distinct audio per chunk, every byte value present, with a partial sample now and then."""
    rng = np.random.default_rng(index)
    width = {Encoding.PCM_F32LE: 4, Encoding.PCM_S16LE: 2}.get(encoding, 1)
    if encoding is Encoding.PCM_F32LE:
        samples = rng.uniform(-1, 1, 700).astype("<f4")
        data = samples.tobytes()
    else:
        data = rng.integers(0, 256, 700 * width, dtype=np.uint8).tobytes()
    return data[: len(data) - (index % 3 == 2)]  # odd lengths too


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[Path, Session, dict[str, list[bytes]]]]:
    """A capture of one context per encoding, chunks interleaved, recorded through a recorder."""
    path = tmp_path / "enc.fscap.jsonl"
    session = Session()
    clock = Clock()
    recorder = Recorder(session, CaptureWriter(path, URL), clock)
    sent: dict[str, list[bytes]] = {}
    encodings = [Encoding.PCM_F32LE, Encoding.PCM_S16LE, Encoding.PCM_MULAW, Encoding.PCM_ALAW]
    for encoding in encodings:
        clock.now += DT
        recorder.record(1, Direction.SEND, request(encoding.value, encoding, 16000))
        sent[encoding.value] = []
    for i in range(12):
        for encoding in encodings:
            clock.now += DT
            audio = audio_of(encoding, i)
            sent[encoding.value].append(audio)
            recorder.record(1, Direction.RECV, chunk(encoding.value, audio, compact=i % 4 != 3))
    recorder.close()
    yield path, session, sent
    session.frames.close()


def test_audio_reads_back_bit_exact_in_every_encoding_live_and_reopened(
    recorded: tuple[Path, Session, dict[str, list[bytes]]],
) -> None:
    path, live, sent = recorded
    indexed, _, warnings = index_capture(path)
    assert warnings == []
    for session in (live, indexed):
        for ctx in session.contexts:
            segment = ctx.segments[0]
            assert session.audio.chunks(segment) == sent[ctx.context_id]
            assert session.audio.segment(segment) == b"".join(sent[ctx.context_id])
            assert session.audio.context(ctx) == b"".join(sent[ctx.context_id])
            assert segment.nbytes == sum(len(a) for a in sent[ctx.context_id])
    # Nothing of the audio is in memory: every line is in the file.
    assert live.frames.memory_bytes == 0 and indexed.frames.memory_bytes == 0
    assert live.audio.reader.aside == {} and indexed.audio.reader.aside == {}
    assert snapshot(indexed) == snapshot(live)
    indexed.frames.close()


def test_a_segment_range_reads_only_what_it_needs_and_agrees_with_the_whole(
    recorded: tuple[Path, Session, dict[str, list[bytes]]],
) -> None:
    _, live, sent = recorded
    segment = live.contexts[1].segments[0]
    whole = b"".join(sent[segment.context.context_id])
    slicer = live.audio.slicer(segment)
    for start, stop in [(0, 10), (5, 2000), (1399, 1401), (len(whole) - 7, len(whole)), (100, 100)]:
        assert slicer(start, stop) == whole[start:stop]
        assert live.audio.span(segment, start, stop) == whole[start:stop]


def test_a_capture_without_a_file_keeps_its_lines_in_memory_and_says_so(tmp_path: Path) -> None:
    session = Session()
    recorder = Recorder(session, clock=Clock())
    recorder.record(1, Direction.SEND, request("a", Encoding.PCM_S16LE, 8000))
    audio = audio_of(Encoding.PCM_S16LE, 1)
    recorder.record(1, Direction.RECV, chunk("a", audio))
    assert session.frames.writer is None and session.frames.memory_bytes > 0
    assert session.audio.segment(session.contexts[0].segments[0]) == audio
    # A capture file that fails on the way: later frames go to memory, and the recorder says why.
    path = tmp_path / "full.fscap.jsonl"
    writer = CaptureWriter(path, URL)
    recorder.capture = writer
    recorder.record(1, Direction.RECV, chunk("a", audio))
    writer._file.close()  # what a disk that fills up looks like to the writer: every write fails
    recorder.record(1, Direction.RECV, chunk("a", audio))
    assert recorder.capture is None
    assert recorder.capture_error is not None
    assert recorder.capture_error.startswith("the capture file stopped recording: ")
    assert recorder.capture_error.endswith("frames from 3 on are kept in memory")
    assert session.audio.chunks(session.contexts[0].segments[0]) == [audio, audio, audio]
    assert [session.frames.source_of(i).name for i in range(4)] == ["memory", "memory", path.name, "memory"]


def test_a_secret_redacted_out_of_the_base64_keeps_the_audio_in_memory(tmp_path: Path) -> None:
    audio = bytes(range(256)) * 3
    data = base64.b64encode(audio).decode()
    secret = data[100:120]
    path = tmp_path / "secret.fscap.jsonl"
    session = Session()
    recorder = Recorder(session, CaptureWriter(path, URL, secrets=[secret]), Clock())
    recorder.record(1, Direction.SEND, request("a", Encoding.PCM_S16LE, 8000))
    recorder.record(1, Direction.RECV, chunk("a", audio))
    recorder.close()
    assert secret not in path.read_text()
    # The file could not hold the audio verbatim: it is kept aside, and reads back exactly.
    assert session.audio.segment(session.contexts[0].segments[0]) == audio
    assert list(session.audio.reader.aside) == [0]


@pytest.mark.parametrize(
    "text",
    [
        # A space after the colon, an escaped slash, a data member nested before the real one, a duplicate.
        '{"type": "chunk", "context_id": "a", "done": false, "data": "AAEC", "flush_id": 1}',
        '{"type":"chunk","context_id":"a","done":false,"data":"AAE\\/","flush_id":1}',
        '{"type":"chunk","x":{"data":"AAAA"},"context_id":"a","done":false,"data":"AAEC","flush_id":1}',
        '{"type":"chunk","context_id":"a","done":false,"data":"AAEC","data":"AQID","flush_id":1}',
        '{"type":"chunk","context_id":"a","done":false,"data":"A@EC","flush_id":1}',
        '{"type":"chunk","context_id":"a","done":false,"data":"AAEC","flush_id":1,"extra":[1]}',
        '{"type":"chunk","context_id":"a","done":false,"data":"","flush_id":1}',
    ],
)
def test_unusual_chunk_frames_read_the_same_live_rebuilt_and_reopened(tmp_path: Path, text: str) -> None:
    path = tmp_path / "odd.fscap.jsonl"
    live = Session()
    recorder = Recorder(live, CaptureWriter(path, URL), Clock())
    recorder.record(1, Direction.SEND, request("a", Encoding.PCM_S16LE, 8000))
    recorder.record(1, Direction.RECV, text)
    recorder.close()
    expected = snapshot(live)
    assert snapshot(rebuild(read_capture(path).frames)) == expected
    indexed, _, _ = index_capture(path)
    assert snapshot(indexed) == expected
    assert indexed.frame_text(1, elide_audio=False) == text
    indexed.frames.close()
    live.frames.close()


def write_turns(path: Path, count: int, *, lines: list[str] | None = None) -> list[bytes]:
    """A capture of one context with ``count`` chunks; returns their audio."""
    audios = [audio_of(Encoding.PCM_S16LE, i) for i in range(count)]
    with CaptureWriter(path, URL) as writer:
        from flushscope.core.frames import Frame

        writer.write(
            Frame(0, 0.0, 1, Direction.SEND, request("a", Encoding.PCM_S16LE, 8000)), valid_json=True
        )
        for i, audio in enumerate(audios, 1):
            writer.write(Frame(i, i * 0.01, 1, Direction.RECV, chunk("a", audio)), valid_json=True)
    if lines is not None:
        lines.extend(path.read_text().splitlines(keepends=True))
    return audios


def test_a_capture_cut_off_mid_line_loads_every_whole_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.fscap.jsonl"
    audios = write_turns(path, 5)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 100])
    indexer = CaptureIndexer(path)
    session = indexer.run()
    assert indexer.warnings == ["line 7 is incomplete (the recording was cut off); loaded 5 frames"]
    assert session.audio.chunks(session.contexts[0].segments[0]) == audios[:4]
    session.frames.close()


def test_a_bad_line_in_the_middle_is_named_and_the_rest_loads(tmp_path: Path) -> None:
    path = tmp_path / "bad.fscap.jsonl"
    lines: list[str] = []
    audios = write_turns(path, 4, lines=lines)
    lines[3] = lines[3][:50] + "garbage" + lines[3][50:]
    path.write_text("".join(lines))
    session, _, warnings = index_capture(path)
    (warning,) = warnings
    assert warning.startswith("line 4: not JSON") and warning.endswith("the line is left out")
    assert len(session.frames) == 4
    assert session.audio.chunks(session.contexts[0].segments[0]) == [audios[0], audios[2], audios[3]]
    session.frames.close()


def test_lines_appended_while_open_are_indexed_by_the_next_step(tmp_path: Path) -> None:
    path = tmp_path / "growing.fscap.jsonl"
    audios = write_turns(path, 3)
    indexer = CaptureIndexer(path)
    assert indexer.step() is False and indexer.at_end
    session = indexer.session
    assert len(session.frames) == 4
    more = audio_of(Encoding.PCM_S16LE, 9)
    line = chunk("a", more)
    with open(path, "ab") as f:
        # Half a line first, as a writer caught mid-write: it waits, nothing is lost or misread.
        head = json.dumps({"t": 0.5, "conn": 1, "dir": "recv"})[:-1] + ',"json":' + line + "}\n"
        f.write(head[:40].encode())
        f.flush()
        assert indexer.step() is False and indexer.pending == 40 and len(session.frames) == 4
        f.write(head[40:].encode())
    assert indexer.step() is False
    assert len(session.frames) == 5 and indexer.pending == 0
    assert session.audio.chunks(session.contexts[0].segments[0]) == [*audios, more]
    indexer.finish()
    assert indexer.warnings == []
    session.frames.close()


def test_steps_index_a_little_at_a_time_and_report_progress(tmp_path: Path) -> None:
    path = tmp_path / "steps.fscap.jsonl"
    write_turns(path, 40)
    indexer = CaptureIndexer(path)
    seen = []
    while indexer.step(max_lines=10):
        seen.append((len(indexer.session.frames), round(indexer.progress, 2)))
    assert [n for n, _ in seen] == [10, 20, 30, 40]
    assert all(0 < p < 1 for _, p in seen) and [p for _, p in seen] == sorted(p for _, p in seen)
    assert len(indexer.session.frames) == 41 and indexer.progress == 1.0
    indexer.session.frames.close()
    indexer.close()


def test_a_file_changed_under_the_session_is_said_in_words(tmp_path: Path) -> None:
    path = tmp_path / "changed.fscap.jsonl"
    write_turns(path, 4)
    session, _, _ = index_capture(path)
    segment = session.contexts[0].segments[0]
    raw = path.read_bytes()
    # Shorter: the last chunk's line is gone.
    with open(path, "r+b") as f:
        f.truncate(len(raw) - 500)
    with pytest.raises(StoreError, match=r"changed\.fscap\.jsonl changed: it is shorter than when"):
        session.audio.segment(segment)
    # Rewritten in place: another frame where one was.
    with open(path, "r+b") as f:
        f.write(raw.replace(b'"t":0.030000', b'"t":0.030001'))
    with pytest.raises(StoreError, match="frame 3 is not what it was"):
        session.audio.chunks(segment)
    with pytest.raises(StoreError, match="frame 3 is no longer where it was read"):
        session.frames[3]
    session.frames.close()


def test_a_capture_moved_or_deleted_while_open_still_reads_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "moving.fscap.jsonl"
    audios = write_turns(path, 3)
    session, _, _ = index_capture(path)
    backing = session.frames.file
    assert backing is not None and backing.whereabouts() is None
    path.rename(tmp_path / "elsewhere.fscap.jsonl")
    assert backing.whereabouts() == (
        "moving.fscap.jsonl was moved or deleted: flushscope still reads it through the file it has open"
    )
    assert session.audio.chunks(session.contexts[0].segments[0]) == audios
    path.write_text("a new file where the old one was\n")
    assert backing.whereabouts() is not None and "replaced by another file" in backing.whereabouts()
    session.frames.close()
    with pytest.raises(StoreError, match="was closed"):
        session.audio.chunks(session.contexts[0].segments[0])


def test_a_har_file_opens_in_memory_with_its_audio(tmp_path: Path) -> None:
    path = tmp_path / "c.fscap.jsonl"
    audios = write_turns(path, 3)
    har = tmp_path / "c.har"
    from flushscope.core.formats.recordings import RecordingFormat

    write_recording(read_capture(path), har, RecordingFormat.HAR)
    opened = open_recording(har)
    assert opened.session.frames.file is None and opened.session.frames.memory_bytes > 0
    assert opened.session.audio.chunks(opened.session.contexts[0].segments[0]) == audios


def test_an_unusable_capture_is_an_error_before_anything_is_indexed(tmp_path: Path) -> None:
    path = tmp_path / "nope.fscap.jsonl"
    path.write_text('{"format": "other"}\n')
    with pytest.raises(CaptureError, match="line 1"):
        CaptureIndexer(path)
    with pytest.raises(CaptureError, match="cannot open"):
        CaptureIndexer(tmp_path / "missing.fscap.jsonl")


# --- memory ---------------------------------------------------------------------------------------------


def objects_reachable(root: object) -> dict[str, int]:
    """How many objects of each type are reachable from ``root`` (numpy arrays count once whatever their
    size)."""
    seen: set[int] = set()
    counts: dict[str, int] = {}
    todo = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, type | type(os)):
            continue
        seen.add(id(obj))
        name = type(obj).__name__
        counts[name] = counts.get(name, 0) + 1
        if isinstance(obj, np.ndarray):
            continue
        todo.extend(gc.get_referents(obj))
    return counts


def record_chunks(path: Path, per_segment: int) -> Session:
    """Two contexts of three segments, ``per_segment`` chunks each, recorded to a capture file."""
    session = Session()
    clock = Clock()
    recorder = Recorder(session, CaptureWriter(path, URL), clock)
    for ctx in ("a", "b"):
        recorder.record(1, Direction.SEND, request(ctx, Encoding.PCM_S16LE, 24000))
    audio = bytes(range(240)) * 9
    for segment in range(1, 4):
        for n in range(per_segment):
            for ctx in ("a", "b"):
                clock.now += 0.001
                # Each chunk other than the one before it: a chunk repeated byte for byte is an anomaly.
                shift = n % 120 * 2
                recorder.record(1, Direction.RECV, chunk(ctx, audio[shift : shift + 1920], segment))
        for ctx in ("a", "b"):
            flush_done = {"type": "flush_done", "context_id": ctx, "flush_id": segment, "flush_done": True}
            recorder.record(1, Direction.RECV, json.dumps(flush_done))
            if segment < 3:
                recorder.record(1, Direction.SEND, request(ctx, Encoding.PCM_S16LE, 24000))
    recorder.close()
    # Bounded buffers, not the model: the cache of frames read back (256), and the rows that wait to be
    # moved into the numpy columns in a batch (up to 4096), which a view's first look at a column moves.
    session.frames._cache.clear()
    session.frames.column("t")
    session.chunks.column("t")
    return session


def test_the_model_keeps_no_python_object_per_chunk(tmp_path: Path) -> None:
    small = record_chunks(tmp_path / "small.fscap.jsonl", 50)
    large = record_chunks(tmp_path / "large.fscap.jsonl", 500)
    assert large.chunks.size == 10 * small.chunks.size == 3000
    # Ten times the chunks (2,700 more), the same objects: everything that grows with the chunks is in numpy
    # arrays. (A few dozen numbers differ: small ints are shared objects, larger ones are not, and a
    # context's last chunk digest is 0 for silence.)
    few, many = objects_reachable(small), objects_reachable(large)
    assert {k: v for k, v in many.items() if k != "int"} == {k: v for k, v in few.items() if k != "int"}
    assert abs(many["int"] - few["int"]) <= 64
    for session in (small, large):
        assert session.frames.memory_bytes == 0
        for ctx in session.contexts:
            assert isinstance(ctx.frames, GrowableArray) and ctx.frames.values.dtype == np.int32
            for segment in ctx.segments:
                assert isinstance(segment.chunk_rows, GrowableArray)
                assert segment.chunk_rows.values.dtype == np.int32
    # And those arrays hold a fixed number of bytes per chunk (at most twice that while they grow).
    per_frame = sum(
        a.itemsize for a in (np.float64(0), np.int32(0), np.int8(0), np.int8(0), np.int64(0), np.int32(0))
    )
    per_chunk = per_frame + sum(large.chunks.column(n).itemsize for n in large.chunks.NAMES) + 4 + 4
    held = (
        large.frames.nbytes
        + large.chunks.nbytes
        + sum(c.frames.nbytes + sum(s.chunk_rows.nbytes for s in c.segments) for c in large.contexts)
    )
    assert per_chunk == 26 + 52 + 8
    assert held <= 2 * per_chunk * len(large.frames) + 64 * 1024
    small.frames.close()
    large.frames.close()


# --- the scan in a second process -----------------------------------------------------------------------


def test_scanning_in_a_second_process_gives_the_same_session(
    tmp_path: Path, recorded: tuple[Path, Session, dict[str, list[bytes]]]
) -> None:
    path, live, _ = recorded
    # Odd lines too: a bad one, a chunk the scan leaves to the parser, an unfinished last line.
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(5, "garbage\n")
    lines.insert(
        9,
        chunk("pcm_s16le", b"\x01\x02", compact=False).join(
            ['{"t":0.5,"conn":1,"dir":"recv","json":', "}\n"]
        ),
    )
    lines.append('{"t":9.0,"conn":1,"dir":"re')
    odd = tmp_path / "odd.fscap.jsonl"
    odd.write_text("".join(lines))
    for capture in (path, odd):
        one, _, one_warnings = index_capture(capture, parallel=False)
        two, _, two_warnings = index_capture(capture, parallel=True)
        assert two_warnings == one_warnings
        assert snapshot(two) == snapshot(one)
        one.frames.close()
        two.frames.close()
    assert snapshot(index_capture(path, parallel=True)[0]) == snapshot(live)
    assert one_warnings == [
        "line 6: not JSON: Expecting value at column 1; the line is left out",
        f"line {len(lines)} is incomplete (the recording was cut off); loaded {len(lines) - 3} frames",
    ]
