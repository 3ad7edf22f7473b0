"""Capture files: round trips, secrets, and loading damaged or foreign files."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flushscope
from flushscope.core.frames import Direction, Frame, meta_text
from flushscope.core.store.capture_header import FORMAT, VERSION
from flushscope.core.store.capture_reader import open_capture, read_capture, read_capture_text
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.core.store.line_format import MAX_CONN, CaptureError
from flushscope.core.store.redaction import REDACTED, redact_text, redact_url

KEY = "sk_car_9f8e7d6c5b4a39281706"
STARTED = datetime(2026, 1, 12, 10, 20, 30, 123456, tzinfo=UTC)
HEADER = json.dumps(
    {"format": FORMAT, "version": 1, "app": "flushscope 0.1.0", "started": "x", "target": "y"}
)


def chunk_text(data: str = "AAAA", flush_id: int = 1) -> str:
    return json.dumps(
        {
            "type": "chunk",
            "context_id": "c1",
            "data": data,
            "done": False,
            "status_code": 206,
            "flush_id": flush_id,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


TEXTS = [
    chunk_text(),
    '{"context_id":"c1","transcript":"He said \\"hi\\" \\\\ ok","continue":true}',
    'not json at all: "quotes" and \\ backslashes \\" mixed',
    "unicode: é 你好 🙂 \u2028 \u2029 \x85 \x00 \x1f \x7f",
    "line one\nline two\r\nline three\rend",
    "",
    "   spaces around   ",
    "\t",
]


def sample_frames() -> list[Frame]:
    frames = [Frame(0, 0.0, 1, Direction.META, meta_text("connect", url="wss://x/tts", headers={"a": "b"}))]
    for text in TEXTS:
        frames.append(Frame(len(frames), len(frames) * 0.012345, 1, Direction.SEND, text))
        frames.append(Frame(len(frames), len(frames) * 0.012345 + 0.000001, 2, Direction.RECV, text))
    frames.append(Frame(len(frames), 9.5, 1, Direction.META, '{"event": "close", "code": 1000}'))
    frames.append(Frame(len(frames), 9.6, 1, Direction.META, "not an object"))
    frames.append(Frame(len(frames), 9.7, 1, Direction.META, "[1, 2]"))
    frames.append(Frame(len(frames), 9.8, 3, Direction.META, meta_text("error", message="é \n ok")))
    return [Frame(f.index, round(f.t, 6), f.conn, f.dir, f.text) for f in frames]


def write(path: Path, frames: list[Frame], *, overwrite: bool = False) -> None:
    with CaptureWriter(
        path, "wss://api.cartesia.ai/tts/websocket", started=STARTED, overwrite=overwrite
    ) as writer:
        for frame in frames:
            writer.write(frame)


# --- round trip ---------------------------------------------------------------------------------------


def test_round_trip_keeps_every_frame_exactly(tmp_path: Path) -> None:
    frames = sample_frames()
    path = tmp_path / "c.jsonl"
    write(path, frames)
    loaded = read_capture(path)
    assert loaded.frames == frames
    assert loaded.warnings == []


def test_file_is_one_json_object_per_line_in_the_documented_shape(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    frames = sample_frames()
    write(path, frames)
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.decode("utf-8").split("\n")[:-1]
    assert len(lines) == len(frames) + 1
    objects = [json.loads(line) for line in lines[1:]]
    assert objects[0] == {
        "t": 0.0,
        "conn": 1,
        "dir": "meta",
        "meta": {"event": "connect", "url": "wss://x/tts", "headers": {"a": "b"}},
    }
    assert objects[1] == {"t": frames[1].t, "conn": 1, "dir": "send", "frame": TEXTS[0]}
    # Meta texts that are not compact JSON objects stay verbatim, as "frame".
    assert objects[-4] == {"t": 9.5, "conn": 1, "dir": "meta", "frame": '{"event": "close", "code": 1000}'}
    assert objects[-3]["frame"] == "not an object"
    assert objects[-1]["meta"] == {"event": "error", "message": "é \n ok"}
    # Microsecond precision, no exponent.
    assert '"t":0.012345,' in lines[2]


def test_header_fields(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    CaptureWriter(
        path, "wss://h/tts?api_key=abc12345&cartesia_version=2025-04-16", started=STARTED, note="n"
    ).close()
    first = json.loads(path.read_text("utf-8").split("\n")[0])
    assert first == {
        "format": "flushscope-capture",
        "version": 1,
        "app": f"flushscope {flushscope.__version__}",
        "started": "2026-01-12T10:20:30.123456Z",
        "target": "wss://h/tts?api_key=REDACTED&cartesia_version=2025-04-16",
        "note": "n",
    }
    loaded = read_capture(path)
    header = loaded.header
    assert (header.format, header.version, header.note) == (FORMAT, VERSION, "n")
    assert header.app == f"flushscope {flushscope.__version__}"
    assert header.started_at() == STARTED
    assert loaded.frames == []


def test_started_is_converted_to_utc_and_defaults_to_now(tmp_path: Path) -> None:
    local = datetime(2026, 1, 12, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with CaptureWriter(tmp_path / "a", "x", started=local):
        pass
    assert read_capture(tmp_path / "a").header.started == "2026-01-12T10:00:00.000000Z"
    before = datetime.now(UTC)
    with CaptureWriter(tmp_path / "b", "x"):
        pass
    started = read_capture(tmp_path / "b").header.started_at()
    assert started is not None and before - timedelta(seconds=1) <= started <= datetime.now(UTC)


def test_header_keeps_unknown_fields_and_warns_on_missing_ones() -> None:
    text = (
        json.dumps({"format": FORMAT, "version": 1, "app": "other 2", "source": "har", "target": "t"}) + "\n"
    )
    loaded = read_capture_text(text, "x.jsonl")
    assert loaded.header.extra == {"source": "har"}
    assert loaded.header.started == ""
    assert loaded.header.started_at() is None
    assert loaded.warnings == ["the header has no 'started'"]


def test_time_is_written_to_the_microsecond(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    write(
        path, [Frame(0, 1.23456789, 0, Direction.SEND, "a"), Frame(1, 12345.0000004, 0, Direction.RECV, "b")]
    )
    assert [f.t for f in read_capture(path).frames] == [1.234568, 12345.0]


def test_frame_index_comes_from_file_order(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    write(path, [Frame(7, 0.0, 0, Direction.SEND, "a"), Frame(3, 0.1, 0, Direction.RECV, "b")])
    assert [f.index for f in read_capture(path).frames] == [0, 1]


def test_lone_surrogate_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    frames = [Frame(0, 0.0, 0, Direction.RECV, "a\ud800b\udfff")]
    write(path, frames)
    path.read_bytes().decode("utf-8")  # still valid UTF-8
    assert read_capture(path).frames == frames


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.text(), min_size=1, max_size=5),
    direction=st.sampled_from(list(Direction)),
    conn=st.integers(0, MAX_CONN),
    micros=st.integers(0, 10**13),
)
def test_arbitrary_texts_round_trip(
    tmp_path: Path, texts: list[str], direction: Direction, conn: int, micros: int
) -> None:
    t = micros / 1e6
    frames = [Frame(i, t, conn, direction, text) for i, text in enumerate(texts)]
    path = tmp_path / "h.jsonl"
    write(path, frames, overwrite=True)
    assert read_capture(path).frames == frames


# --- writer behaviour ---------------------------------------------------------------------------------


def test_never_overwrites_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("precious")
    with pytest.raises(FileExistsError):
        CaptureWriter(path, "x")
    assert path.read_text() == "precious"
    with CaptureWriter(path, "x", overwrite=True) as writer:
        writer.write(Frame(0, 0.0, 0, Direction.SEND, "a"))
    assert len(read_capture(path).frames) == 1


def test_write_after_close_raises_and_close_is_idempotent(tmp_path: Path) -> None:
    writer = CaptureWriter(tmp_path / "c.jsonl", "x")
    writer.write(Frame(0, 0.0, 0, Direction.SEND, "a"))
    assert writer.frames_written == 1
    assert writer.path == tmp_path / "c.jsonl"
    writer.close()
    writer.close()
    assert writer.closed
    with pytest.raises(ValueError, match="closed"):
        writer.write(Frame(1, 0.0, 0, Direction.SEND, "b"))
    assert writer.frames_written == 1


def test_each_line_is_on_disk_as_soon_as_it_is_written(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with CaptureWriter(path, "x") as writer:
        writer.write(Frame(0, 0.5, 0, Direction.SEND, "first"))
        assert not writer.closed
        # Another reader sees the line while the writer is still open: nothing waits in a buffer.
        assert [f.text for f in read_capture(path).frames] == ["first"]


@pytest.mark.parametrize("t", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_time_is_refused(tmp_path: Path, t: float) -> None:
    with CaptureWriter(tmp_path / "c.jsonl", "x") as writer, pytest.raises(ValueError, match="finite"):
        writer.write(Frame(0, t, 0, Direction.SEND, "a"))


@pytest.mark.parametrize("conn", [-1, MAX_CONN + 1, 10**26])
def test_connection_numbers_a_reader_would_refuse_are_refused(tmp_path: Path, conn: int) -> None:
    with CaptureWriter(tmp_path / "c.jsonl", "x") as writer, pytest.raises(ValueError, match="from 0 to"):
        writer.write(Frame(0, 0.0, conn, Direction.SEND, "a"))


# --- secrets ------------------------------------------------------------------------------------------


def test_api_key_never_reaches_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    url = f"wss://api.cartesia.ai/tts/websocket?api_key={KEY}&cartesia_version=2025-04-16"
    frames = [
        Frame(0, 0.0, 1, Direction.META, meta_text("connect", url=url, headers={"X-API-Key": KEY})),
        Frame(1, 0.1, 1, Direction.SEND, json.dumps({"transcript": f"my key is {KEY}!", "context_id": "c"})),
        Frame(2, 0.2, 1, Direction.RECV, f"echo {KEY}{KEY}"),
        Frame(3, 0.3, 1, Direction.META, f"not json {KEY}"),
    ]
    with CaptureWriter(path, url, secrets=[KEY], note=f"run with {KEY}") as writer:
        for frame in frames:
            writer.write(frame)
    raw = path.read_bytes()
    assert KEY.encode() not in raw
    # target, note, the connect event's url and header, the transcript, the echo twice, the meta text.
    assert raw.count(REDACTED.encode()) == 8
    loaded = read_capture(path)
    assert (
        loaded.header.target
        == "wss://api.cartesia.ai/tts/websocket?api_key=REDACTED&cartesia_version=2025-04-16"
    )
    assert loaded.frames[0].meta()["headers"] == {"X-API-Key": REDACTED}
    assert loaded.frames[2].text == f"echo {REDACTED}{REDACTED}"


def test_escaped_and_url_encoded_spellings_of_a_secret_are_removed(tmp_path: Path) -> None:
    secret = 'ab"cd/e+f g\\h'
    path = tmp_path / "c.jsonl"
    frames = [
        Frame(0, 0.0, 0, Direction.SEND, json.dumps({"key": secret})),  # \" and \\ inside the frame
        Frame(1, 0.1, 0, Direction.SEND, "wss://h/?k=ab%22cd%2Fe%2Bf%20g%5Ch"),
        Frame(2, 0.2, 0, Direction.SEND, "wss://h/?k=ab%22cd%2Fe%2Bf+g%5Ch"),
        Frame(3, 0.3, 0, Direction.SEND, secret),
    ]
    with CaptureWriter(path, "x", secrets=[secret]) as writer:
        for frame in frames:
            writer.write(frame)
    assert [f.text for f in read_capture(path).frames] == [
        '{"key": "REDACTED"}',
        "wss://h/?k=REDACTED",
        "wss://h/?k=REDACTED",
        "REDACTED",
    ]


def test_secrets_added_later_are_redacted_from_the_next_line_on(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    late = "sk_car_learned_at_connect"
    with CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket", secrets=[KEY]) as writer:
        writer.write(Frame(0, 0.0, 1, Direction.SEND, f"before {late} {KEY}"))
        writer.add_secrets([late, KEY, "abc"])
        writer.add_secrets([late])
        writer.write(Frame(1, 0.1, 1, Direction.SEND, f"after {late} {KEY}"))
        writer.write(Frame(2, 0.2, 1, Direction.RECV, json.dumps({"echo": late})))
    texts = [f.text for f in read_capture(path).frames]
    # What was written before the writer knew the secret stays as it was: the caller adds it in time.
    assert texts == [
        f"before {late} {REDACTED}",
        f"after {REDACTED} {REDACTED}",
        json.dumps({"echo": REDACTED}),
    ]


def test_secrets_shorter_than_four_characters_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    with CaptureWriter(path, "x", secrets=["abc", ""]) as writer:
        writer.write(Frame(0, 0.0, 0, Direction.SEND, "abcabc"))
    assert read_capture(path).frames[0].text == "abcabc"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("wss://api.cartesia.ai/tts/websocket", "wss://api.cartesia.ai/tts/websocket"),
        (
            "wss://api.cartesia.ai/tts/websocket?api_key=sk_1&cartesia_version=2025-04-16",
            "wss://api.cartesia.ai/tts/websocket?api_key=REDACTED&cartesia_version=2025-04-16",
        ),
        ("wss://h/?access_token=t0k&x=1", "wss://h/?access_token=REDACTED&x=1"),
        (
            "wss://h/?X-Auth-User=u&MyToken=1&client_secret=s&api%5Fkey=k",
            "wss://h/?X-Auth-User=REDACTED&MyToken=REDACTED&client_secret=REDACTED&api%5Fkey=REDACTED",
        ),
        ("wss://user:pa55@h:8080/p?q=1", "wss://REDACTED@h:8080/p?q=1"),
        ("wss://token@h/p", "wss://REDACTED@h/p"),
        ("https://h/p?a=1&flag&key&key=&b=2", "https://h/p?a=1&flag&key&key=REDACTED&b=2"),
        ("https://h/cb#access_token=abc&state=1", "https://h/cb#access_token=REDACTED&state=1"),
        ("https://h/p?a=1#frag", "https://h/p?a=1#frag"),
        ("ws://[::1/?api_key=k", "ws://[::1/?api_key=REDACTED"),
        ("/tts/websocket?api_key=k", "/tts/websocket?api_key=REDACTED"),
        ("", ""),
        ("embedded emulator", "embedded emulator"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert redact_url(expected) == expected


def test_redact_text_replaces_longest_secret_first() -> None:
    assert redact_text("k=abcd1234 and abcd", ["abcd", "abcd1234", "ab"]) == "k=REDACTED and REDACTED"
    assert redact_text("nothing here", []) == "nothing here"


# --- damaged and foreign files ------------------------------------------------------------------------


def cut_capture(tmp_path: Path, cut: int) -> tuple[Path, list[Frame]]:
    path = tmp_path / "c.jsonl"
    frames = [Frame(i, i * 0.5, 0, Direction.RECV, chunk_text("é" * 10, i)) for i in range(4)]
    write(path, frames)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - cut])
    return path, frames


def test_cut_off_last_line_loads_the_whole_lines_with_a_warning(tmp_path: Path) -> None:
    path, frames = cut_capture(tmp_path, cut=20)
    loaded = read_capture(path)
    assert loaded.frames == frames[:3]
    assert loaded.warnings == ["line 5 is incomplete (the recording was cut off); loaded 3 frames"]


def test_cut_inside_a_multibyte_character_is_a_cut_off_line_too(tmp_path: Path) -> None:
    path, frames = cut_capture(tmp_path, cut=0)
    raw = path.read_bytes()
    last_e = raw.rfind("é".encode())
    assert last_e > raw.rfind(b"\n", 0, len(raw) - 1)
    path.write_bytes(raw[: last_e + 1])
    loaded = read_capture(path)
    assert loaded.frames == frames[:3]
    assert "line 5 is incomplete" in loaded.warnings[0]


def test_last_line_without_newline_but_whole_is_loaded(tmp_path: Path) -> None:
    path, frames = cut_capture(tmp_path, cut=1)
    loaded = read_capture(path)
    assert loaded.frames == frames
    assert loaded.warnings == []


def test_blank_lines_crlf_and_bom_are_tolerated() -> None:
    line = json.dumps({"t": 1, "conn": 0, "dir": "send", "frame": "a"})
    loaded = read_capture_text("\ufeff" + HEADER + "\r\n\r\n" + line + "\r\n   \n" + line)
    assert [(f.index, f.t, f.text) for f in loaded.frames] == [(0, 1.0, "a"), (1, 1.0, "a")]
    assert loaded.warnings == []


def line_of(**fields: object) -> str:
    return json.dumps({"t": 0.5, "conn": 0, "dir": "send", "frame": "x"} | fields)


GOOD = line_of()


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("this is not json", "not JSON"),
        ("[1, 2, 3]", "must be a JSON object, not an array"),
        ('{"t": 0.5, "conn": 0, "dir": "send", "frame": "x"', "not JSON"),
        (json.dumps({"conn": 0, "dir": "send", "frame": "x"}), '"t" must be a number of seconds, not null'),
        (line_of(t="0.5"), '"t" must be a number of seconds, not a string'),
        (line_of(t=True), '"t" must be a number of seconds, not a boolean'),
        (
            '{"t": NaN, "conn": 0, "dir": "send", "frame": "x"}',
            '"t" must be a number of seconds of at most 1e+10, not nan',
        ),
        (
            '{"t": Infinity, "conn": 0, "dir": "send", "frame": "x"}',
            '"t" must be a number of seconds of at most 1e+10, not inf',
        ),
        (
            '{"t": 1' + "0" * 400 + ', "conn": 0, "dir": "send", "frame": "x"}',
            '"t" must be a number of seconds of at most 1e+10, not inf',
        ),
        (line_of(t=1e308), '"t" must be a number of seconds of at most 1e+10, not 1e+308'),
        (line_of(conn=-1), '"conn" must be a whole number from 0 to 2147483647, not -1'),
        (line_of(conn=10**26), '"conn" must be a whole number from 0 to 2147483647, not 1.000e+26'),
        (line_of(conn=1.0), '"conn" must be a whole number from 0 to 2147483647, not a number'),
        (line_of(conn=None), '"conn" must be a whole number from 0 to 2147483647, not null'),
        (line_of(dir="sent"), '"dir" must be "send", "recv" or "meta", not "sent"'),
        (line_of(dir=["send"]), '"dir" must be "send", "recv" or "meta"'),
        (line_of(frame=5), '"frame" must be a string, not an integer'),
        (line_of(frame={"a": 1}), '"frame" must be a string, not an object'),
        (line_of(frame=None), 'a send line needs a "frame" string'),
        (line_of(dir="recv", frame=None, meta={"event": "x"}), 'a recv line needs a "frame" string'),
        (line_of(dir="meta", frame=None, meta="text"), 'a meta line needs a "meta" object, not a string'),
        (line_of(dir="meta", meta={"event": "x"}), 'either "frame" or "meta", not both'),
        ("[" * 100_000, "not JSON"),
    ],
)
def test_bad_line_in_the_middle_is_left_out_with_its_line_named(bad: str, problem: str) -> None:
    text = "\n".join([HEADER, GOOD, GOOD, bad, GOOD]) + "\n"
    loaded = read_capture_text(text, "bad.jsonl")
    # Every other line is loaded, numbered in file order.
    assert [(f.index, f.t, f.text) for f in loaded.frames] == [(0, 0.5, "x"), (1, 0.5, "x"), (2, 0.5, "x")]
    (warning,) = loaded.warnings
    assert warning.startswith("line 4: ")
    assert problem in warning
    assert warning.endswith("; the line is left out")


def test_bad_utf8_in_the_middle_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(
        b"\n".join([HEADER.encode(), GOOD.encode(), b'{"t": 1, "frame": "\xff"}', GOOD.encode()]) + b"\n"
    )
    loaded = read_capture(path)
    assert len(loaded.frames) == 2
    assert loaded.warnings == ["line 3: not UTF-8 text (bad byte at column 20); the line is left out"]


def test_bad_last_line_that_is_whole_is_left_out_and_named() -> None:
    loaded = read_capture_text(HEADER + "\n" + GOOD + "\ngarbage\n")
    assert len(loaded.frames) == 1
    (warning,) = loaded.warnings
    assert warning.startswith("line 3: not JSON")


def test_many_bad_lines_are_counted_after_the_first_twenty() -> None:
    lines = [HEADER, *(["garbage"] * 25), GOOD]
    loaded = read_capture_text("\n".join(lines) + "\n")
    assert len(loaded.frames) == 1
    assert [w.split(":")[0] for w in loaded.warnings[:20]] == [f"line {n}" for n in range(2, 22)]
    assert loaded.warnings[20:] == ["5 more bad lines are left out"]


def test_meta_line_with_frame_keeps_text() -> None:
    loaded = read_capture_text(HEADER + "\n" + line_of(dir="meta", frame="free text") + "\n")
    assert loaded.frames == [Frame(0, 0.5, 0, Direction.META, "free text")]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty"),
        (b'{"some": "json", "format": "other"}\n', 'no "format": "flushscope-capture"'),
        (b'["flushscope-capture"]\n', 'no "format": "flushscope-capture"'),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\n", "not UTF-8"),
        (b"hello world\n", "not a JSON header"),
        (
            b'{"format": "flushscope-capture", "version": 1',
            "the file ends inside its header line, after 45 bytes: the capture is cut off",
        ),
        (b'{"format": "flushscope-capture"}\n', "version must be an integer, not null"),
        (b'{"format": "flushscope-capture", "version": "1"}\n', "version must be an integer, not a string"),
        (
            b'{"format": "flushscope-capture", "version": 2}\n',
            "capture version 2 is newer than this flushscope",
        ),
        (b'{"format": "flushscope-capture", "version": 0}\n', "unknown capture version 0"),
        (b'{"format": "flushscope-capture", "version": 1, "target": 5}\n', "'target' must be a string"),
        (b'{"format": "flushscope-capture", "version": 1, "note": []}\n', "'note' must be a string"),
        (b"x" * (2 << 20), "far too long"),
    ],
)
def test_not_a_capture_names_line_1(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(content)
    with pytest.raises(CaptureError) as info:
        read_capture(path)
    assert info.value.line == 1
    assert problem in str(info.value)
    assert str(path) in str(info.value)


def test_random_binary_file_is_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "noise.bin"
    path.write_bytes(b"\xff" + os.urandom(100_000))
    with pytest.raises(CaptureError, match="line 1"):
        read_capture(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="cannot open") as info:
        read_capture(tmp_path / "nope.jsonl")
    assert info.value.line is None
    with pytest.raises(CaptureError, match="cannot"):
        read_capture(tmp_path)


def test_open_capture_streams_frames(tmp_path: Path) -> None:
    frames = sample_frames()
    path = tmp_path / "c.jsonl"
    write(path, frames)
    with open_capture(path) as reader:
        assert reader.header.target == "wss://api.cartesia.ai/tts/websocket"
        first = next(iter(reader))
        assert first == frames[0]
        assert [first, *reader] == frames
        assert reader.warnings == []


@settings(max_examples=300)
@given(st.text())
def test_any_text_loads_or_raises_capture_error(text: str) -> None:
    for candidate in (text, HEADER + "\n" + text):
        with contextlib.suppress(CaptureError):
            read_capture_text(candidate)


def test_known_json_is_stored_inline_and_reads_back_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "inline.fscap.jsonl"
    texts = [
        '{"type": "chunk", "data": "AAAA", "flush_id": 1}',
        '{"a":1,  "b" : [1, 2]}',
        '{"json": "a member named json inside the frame"}',
    ]
    with CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket") as writer:
        for i, text in enumerate(texts):
            writer.write(Frame(i, i * 0.5, 1, Direction.RECV, text), valid_json=True)
        # Not claimed valid: stays an escaped string, whatever it looks like.
        writer.write(Frame(3, 2.0, 1, Direction.RECV, '{"broken": }'))
        # Claimed valid but with a line break: must not be inlined.
        writer.write(Frame(4, 2.5, 1, Direction.RECV, '{\n"a": 1}'), valid_json=True)
    lines = path.read_text().splitlines()
    assert all('"json":' in line for line in lines[1:4])
    assert '"frame":' in lines[4] and '"frame":' in lines[5]
    loaded = read_capture(path)
    assert [f.text for f in loaded.frames] == [*texts, '{"broken": }', '{\n"a": 1}']
    assert all(isinstance(json.loads(line), dict) for line in lines)
