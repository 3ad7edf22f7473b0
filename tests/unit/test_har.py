"""HAR files in and out, and opening either kind of recording by its content."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from flushscope.core.formats.har import load_har, read_har, write_har
from flushscope.core.formats.recordings import (
    RecordingFormat,
    detect_format,
    format_for_name,
    read_recording,
    write_recording,
)
from flushscope.core.frames import Direction, Frame
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.session import Session, rebuild
from flushscope.core.store.capture_reader import read_capture
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.core.store.line_format import CaptureError
from flushscope.core.store.redaction import REDACTED
from session_wire import Wire

KEY = "sk_car_har_secret_0123456789"
TOKEN = "tok_short_lived_abcdef"
T0 = 1767225600.0  # 2026-01-01T00:00:00Z


def message(kind: str, t: float, data: str, opcode: int = 1) -> dict[str, Any]:
    return {"type": kind, "time": T0 + t, "opcode": opcode, "data": data}


def entry(
    url: str, messages: list[dict[str, Any]] | None, *, started: float = 0.0, **extra: Any
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "startedDateTime": f"2026-01-01T00:00:{started:09.6f}Z",
        "time": 12.5,
        "request": {"method": "GET", "url": url, "httpVersion": "HTTP/1.1", "headers": [], "queryString": []},
        "response": {"status": 101, "statusText": "Switching Protocols", "headers": []},
        **extra,
    }
    if messages is not None:
        value["_webSocketMessages"] = messages
    return value


def har(*entries: dict[str, Any]) -> dict[str, Any]:
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "entries": list(entries),
        }
    }


def request(context_id: str, transcript: str, **extra: Any) -> str:
    return json.dumps({"context_id": context_id, "transcript": transcript, "continue": True, **extra})


def chunk(context_id: str, flush_id: int) -> str:
    data = base64.b64encode(b"\x00\x01" * 480).decode()
    return json.dumps(
        {
            "type": "chunk",
            "context_id": context_id,
            "data": data,
            "done": False,
            "status_code": 206,
            "flush_id": flush_id,
        }
    )


def tts_entry(started: float = 0.1) -> dict[str, Any]:
    return entry(
        "wss://api.cartesia.ai/tts/websocket?cartesia_version=2025-04-16",
        [
            message("send", started + 0.01, request("a", "Hello there. ", voice={"mode": "id", "id": "v"})),
            message("send", started + 0.02, request("a", "", flush=True)),
            message("receive", started + 0.2, chunk("a", 1)),
            message(
                "receive",
                started + 0.3,
                json.dumps(
                    {
                        "type": "flush_done",
                        "context_id": "a",
                        "flush_id": 1,
                        "flush_done": True,
                        "done": False,
                    }
                ),
            ),
        ],
        started=started,
    )


# --- reading a browser's HAR --------------------------------------------------------------------------


def test_only_tts_websockets_become_connections() -> None:
    document = har(
        entry("https://example.com/index.html", None),
        entry("wss://example.com/chat/websocket", [message("send", 0.05, "hello chat")]),
        tts_entry(0.1),
        entry("https://api.cartesia.ai/voices", None, _webSocketMessages=[]),
        tts_entry(0.5),
    )
    loaded = load_har(document, "browser.har")
    assert {f.conn for f in loaded.frames} == {1, 2}
    assert "hello chat" not in [f.text for f in loaded.frames]
    first = [f for f in loaded.frames if f.conn == 1]
    assert [(f.dir, f.meta().get("event")) for f in first[:2]] == [
        (Direction.META, "connect"),
        (Direction.META, "open"),
    ]
    assert [f.dir for f in first[2:]] == [Direction.SEND, Direction.SEND, Direction.RECV, Direction.RECV]
    # Times count from the earliest event read: the first TTS entry's start.
    assert [f.t for f in first] == [0.0, 0.0, 0.01, 0.02, 0.2, 0.3]
    assert [f.t for f in loaded.frames if f.conn == 2][2] == pytest.approx(0.41)
    assert loaded.header.target == "wss://api.cartesia.ai/tts/websocket?cartesia_version=2025-04-16"
    assert loaded.header.app == "WebInspector 537.36"
    assert loaded.header.extra == {"source": "har"}
    assert loaded.header.started == "2026-01-01T00:00:00.100000Z"


def test_frames_of_several_connections_are_merged_by_time() -> None:
    loaded = load_har(har(tts_entry(0.1), tts_entry(0.15)), "x.har")
    times = [f.t for f in loaded.frames]
    assert times == sorted(times)
    assert [f.conn for f in loaded.frames if f.dir is not Direction.META] == [1, 1, 2, 2, 1, 2, 1, 2]


def test_a_har_rebuilds_the_segments_it_holds() -> None:
    session = rebuild(load_har(har(tts_entry()), "x.har").frames)
    [ctx] = session.contexts
    assert ctx.context_id == "a"
    assert [(s.flush_id, s.text, s.chunk_count) for s in ctx.segments[:1]] == [(1, "Hello there. ", 1)]


def test_binary_frames_other_opcodes_and_millisecond_times() -> None:
    audio = base64.b64encode(bytes(100)).decode()
    messages = [
        {"type": "send", "time": (T0 + 0.25) * 1000, "opcode": 1, "data": request("a", "Hi.")},
        message("receive", 0.5, audio, opcode=2),
        message("receive", 0.6, "", opcode=9),
        message("ping", 0.7, "x"),
    ]
    loaded = load_har(har(entry("ws://127.0.0.1:1/tts/websocket", messages)), "x.har")
    assert [(f.t, f.dir, f.text) for f in loaded.frames[2:]] == [
        (0.25, Direction.SEND, request("a", "Hi.")),
        (0.5, Direction.META, '{"event":"binary","dir":"recv","bytes":100}'),
    ]
    assert loaded.warnings == [
        "entry 1: left out 1 message(s) with opcode 9",
        "entry 1: left out 1 message(s) with type 'ping'",
    ]


def test_a_refused_upgrade_is_an_error_event() -> None:
    refused = entry("ws://127.0.0.1:1/tts/websocket", [])
    refused["response"]["status"] = 401
    frames = load_har(har(refused), "x.har").frames
    assert [f.meta() for f in frames] == [
        {"event": "connect", "url": "ws://127.0.0.1:1/tts/websocket"},
        {"event": "error", "message": "HTTP 401", "status": 401},
    ]


def test_secrets_in_urls_headers_and_queries_never_come_out(tmp_path: Path) -> None:
    url = f"wss://user:{TOKEN}@api.cartesia.ai/tts/websocket?api_key={KEY}&access_token={TOKEN}"
    leaky = entry(
        url,
        [
            message("send", 0.1, request("a", f"my key is {KEY}")),
            message(
                "receive",
                0.2,
                json.dumps({"type": "error", "context_id": "a", "error": f"bad token {TOKEN}"}),
            ),
        ],
    )
    leaky["request"]["headers"] = [
        {"name": "Authorization", "value": f"Bearer {KEY}"},
        {"name": "X-API-Key", "value": KEY},
        {"name": "User-Agent", "value": f"browser {TOKEN}"},
    ]
    leaky["request"]["queryString"] = [{"name": "api_key", "value": KEY}]
    other = entry("https://api.cartesia.ai/voices", None)
    other["request"]["headers"] = [{"name": "Cookie", "value": "session=cookievalue123"}]
    leaky["_webSocketMessages"].append(message("send", 0.3, "cookie session=cookievalue123"))
    path = tmp_path / "leaky.har"
    path.write_text(json.dumps(har(other, leaky)))
    loaded = read_recording(path)
    everything = json.dumps([f.text for f in loaded.frames]) + json.dumps(loaded.header.target)
    assert KEY not in everything and TOKEN not in everything and "cookievalue123" not in everything
    assert (
        loaded.header.target
        == f"wss://{REDACTED}@api.cartesia.ai/tts/websocket?api_key={REDACTED}&access_token={REDACTED}"
    )
    assert loaded.frames[0].meta()["client"] == f"browser {REDACTED}"
    for out in (tmp_path / "out.har", tmp_path / "out.fscap.jsonl"):
        fmt = format_for_name(out)
        assert fmt is not None
        write_recording(loaded, out, fmt)
        text = out.read_text()
        assert KEY not in text and TOKEN not in text and "cookievalue123" not in text
        assert REDACTED in text


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"log": {"entries": [', "line 1: not JSON (Expecting value at column 22): not a HAR file"),
        (b"[1, 2]", 'not a HAR file: no "log" object'),
        (b'{"log": {"entries": 3}}', '"log.entries" must be a list, not an integer'),
        (b'\xff{"log": {}}', "not UTF-8 text: not a HAR file"),
    ],
)
def test_a_broken_har_is_a_clear_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "broken.har"
    path.write_bytes(content)
    with pytest.raises(CaptureError) as raised:
        read_har(path)
    assert problem in str(raised.value)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    ("bad", "warning"),
    [
        (7, "entry 1: not an object but an integer; left out"),
        (
            {"request": {"url": "ws://h/tts/websocket"}, "_webSocketMessages": 5},
            'entry 1: "_webSocketMessages" is an integer, not a list; left out',
        ),
        (
            entry("ws://h/tts/websocket", [{"type": "send", "opcode": 1, "time": "soon", "data": "x"}]),
            'entry 1, message 1: "time" is not a number of seconds since the epoch; left out',
        ),
        (
            entry("ws://h/tts/websocket", [{"type": "send", "opcode": 1, "time": 1e300, "data": "x"}]),
            'entry 1, message 1: "time" is not a number of seconds since the epoch; left out',
        ),
        (
            entry("ws://h/tts/websocket", [{"type": "send", "opcode": 1, "time": 1, "data": None}]),
            'entry 1, message 1: "data" is null, not a string; left out',
        ),
        (
            entry("ws://h/tts/websocket", ["hello"]),
            "entry 1, message 1: not an object but a string; left out",
        ),
    ],
)
def test_a_broken_entry_or_message_is_left_out_and_the_rest_loads(
    tmp_path: Path, bad: object, warning: str
) -> None:
    path = tmp_path / "partly.har"
    document = har(tts_entry(0.1))
    document["log"]["entries"].insert(0, bad)
    path.write_text(json.dumps(document))
    loaded = read_har(path)
    assert warning in loaded.warnings
    assert [f.text for f in loaded.frames if f.dir is Direction.SEND] == [
        f.text for f in load_har(har(tts_entry(0.1))).frames if f.dir is Direction.SEND
    ]


def test_a_broken_json_har_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.har"
    path.write_text('{\n "log": {\n  "entries": [\n')
    with pytest.raises(
        CaptureError, match=r"cut\.har, line 4: not JSON \(Expecting value at column 1\): not a HAR file"
    ):
        read_recording(path)


def test_a_har_without_tts_websockets_loads_empty_with_a_warning() -> None:
    loaded = load_har(har(entry("https://example.com/", None)), "x.har")
    assert loaded.frames == []
    assert loaded.warnings == [
        "the HAR file holds no TTS WebSocket (no entry on /tts/websocket with messages)"
    ]


# --- round trips --------------------------------------------------------------------------------------


class _RecordedWire(Wire):
    """A :class:`Wire` whose frames also go to a capture file, at times with every microsecond digit used."""

    def __init__(self, capture: CaptureWriter) -> None:
        super().__init__()
        self.recorder = Recorder(self.session, capture, clock=lambda: self.t)

    def add(self, direction: Direction, obj: dict[str, Any] | str, dt: float = 0.01) -> Frame:
        self.t += dt + 0.0004567
        return self.recorder.record(self.conn, direction, obj if isinstance(obj, str) else json.dumps(obj))


def _recorded(path: Path) -> Session:
    """A capture of two connections with flushes, a late chunk, a lost connection and odd meta texts."""
    with CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket", note="two connections") as writer:
        wire = _RecordedWire(writer)
        wire.connect()
        wire.send("a", "Hello there. ")
        wire.flush("a")
        wire.send("a", "Second.")
        wire.end("a")
        wire.chunk("a", 1)
        wire.flush_done("a", 1)
        wire.chunk("a", 1)  # late: after its flush_done
        wire.conn = 2
        wire.connect()
        wire.send("b", "Other socket.")
        wire.add(Direction.META, "not json meta")
        wire.add(Direction.META, '{"event": "spaced"}', dt=0.0)
        wire.conn = 1
        wire.chunk("a", 2)
        wire.done("a")
        wire.conn = 2
        wire.chunk("b", 1)
        wire.close(1006, "")
    return wire.session


def snapshot(session: Session) -> dict[str, Any]:
    return {
        "contexts": [
            (
                c.conn,
                c.context_id,
                c.state.value,
                c.base,
                [(s.flush_id, s.text, s.chunk_count, s.state.value) for s in c.segments],
            )
            for c in session.contexts
        ],
        "anomalies": [(a.kind.value, a.frames) for a in session.anomalies],
        "connections": [(i.number, i.url, i.close_code) for i in session.connections.values()],
    }


def test_capture_to_har_to_capture_keeps_every_frame_and_the_model(tmp_path: Path) -> None:
    capture = tmp_path / "in.fscap.jsonl"
    live = _recorded(capture)
    original = read_capture(capture)
    write_har(original, tmp_path / "mid.har")
    assert detect_format(tmp_path / "mid.har") is RecordingFormat.HAR
    back = read_recording(tmp_path / "mid.har")
    write_recording(back, tmp_path / "out.fscap.jsonl", RecordingFormat.CAPTURE)
    again = read_capture(tmp_path / "out.fscap.jsonl")
    for loaded in (back, again):
        assert [(f.index, f.t, f.conn, f.dir, f.text) for f in loaded.frames] == [
            (f.index, f.t, f.conn, f.dir, f.text) for f in original.frames
        ]
        assert (loaded.header.started, loaded.header.target, loaded.header.note) == (
            original.header.started,
            original.header.target,
            "two connections",
        )
        rebuilt = rebuild(loaded.frames)
        assert snapshot(rebuilt) == snapshot(live)
    kinds = [kind for kind, _ in snapshot(live)["anomalies"]]
    assert "chunk_after_flush_done" in kinds and "server_went_away" in kinds


def test_the_har_written_is_what_browsers_write(tmp_path: Path) -> None:
    capture = tmp_path / "in.fscap.jsonl"
    _recorded(capture)
    write_har(read_capture(capture), tmp_path / "out.har")
    document = json.loads((tmp_path / "out.har").read_text())
    log = document["log"]
    assert (log["version"], log["creator"]["name"]) == ("1.2", "flushscope")
    first, second = log["entries"]
    assert first["request"]["url"] == "ws://127.0.0.1:1/tts/websocket"
    assert (first["_resourceType"], first["response"]["status"]) == ("websocket", 0)
    sent = first["_webSocketMessages"][0]
    assert (sent["type"], sent["opcode"], json.loads(sent["data"])["transcript"]) == (
        "send",
        1,
        "Hello there. ",
    )
    assert sent["time"] == _epoch(capture) + read_capture(capture).frames[1].t
    assert {m["type"] for m in second["_webSocketMessages"]} == {"send", "receive"}
    # A browser-style reader that knows nothing of flushscope's fields sees the same text frames.
    plain = json.loads(json.dumps(document))
    for item in plain["log"]["entries"]:
        item.pop("_flushscopeMeta")
        for m in item["_webSocketMessages"]:
            m.pop("_frame")
    del plain["log"]["_flushscope"]
    texts = [f.text for f in load_har(plain, "plain.har").frames if f.dir is not Direction.META]
    assert texts == [f.text for f in read_capture(capture).frames if f.dir is not Direction.META]


def _epoch(capture: Path) -> float:
    moment = read_capture(capture).header.started_at()
    assert moment is not None
    return moment.timestamp()


# --- telling the formats apart ------------------------------------------------------------------------


def test_formats_are_told_by_content_not_by_name(tmp_path: Path) -> None:
    capture = tmp_path / "capture.har"  # a misleading name
    with CaptureWriter(capture, "ws://h/tts/websocket"):
        pass
    one_line = tmp_path / "one.jsonl"
    one_line.write_text(json.dumps(har(tts_entry())))
    pretty = tmp_path / "pretty.txt"
    pretty.write_text("\ufeff\n" + json.dumps(har(tts_entry()), indent=2))
    assert detect_format(capture) is RecordingFormat.CAPTURE
    assert detect_format(one_line) is RecordingFormat.HAR
    assert detect_format(pretty) is RecordingFormat.HAR
    assert len(read_recording(pretty).frames) == 6


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty: neither a flushscope capture nor a HAR file"),
        (b"hello world\n", "neither a flushscope capture (JSON Lines under a header line) nor a HAR file"),
        (b'{"hello": 1}\n', 'line 1: the header has no "format"'),
    ],
)
def test_neither_format_is_a_clear_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "f"
    path.write_bytes(content)
    with pytest.raises(CaptureError) as raised:
        read_recording(path)
    assert problem in str(raised.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="cannot open"):
        read_recording(tmp_path / "missing.har")


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("x.har", RecordingFormat.HAR),
        ("X.HAR", RecordingFormat.HAR),
        ("x.jsonl", RecordingFormat.CAPTURE),
        ("x.fscap.jsonl", RecordingFormat.CAPTURE),
        ("x.json", None),
        ("x", None),
    ],
)
def test_the_output_format_comes_from_the_name(name: str, fmt: RecordingFormat | None) -> None:
    assert format_for_name(name) is fmt
