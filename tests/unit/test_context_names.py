"""Context names: a scenario's ``context greeting`` recorded as a ``context_name`` meta event, read into
``Context.name``, and used wherever a context is named (anomalies, lints, report, play, WAV names, diff), a
reopened capture and a HAR round trip included. Names are untrusted: bounded, and escaped where shown."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from flushscope.audio.wav import export_session, segment_file_name
from flushscope.cli.diff import format_diff
from flushscope.cli.errors import UsageError
from flushscope.cli.play import find_context
from flushscope.core.analysis.diff import diff_sessions
from flushscope.core.analysis.lint_cache import lint_session
from flushscope.core.analysis.lint_ids import LintId
from flushscope.core.analysis.report import build_report, format_report
from flushscope.core.formats.har import write_har
from flushscope.core.formats.recordings import read_recording
from flushscope.core.frames import Direction
from flushscope.core.model.anomalies import AnomalyKind
from flushscope.core.model.records import MAX_NAME
from flushscope.core.model.session import Session, rebuild
from flushscope.core.store.capture_reader import read_capture
from flushscope.core.store.capture_writer import CaptureWriter
from session_wire import RecordedWire, Wire

GREETING = "9d8f23e0-1111-4c1e-9a55-0123456789ab"
WEATHER = "9d8f9999-2222-4c1e-9a55-0123456789ab"
PLAIN = "77aa0000-3333-4c1e-9a55-0123456789ab"


def _named_turns(wire: Wire) -> None:
    """Two named contexts and an unnamed one, each spoken to its done."""
    wire.connect()
    wire.name(GREETING, "greeting")
    wire.turn(GREETING, ["Hello there. ", "Welcome."])
    wire.name(WEATHER, "weather")
    wire.turn(WEATHER, ["Sunny today."])
    wire.turn(PLAIN, ["No name."])


def _session() -> Session:
    wire = Wire()
    _named_turns(wire)
    return wire.session


def test_a_name_recorded_before_the_first_send_names_that_context() -> None:
    session = _session()
    assert [(c.context_id, c.name, c.title) for c in session.contexts] == [
        (GREETING, "greeting", "greeting"),
        (WEATHER, "weather", "weather"),
        (PLAIN, None, PLAIN),
    ]


def test_a_name_names_one_context_on_its_own_connection() -> None:
    wire = Wire()
    wire.connect()
    wire.name("a", "first")
    wire.conn = 2
    wire.connect()
    wire.send("a", "On another connection.")
    wire.conn = 1
    wire.turn("a", ["Named."])
    # The id again after done: a new context, which a name recorded before it would have named.
    wire.send("a", "Reused.")
    named = [(c.conn, c.context_id, c.name) for c in wire.session.contexts]
    assert named == [(2, "a", None), (1, "a", "first"), (1, "a", None)]


@pytest.mark.parametrize(
    ("event", "name", "title"),
    [
        ({"name": "x" * 100}, "x" * (MAX_NAME - 1) + "…", "x" * (MAX_NAME - 1) + "…"),
        ({"name": "  spaced  "}, "spaced", "spaced"),
        ({"name": "red\x1b[31m\nline"}, "red\x1b[31m\nline", "red\\x1b[31m\\nline"),
        ({"name": "mirror\u202etxt"}, "mirror\u202etxt", "mirror\\u202etxt"),
        ({"name": ""}, None, "c"),
        ({"name": 7}, None, "c"),
        ({}, None, "c"),
    ],
)
def test_names_are_untrusted_text_bounded_and_escaped_where_shown(
    event: dict[str, object], name: str | None, title: str
) -> None:
    wire = Wire()
    wire.connect()
    wire.add(Direction.META, json.dumps({"event": "context_name", "context_id": "c", **event}))
    wire.send("c", "Hi.")
    [ctx] = wire.session.contexts
    assert (ctx.name, ctx.title) == (name, title)


def test_anomaly_and_lint_texts_call_a_named_context_by_its_name() -> None:
    wire = Wire()
    wire.connect()
    wire.name(GREETING, "greeting")
    wire.send(GREETING, "Never answered.")
    wire.end(GREETING)
    wire.name(WEATHER, "weather")
    wire.send(WEATHER, "Left open.")
    wire.error(WEATHER, f"context {WEATHER} is not valid")
    # As the live window's timer does: the recording goes on past the wait, so it is a timeout.
    wire.session.check_timeouts(math.inf)
    [timeout] = [a for a in wire.session.anomalies if a.kind is AnomalyKind.DONE_TIMEOUT]
    assert timeout.message.startswith("no done for context greeting within")
    assert timeout.context_id == GREETING
    # A server's words are quoted as they came.
    [error] = [a for a in wire.session.anomalies if a.kind is AnomalyKind.SERVER_ERROR]
    assert f"context {WEATHER} is not valid" in error.message

    wire = Wire()
    wire.connect()
    wire.name(GREETING, "greeting")
    wire.send(GREETING, "Never ended.")
    [lint] = lint_session(wire.session)
    assert lint.id is LintId.CONTEXT_NEVER_ENDED
    assert lint.message.startswith("Context greeting was never ended")
    assert lint.context_id == GREETING


def test_the_name_survives_reopening_the_capture_and_a_har_round_trip(tmp_path: Path) -> None:
    capture = tmp_path / "named.fscap.jsonl"
    with CaptureWriter(capture, "ws://127.0.0.1:1/tts/websocket") as writer:
        _named_turns(RecordedWire(writer))
    reopened = rebuild(read_capture(capture).frames)
    assert [c.name for c in reopened.contexts] == ["greeting", "weather", None]
    # The HAR writer keeps every meta event in flushscope's own field, the name among them.
    write_har(read_capture(capture), tmp_path / "named.har")
    back = rebuild(read_recording(tmp_path / "named.har").frames)
    assert [c.name for c in back.contexts] == ["greeting", "weather", None]


def test_report_text_and_json_carry_the_name() -> None:
    session = _session()
    report = build_report(session)
    assert [c["name"] for c in report["contexts"]] == ["greeting", "weather", None]
    assert [c["context_id"] for c in report["contexts"]] == [GREETING, WEATHER, PLAIN]
    text = format_report(session).splitlines()
    heads = [line for line in text if line.startswith("context ")]
    assert heads[0].startswith(f"context 1 greeting · {GREETING} (connection 1,")
    assert heads[2].startswith(f"context 3 {PLAIN} (connection 1,")


def test_play_finds_a_context_by_id_name_position_or_a_unique_id_prefix() -> None:
    session = _session()
    greeting, weather, plain = session.contexts
    assert find_context(session, GREETING) is greeting
    assert find_context(session, "weather") is weather
    assert find_context(session, "3") is plain
    assert find_context(session, "9d8f2") is greeting
    assert find_context(session, "77") is plain
    with pytest.raises(UsageError) as ambiguous:
        find_context(session, "9d8f")
    assert str(ambiguous.value) == (
        f"'9d8f' begins several context_ids; the candidates: 1 greeting ({GREETING}), 2 weather ({WEATHER})"
    )
    with pytest.raises(UsageError) as unknown:
        find_context(session, "rain")
    assert str(unknown.value) == (
        f"no context 'rain'; the capture has: 1 greeting ({GREETING}), 2 weather ({WEATHER}), 3 ({PLAIN})"
    )


def test_a_name_two_contexts_share_asks_for_the_position() -> None:
    wire = Wire()
    wire.connect()
    for context_id in ("x1", "x2"):
        wire.name(context_id, "same")
        wire.turn(context_id, ["Twice."])
    with pytest.raises(UsageError, match="name 'same' is used by several contexts; give its position: 1, 2"):
        find_context(wire.session, "same")


def test_wav_files_take_the_name_made_safe_for_the_file_system(tmp_path: Path) -> None:
    capture = tmp_path / "c.fscap.jsonl"
    with CaptureWriter(capture, "ws://127.0.0.1:1/tts/websocket") as writer:
        wire = RecordedWire(writer)
        wire.connect()
        wire.name("c1", "../up and/away")
        wire.turn("c1", ["One."])
        wire.turn("c2", ["Two."])
    session = wire.session
    assert segment_file_name(session.contexts[0].segments[0]) == "1-_up_and_away-flush1.wav"
    paths = export_session(session, tmp_path / "wav")
    assert sorted(p.name for p in paths) == ["1-_up_and_away-flush1.wav", "2-c2-flush1.wav"]
    assert all(p.parent == tmp_path / "wav" for p in paths)


def test_diff_shows_the_names_of_the_contexts_it_matched() -> None:
    a, b = _session(), Wire()
    b.connect()
    b.name("other", "greeting")
    b.turn("other", ["Hello there. ", "Welcome."])
    diff = diff_sessions(a, b.session)
    first = diff.contexts[0]
    assert first.a is not None and first.b is not None
    assert (first.a.name, first.b.name) == ("greeting", "greeting")
    assert diff.to_json()["contexts"][1]["a"]["name"] == "weather"
    text = format_diff(diff, "A", "B")
    assert "context 1: greeting (done) | greeting (done)" in text
    assert "context 2 is gone in B (it was weather, 1 segments)" in text
