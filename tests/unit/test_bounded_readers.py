"""The readers are bounded: a capture line or a HAR string over the limit is left out with where it was and
its size, and never held whole; the streamed JSON is the JSON it stands for; a script is no bigger than a
script."""

from __future__ import annotations

import io
import json
import random
import tracemalloc
from pathlib import Path
from typing import Any

import ijson
import pytest

from flushscope.core.formats import json_stream
from flushscope.core.formats.capture_index import CaptureIndexer, index_capture
from flushscope.core.formats.har import read_har
from flushscope.core.formats.json_stream import BoundedJSON, JSONTooDeep, JSONTooLong, overlong_size
from flushscope.core.inputs.scenario import ScenarioError, load_scenario, parse_scenario
from flushscope.core.store.capture_reader import read_capture, read_capture_text
from flushscope.core.store.line_format import MAX_LINE_BYTES, CaptureError

HEADER = json.dumps({"format": "flushscope-capture", "version": 1, "app": "x", "started": "", "target": ""})
GOOD = json.dumps({"t": 0.5, "conn": 0, "dir": "send", "frame": "x"})
# A chunk line as the recorder writes it: the indexer's fast path takes it.
CHUNK_HEAD = '{"t":0.600000,"conn":0,"dir":"recv","json":{"type":"chunk","context_id":"a","data":"'


def long_chunk(size: int) -> bytes:
    """A chunk line of ``size`` bytes (its newline not counted)."""
    tail = '","done":false,"status_code":206}}'
    return (CHUNK_HEAD + "A" * (size - len(CHUNK_HEAD) - len(tail)) + tail).encode()


def write(path: Path, *lines: bytes | str, end: bytes = b"\n") -> Path:
    data = b"\n".join(line.encode() if isinstance(line, str) else line for line in (HEADER, *lines))
    path.write_bytes(data + end)
    return path


OVER = MAX_LINE_BYTES + 1
WARNING = f"line 3: {OVER} bytes, longer than any frame (the limit is 16 MiB); the line is left out"


def texts(frames: list[Any]) -> list[str]:
    return [f.text for f in frames]


@pytest.fixture
def long_file(tmp_path: Path) -> Path:
    return write(tmp_path / "long.jsonl", GOOD, long_chunk(OVER), GOOD)


def test_a_line_at_the_limit_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "c.jsonl", GOOD, long_chunk(MAX_LINE_BYTES), GOOD)
    assert read_capture(path).warnings == []
    session, _, warnings = index_capture(path)
    assert warnings == []
    assert len(session.frames) == 3


def test_the_capture_reader_leaves_out_a_line_over_the_limit(long_file: Path) -> None:
    loaded = read_capture(long_file)
    assert texts(loaded.frames) == ["x", "x"]
    assert loaded.warnings == [WARNING]


@pytest.mark.parametrize("parallel", [False, True])
def test_the_indexer_leaves_out_a_line_over_the_limit(long_file: Path, parallel: bool) -> None:
    session, _, warnings = index_capture(long_file, parallel=parallel)
    assert warnings == [WARNING]
    assert [session.frames[i].text for i in range(len(session.frames))] == ["x", "x"]


def test_the_indexer_skips_a_long_line_that_is_still_being_written(tmp_path: Path) -> None:
    partial = long_chunk(20 << 20)[: 18 << 20]
    path = write(tmp_path / "growing.jsonl", GOOD, partial, end=b"")
    indexer = CaptureIndexer(path)
    assert indexer.step() is False
    assert indexer.warnings == []
    with path.open("ab") as file:
        file.write(b'"}}\n' + GOOD.encode() + b"\n")
    while indexer.step():
        pass
    indexer.finish()
    size = len(partial) + len('"}}')
    assert indexer.warnings == [WARNING.replace(str(OVER), str(size))]
    assert len(indexer.session.frames) == 2


@pytest.mark.parametrize("parallel", [False, True])
def test_a_cut_off_long_last_line_is_named(tmp_path: Path, parallel: bool) -> None:
    path = write(tmp_path / "cut.jsonl", GOOD, long_chunk(OVER)[: 17 << 20], end=b"")
    _, _, warnings = index_capture(path, parallel=parallel)
    assert len(warnings) == 1
    assert warnings[0].startswith("line 3: ") and "longer than any frame" in warnings[0]
    assert read_capture(path).warnings == warnings


def test_a_long_line_is_never_held_whole(tmp_path: Path) -> None:
    # 96 MiB of one line: each reader holds a bounded piece of it (buffers of a few tens of MiB).
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as file:
        file.write(f"{HEADER}\n{GOOD}\n{CHUNK_HEAD}".encode())
        for _ in range(96):
            file.write(b"A" * (1 << 20))
        file.write(f'"}}}}\n{GOOD}\n'.encode())
    for read in (read_capture, lambda p: index_capture(p, parallel=False)):
        tracemalloc.start()
        read(path)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 64 << 20


def test_a_long_line_in_text_is_left_out_too() -> None:
    loaded = read_capture_text("\n".join([HEADER, GOOD, "x" * OVER, GOOD]) + "\n")
    assert loaded.warnings == [WARNING]
    assert texts(loaded.frames) == ["x", "x"]


def test_a_first_line_too_long_for_a_header_is_refused() -> None:
    with pytest.raises(CaptureError, match="far too long for a capture header"):
        read_capture_text("x" * OVER + "\n")


# --- HAR ----------------------------------------------------------------------------------------------


