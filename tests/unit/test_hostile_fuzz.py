"""Generated hostile input: whatever bytes a capture, a HAR file, a scenario or a frame holds, the readers
give a result or their own error, never any other exception.

Each reader is fed bytes from two kinds of generator: raw noise, and files that are almost right (a good
header and frame lines, a HAR skeleton with TTS entries) whose fields take extreme values (integers far
beyond 64 bits, 1e308, lone surrogates, wrong types, deep nesting, long strings). The session built from a
recording is finished and reported on too, so that a value the reader let through cannot break what
comes after it.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flushscope.core.analysis.report import build_report, format_report
from flushscope.core.formats.recordings import open_recording, read_recording
from flushscope.core.inputs.scenario import ScenarioError, load_scenario, parse_scenario
from flushscope.core.shown_text import escaped, json_shown
from flushscope.core.store.capture_reader import read_capture_text
from flushscope.core.store.line_format import CaptureError
from flushscope.protocol.messages import ProtocolError, parse_client, parse_server

HEADER = '{"format": "flushscope-capture", "version": 1, "app": "x", "started": "2026-01-12T10:20:30Z", "target": "ws://h/tts/websocket"}'
FIELDS = (
    "type", "context_id", "transcript", "continue", "flush", "flush_id", "data", "done", "status_code",
    "step_time", "output_format", "voice", "model_id", "max_buffer_delay_ms", "word_timestamps", "words",
    "start", "end", "error", "cancel", "event", "sample_rate", "encoding",
)  # fmt: skip
TYPES = ("chunk", "flush_done", "done", "timestamps", "phoneme_timestamps", "error", "what")

# Values at the edges: what a hostile file puts where a number, a string or an object is expected.
EXTREMES = st.sampled_from(
    [
        10**26, -(10**26), 2**63, 2**31, -1, 0, 1e308, -1e308, 1e-320, 4.5, True, None, "", "\ud800",
        "\x1b]0;title\x07\x1b[2J", "\u202e", "a" * 5000, [], {}, [[[[[]]]]], "AAAA", "////",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    EXTREMES, st.integers(), st.floats(allow_nan=False), st.text(max_size=20), st.booleans(), st.none()
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(FIELDS), inner, max_size=5)
    ),
    max_leaves=12,
)
FRAME_OBJECTS = st.builds(
    lambda base, extra: base | extra,
    st.fixed_dictionaries(
        {"type": st.sampled_from(TYPES), "context_id": st.sampled_from(["a", "b", "\x1b[2J"])}
    ),
    st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=6),
)


def _dump(value: Any) -> str:
    """JSON text of ``value`` the way a hostile writer could spell it (lone surrogates as escapes)."""
    return json.dumps(value)


@st.composite
def frame_lines(draw: st.DrawFn) -> str:
    """A capture line, mostly well formed, with fields at extreme values."""
    fields: dict[str, Any] = {
        "t": draw(st.one_of(st.floats(0, 100), EXTREMES)),
        "conn": draw(st.one_of(st.integers(0, 3), EXTREMES)),
        "dir": draw(st.sampled_from(["send", "recv", "meta", "other"])),
    }
    text = _dump(draw(FRAME_OBJECTS))
    if draw(st.booleans()):
        fields["frame"] = text
        line = _dump(fields)
    else:
        line = _dump(fields)[:-1] + ', "json": ' + text + "}"
    return draw(st.sampled_from([line, line[: max(1, len(line) // 2)], line + " trailing", line]))


@st.composite
def captures(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(frame_lines(), max_size=8))
    head = draw(
        st.sampled_from(
            [HEADER, HEADER, HEADER[:40], "", "{}", '{"format": "flushscope-capture", "version": 1e308}']
        )
    )
    body = "\n".join([head, *lines]) + draw(st.sampled_from(["\n", ""]))
    return body.encode("utf-8", "surrogatepass")


@st.composite
def hars(draw: st.DrawFn) -> bytes:
    messages = [
        {
            "type": draw(st.sampled_from(["send", "receive", "ping", 5])),
            "time": draw(st.one_of(st.floats(1.7e9, 1.8e9), EXTREMES)),
            "opcode": draw(st.one_of(st.sampled_from([1, 2]), EXTREMES)),
            "data": draw(st.one_of(FRAME_OBJECTS.map(_dump), EXTREMES)),
        }
        for _ in range(draw(st.integers(0, 5)))
    ]
    entry: dict[str, Any] = {
        "startedDateTime": draw(st.one_of(st.just("2026-01-12T10:20:30Z"), EXTREMES)),
        "request": {
            "url": draw(st.sampled_from(["wss://h/tts/websocket?api_key=k", "https://h/", 5, "\ud800"])),
            "headers": draw(st.one_of(st.just([{"name": "Authorization", "value": "Bearer k"}]), EXTREMES)),
        },
        "response": {"status": draw(st.one_of(st.just(101), EXTREMES))},
        "_webSocketMessages": draw(st.one_of(st.just(messages), EXTREMES)),
    }
    if draw(st.booleans()):
        entry["_flushscopeMeta"] = draw(st.one_of(st.lists(JSON_VALUES, max_size=3), EXTREMES))
    log: dict[str, Any] = {"entries": [entry, draw(JSON_VALUES)]}
    if draw(st.booleans()):
        log["_flushscope"] = draw(
            st.one_of(st.dictionaries(st.sampled_from(["epoch", "note", "target"]), EXTREMES), EXTREMES)
        )
    text = _dump({"log": log})
    return draw(st.sampled_from([text, text, text[: len(text) // 2], "[" * 300 + text])).encode(
        "utf-8", "surrogatepass"
    )


def _open_and_report(data: bytes, suffix: str) -> None:
    """Open ``data`` as a recording, finish and report on its session: a result, or CaptureError."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"f{suffix}"
        path.write_bytes(data)
        try:
            opened = open_recording(path)
            read_recording(path)
        except CaptureError:
            return
        session = opened.session
        session.finish()
        text = format_report(session)
        assert escaped(text.replace("\n", " ")) == text.replace("\n", " ")
        json_shown(json.dumps(build_report(session), ensure_ascii=False))


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.one_of(st.text(), st.binary().map(lambda b: b.decode("latin-1")), FRAME_OBJECTS.map(_dump)))
def test_the_frame_parsers_raise_only_protocol_errors(text: str) -> None:
    for parse in (parse_client, parse_server):
        with contextlib.suppress(ProtocolError):
            parse(text)


