"""The report's lints and boundaries, --no-lint and --strict, the diff of built sessions, and the new
commands staying Qt-free."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from command_line import loaded, run_probed
from flushscope import cli
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from flushscope.core.analysis.diff import ChangeKind, diff_sessions
from flushscope.core.analysis.lint_cache import lint_session
from flushscope.core.analysis.lint_ids import LintId
from flushscope.core.analysis.sent_inputs import sent_contexts
from flushscope.core.frames import Direction, Frame
from flushscope.core.model.recorder import Recorder
from flushscope.core.store.capture_writer import CaptureWriter
from session_wire import Wire


class RecordedWire(Wire):
    """A Wire whose frames also go, whole, into a capture file."""

    def __init__(self, capture: CaptureWriter) -> None:
        super().__init__()
        self.recorder = Recorder(self.session, capture, clock=lambda: self.t)

    def add(self, direction: Direction, obj: dict[str, Any] | str, dt: float = 0.01) -> Frame:
        self.t += dt
        return self.recorder.record(self.conn, direction, obj if isinstance(obj, str) else json.dumps(obj))


def two_segments(
    wire: Wire, texts: tuple[str, str], flush_ids: tuple[int, int] = (1, 2), ctx: str = "a"
) -> None:
    """Two flushed segments; a ``|`` in a text cuts it into inputs, which the service buffers (3000 ms)."""
    for text in texts:
        for piece in text.split("|"):
            wire.send(ctx, piece, max_buffer_delay_ms=3000)
        wire.flush(ctx)
    wire.end(ctx)
    for flush_id, word in zip(flush_ids, ("Hello", "world"), strict=True):
        wire.chunk(ctx, flush_id)
        wire.words(ctx, flush_id, [word])
        wire.flush_done(ctx, flush_id)
    wire.done(ctx)


def capture(path: Path, texts: tuple[str, str], flush_ids: tuple[int, int] = (1, 2)) -> Path:
    with CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket") as writer:
        wire = RecordedWire(writer)
        wire.connect()
        two_segments(wire, texts, flush_ids)
        wire.close()
    return path


def test_report_json_lists_lints_and_boundaries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = capture(tmp_path / "c.fscap.jsonl", ("Hello|there", "world."))
    assert cli.main(["report", str(path), "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    ids = [lint["id"] for lint in data["lints"]]
    # In the order of their first frame (rules in their listed order on the same frame).
    assert ids == ["continuation-no-space", "short-segment", "short-segment"]
    join = data["lints"][0]
    assert join["context_id"] == "a" and join["flush_id"] == 1 and join["frames"] == [1, 2]
    assert {"message", "advice", "severity"} <= set(join)
    (boundary,) = data["boundaries"]
    assert (boundary["context_id"], boundary["from_flush_id"], boundary["to_flush_id"]) == ("a", 1, 2)
    assert boundary["last_word"] == "Hello"


def test_report_text_prints_lints_after_the_anomalies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = capture(tmp_path / "c.fscap.jsonl", ("Hello|there", "world."))
    assert cli.main(["report", str(path), "--no-lint", "short-segment"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.index("no anomalies") < out.index("1 lint (advice):") < out.index("[continuation-no-space]")
    assert "short-segment" not in out and "advice: End each transcript with a space" in out


def test_strict_makes_lints_count_and_an_unknown_lint_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messy = capture(tmp_path / "m.fscap.jsonl", ("Hello|there", "world."))
    clean = capture(tmp_path / "c.fscap.jsonl", ("Hello there, friend. ", "How are you?"))
    assert cli.main(["report", str(messy), "--strict"]) == EXIT_FAILED
    assert cli.main(["report", str(clean), "--strict"]) == EXIT_OK
    off = ["--no-lint", "short-segment", "--no-lint", "continuation-no-space"]
    assert cli.main(["report", str(messy), "--strict", *off]) == EXIT_OK
    capsys.readouterr()
    assert cli.main(["report", str(messy), "--no-lint", "shortsegment"]) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(
        "flushscope: --no-lint: no lint named 'shortsegment'; the lints are: "
    )


def test_inputs_are_grouped_per_context_and_a_reuse_starts_a_new_one() -> None:
    wire = Wire()
    wire.connect()
    wire.send("a", "Hello. ")
    wire.send("b", "Other.")
    wire.end("a")
    wire.flush("a")  # after the end: still context a's
    wire.done("a")
    wire.send("a", "Again.")  # text after the end: the id reused
    wire.end("b")
    contexts = sent_contexts(wire.session)
    assert [(c.context_id, len(c.inputs), len(c.after_close)) for c in contexts] == [
        ("a", 2, 1),
        ("b", 2, 0),
        ("a", 1, 0),
    ]
    assert [c.number for c in contexts] == [1, 2, 3]
    ids = [lint.id for lint in lint_session(wire.session)]
    assert LintId.FLUSH_AFTER_END in ids and LintId.CONTEXT_NEVER_ENDED in ids


def test_diff_keys_findings_by_segment_not_by_flush_id() -> None:
    a, b = Wire(), Wire()
    for wire in (a, b):
        wire.connect()
    two_segments(a, ("Hello there. ", "How are you?"))
    two_segments(b, ("Hello there. ", "How are you?"), flush_ids=(0, 1))
    diff = diff_sessions(a.session, b.session)
    assert [(c.kind, c.segment, c.before, c.after) for c in diff.counted] == [
        (ChangeKind.FLUSH_ID, 1, 1, 0),
        (ChangeKind.FLUSH_ID, 2, 2, 1),
    ]
    c = Wire()
    c.connect()
    two_segments(c, ("Hello there. ", "How are you?"), flush_ids=(1, 3))
    changes = diff_sessions(a.session, c.session).counted
    skipped = [
        ch for ch in changes if ch.kind is ChangeKind.ANOMALY_APPEARED and "flush_id_skipped" in ch.message
    ]
    # Flagged on the segment the server numbered 3, which the client never made.
    assert [(ch.context, ch.segment, ch.before, ch.after) for ch in skipped] == [(1, 3, 0, 1)]
    assert diff_sessions(a.session, a.session).same_structure


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["diff", "{capture}", "{capture}"], EXIT_OK),
        (
            [
                "compare",
                "Hello there. Bye now.",
                "--strategy",
                "one",
                "--strategy",
                "sentence",
                "--pace",
                "instant",
            ],
            EXIT_OK,
        ),
        (["export", "{capture}", "--out", "{tmp}/wav", "--labels"], EXIT_OK),
    ],
    ids=["diff", "compare", "export-labels"],
)
def test_the_analysis_commands_never_load_qt(tmp_path: Path, argv: list[str], code: int) -> None:
    path = capture(tmp_path / "c.fscap.jsonl", ("Hello there. ", "Bye now."))
    args = [a.format(capture=path, tmp=tmp_path) for a in argv]
    done = run_probed(*args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert loaded(done.stderr) == []


def test_timestamps_asked_for_on_the_first_input_and_never_sent() -> None:
    wire = Wire()
    wire.connect()
    wire.send("a", "Hello there. ", add_timestamps=True)
    wire.flush("a")
    wire.chunk("a", 1)
    assert [lint.id for lint in lint_session(wire.session, session_over=False)] == []
    wire.flush_done("a", 1)
    wire.send("a", "Bye.", add_timestamps=True)
    wire.end("a")
    wire.chunk("a", 2)
    wire.words("a", 2, ["Bye."])
    wire.done("a")
    (lint,) = lint_session(wire.session)
    assert (lint.id, lint.flush_id, lint.frames) == (LintId.TIMESTAMPS_MISSING, 1, (1, 3))