def har_with(data: str) -> dict[str, Any]:
    t0 = 1768213230.0
    messages = [
        {"type": "send", "time": t0, "opcode": 1, "data": '{"context_id":"a","transcript":"Hi "}'},
        {"type": "receive", "time": t0 + 0.1, "opcode": 2, "data": data},
        {"type": "send", "time": t0 + 0.2, "opcode": 1, "data": '{"context_id":"a","transcript":"there"}'},
    ]
    entry = {
        "startedDateTime": "2026-01-12T10:20:30Z",
        "request": {"url": "wss://h/tts/websocket"},
        "_webSocketMessages": messages,
    }
    return {"log": {"entries": [entry]}}


def test_a_har_message_over_the_limit_is_left_out_with_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big.har"
    path.write_text(json.dumps(har_with("QUFB" * (5 << 20))))
    loaded = read_har(path)
    assert loaded.warnings == [
        f'entry 1, message 2: "data" is {20 << 20} bytes, longer than any frame; left out'
    ]
    assert [json.loads(f.text)["transcript"] for f in loaded.frames if f.dir.value == "send"] == [
        "Hi ",
        "there",
    ]


def test_a_har_message_just_under_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.har"
    path.write_text(json.dumps(har_with("QUFB" * (MAX_LINE_BYTES // 4))))
    loaded = read_har(path)
    assert loaded.warnings == []
    assert '"bytes":12582912' in [f.text for f in loaded.frames if f.dir.value == "meta"][-1]


# --- the bounded stream itself -----------------------------------------------------------------------


def parsed(data: bytes, limit: int) -> list[Any]:
    return list(ijson.items(BoundedJSON(io.BytesIO(data), limit=limit), "", use_float=True))


def shortened(value: Any, limit: int, ascii_only: bool) -> Any:
    """``value`` with each string longer than ``limit`` bytes (as written) replaced by "LONG"."""
    if isinstance(value, str):
        return value if len(json.dumps(value, ensure_ascii=ascii_only).encode()) - 2 <= limit else "LONG"
    if isinstance(value, list):
        return [shortened(v, limit, ascii_only) for v in value]
    if isinstance(value, dict):
        return {k: shortened(v, limit, ascii_only) for k, v in value.items()}
    return value


def marked(value: Any) -> Any:
    if isinstance(value, str):
        return "LONG" if overlong_size(value) is not None else value
    if isinstance(value, list):
        return [marked(v) for v in value]
    if isinstance(value, dict):
        return {k: marked(v) for k, v in value.items()}
    return value


def test_the_stream_is_the_json_it_stands_for_with_long_strings_marked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Seven-byte blocks cut every escape, quote and string somewhere.
    monkeypatch.setattr(json_stream, "BLOCK_BYTES", 7)
    pieces = ['a"b', "\\", "é", "x" * 30, {"k": ['\\"' * 3]}, 1.5, [[[]]], "😀", "]}[{,:"]
    rng = random.Random(7)
    for _ in range(2000):
        ascii_only = rng.random() < 0.5
        document = [rng.choice(pieces) for _ in range(rng.randint(0, 20))]
        text = json.dumps(document, ensure_ascii=ascii_only)
        limit = rng.randint(8, 30)
        assert [marked(v) for v in parsed(text.encode(), limit)] == [shortened(document, limit, ascii_only)]


def test_the_size_of_a_long_string_is_its_bytes_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_stream, "BLOCK_BYTES", 4)
    (value,) = parsed(b'["' + b"\\u00e9" * 10 + b'"]', 16)
    assert [overlong_size(v) for v in value] == [60]


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(JSONTooDeep, match="nested more than 256 deep"):
        parsed(b"[" * 300 + b"]" * 300, 100)
    assert parsed(b"[" * 250 + b"]" * 250, 100)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps(["[" * 1000, "{" * 1000])
    assert parsed(text.encode(), 2000) == [["[" * 1000, "{" * 1000]]


def test_a_number_longer_than_a_block_is_refused() -> None:
    with pytest.raises(JSONTooLong):
        parsed(b"[1" + b"0" * (3 << 20) + b"]", 100)


def test_a_big_har_cut_off_after_some_entries_keeps_them(tmp_path: Path) -> None:
    # Over 16 MiB: read as a stream only (a smaller one is read whole by json, which names the line).
    document = har_with("QUFB")
    padding = [
        {"request": {"url": f"https://h/{i}", "headers": [{"name": "a", "value": "b" * 900}]}}
        for i in range(20_000)
    ]
    document["log"]["entries"] += padding
    text = json.dumps(document)
    path = tmp_path / "cut.har"
    path.write_text(text[: len(text) - 5000])
    loaded = read_har(path)
    assert loaded.warnings[-1].startswith("the file is cut off or broken after entry ")
    assert loaded.warnings[-1].endswith("): the rest is left out")
    assert len([f for f in loaded.frames if f.dir.value == "send"]) == 2


def test_a_file_larger_than_any_script_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(b"send hi\n" * ((16 << 20) // 8 + 1))
    with pytest.raises(ScenarioError, match="larger than 16 MiB: not a script"):
        load_scenario(path)


def test_a_script_error_lists_at_most_twenty_bad_lines() -> None:
    with pytest.raises(ScenarioError) as raised:
        parse_scenario("frobnicate\n" * 1000, "s.txt")
    assert len(raised.value.errors) == 1000
    assert str(raised.value).count("\nline ") == 20
    assert str(raised.value).endswith("... and 980 more bad lines")