@SETTINGS
@given(FRAME_OBJECTS.map(_dump))
def test_the_frame_parsers_take_bytes_and_raise_only_protocol_errors(text: str) -> None:
    for parse in (parse_client, parse_server):
        with contextlib.suppress(ProtocolError):
            parse(text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.one_of(captures(), st.binary(max_size=300)))
def test_a_capture_of_any_bytes_opens_or_is_refused_in_words(data: bytes) -> None:
    _open_and_report(data, ".jsonl")


@SETTINGS
@given(captures())
def test_a_capture_read_as_text_gives_frames_or_a_capture_error(data: bytes) -> None:
    with contextlib.suppress(CaptureError):
        read_capture_text(data.decode("utf-8", "surrogatepass"), "t.jsonl")


@SETTINGS
@given(st.one_of(hars(), st.binary(max_size=300).map(lambda b: b'{"log": ' + b)))
def test_a_har_of_any_bytes_opens_or_is_refused_in_words(data: bytes) -> None:
    _open_and_report(data, ".har")


SCRIPT_WORDS = st.sampled_from(
    ["send", "flush", "end", "cancel", "wait", "raw", "use", "set", "sendflush", "id=", '"', "#", "\x1b[2J"]
)


@SETTINGS
@given(
    st.lists(st.lists(st.one_of(SCRIPT_WORDS, st.text(max_size=12)), max_size=5).map(" ".join), max_size=8)
)
def test_a_scenario_parses_or_lists_its_bad_lines(lines: list[str]) -> None:
    try:
        parse_scenario("\n".join(lines), "s.txt")
    except ScenarioError as exc:
        assert "\x1b" not in str(exc)


@SETTINGS
@given(st.binary(max_size=200))
def test_a_scenario_file_of_any_bytes_loads_or_is_refused_in_words(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.txt"
        path.write_bytes(data)
        try:
            load_scenario(path)
        except ScenarioError as exc:
            assert "\x1b" not in str(exc)
