"""Flush strategies compared on the emulator, captures diffed, and label tracks read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rig_support import TIMEOUT

from command_line import run_flushscope
from flushscope import cli
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from flushscope.core.analysis.compare import run_compare
from flushscope.core.analysis.diff import ChangeKind, diff_sessions
from flushscope.core.analysis.lint_ids import LintId
from flushscope.core.analysis.report import reported_segments
from flushscope.core.formats.audacity_labels import (
    Label,
    context_labels,
    export_session_labels,
    label_path,
    parse_labels,
    segment_labels,
)
from flushscope.core.inputs.scenario import parse_scenario
from flushscope.core.inputs.strategies import plan_strategies
from flushscope.core.model.records import ContextState
from flushscope.core.model.session import rebuild
from flushscope.core.store.capture_reader import read_capture
from flushscope.emulator.config import EmulatorConfig, Faults, Pacing
from flushscope.net.runner import run_scenario

TEXT = "Hello there, my friend. How are you today? I hope that all is well with you."
SCRIPT = """
context a
send "Hello there. "
flush
send "How are you today? "
flush
send Goodbye for now.
flush
end
context b
send "Another context, "
send with two inputs.
flush
end
"""


# --- compare ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_two_strategies_run_one_context_after_another(rig_factory: Any) -> None:
    rig = await rig_factory()
    plans = plan_strategies(TEXT, ["sentence", "words=4"])
    result = await run_compare(rig.client, rig.session, TEXT, plans, timeout=TIMEOUT)
    assert result.complete
    sentence, words = result.strategies
    assert [s.text for s in sentence.segments] == [
        "Hello there, my friend. ",
        "How are you today? ",
        "I hope that all is well with you.",
    ]
    assert [s.text for s in words.segments] == [
        "Hello there, my friend. ",
        "How are you today? ",
        "I hope that all ",
        "is well with you.",
    ]
    for strategy, plan in zip(result.strategies, plans, strict=True):
        assert strategy.pieces == plan.pieces
        assert [s.flush_id for s in strategy.segments] == list(range(1, len(plan.pieces) + 1))
        assert all(
            s.chunks > 0 and s.audio_seconds > 0.1 and s.ttfa_ms is not None for s in strategy.segments
        )
        assert strategy.state == "done" and strategy.anomalies == ()
        assert strategy.ttfa_ms is not None and strategy.total_ms is not None
        assert 0 <= strategy.ttfa_ms <= strategy.total_ms
        assert len(strategy.boundaries) == len(plan.pieces) - 1
        assert [(b.from_flush_id, b.to_flush_id) for b in strategy.boundaries] == [
            (i, i + 1) for i in range(1, len(plan.pieces))
        ]
        assert all(b.last_word_inside for b in strategy.boundaries)
    # One after another: the second context's first input follows the first one's done.
    first, second = rig.session.contexts
    assert first.done_t is not None and second.first_t >= first.done_t
    assert (first.context_id, second.context_id) == (sentence.context_id, words.context_id)
    assert sentence.lints == () and words.lints == ()
    data = result.to_json()
    assert [s["name"] for s in data["strategies"]] == ["sentence", "words=4"]
    assert set(data["strategies"][0]) >= {"name", "segments", "ttfa_ms", "total_ms", "boundaries"}
    assert set(data["strategies"][0]["segments"][0]) >= {"text", "flush_id", "ttfa_ms", "audio_seconds"}


@pytest.mark.asyncio
async def test_a_strategy_of_short_pieces_shows_its_lints(rig_factory: Any) -> None:
    rig = await rig_factory()
    plans = plan_strategies(TEXT, ["one", "words=1"])
    one, single = (await run_compare(rig.client, rig.session, TEXT, plans, timeout=TIMEOUT)).strategies
    assert len(one.segments) == 1 and one.boundaries == () and one.lints == ()
    assert len(single.segments) == len(TEXT.split())
    assert {lint.id for lint in single.lints} == {LintId.SHORT_SEGMENT}


def test_compare_command_prints_json_and_a_table(tmp_path: Path) -> None:
    args = ["compare", TEXT, "--strategy", "sentence", "--strategy", "Hello there, my friend.|How are you "
            "today? I hope that all is well with you.", "--pace", "instant", "--set", "encoding=pcm_f32le"]  # fmt: skip
    done = run_flushscope(*args, "--json", "--capture", str(tmp_path / "c.fscap.jsonl"), cwd=tmp_path)
    assert done.returncode == EXIT_OK, done.stderr
    data = json.loads(done.stdout)
    names = [s["name"] for s in data["strategies"]]
    assert names[0] == "sentence" and names[1].startswith("Hello there, my friend.|")
    custom = data["strategies"][1]
    assert [s["text"] for s in custom["segments"]] == [
        "Hello there, my friend. ",
        "How are you today? I hope that all is well with you.",
    ]
    assert len(custom["boundaries"]) == 1
    assert {"context_id", "from_flush_id", "to_flush_id", "trailing_silence_ms"} <= set(
        custom["boundaries"][0]
    )
    # The capture holds both contexts, in the requested encoding.
    session = rebuild(read_capture(tmp_path / "c.fscap.jsonl").frames)
    assert [c.context_id for c in session.contexts] == [s["context_id"] for s in data["strategies"]]
    assert all(c.format is not None and c.format.encoding.value == "pcm_f32le" for c in session.contexts)
    table = run_flushscope(*args, cwd=tmp_path)
    assert table.returncode == EXIT_OK, table.stderr
    header = table.stdout.splitlines()[2]
    assert header.split()[:4] == ["strategy", "state", "segments", "ttfa"]
    assert "sentence" in table.stdout and "boundary" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "sentence"], "two or more --strategy"),
        (["--strategy", "sentence", "--strategy", "paragraph"], "unknown strategy 'paragraph'"),
        (["--strategy", "one", "--strategy", "words=0"], "words=N needs a whole number"),
        (["--strategy", "one", "--strategy", "Hello|world"], "does not spell the text"),
        (["--strategy", "one", "--strategy", "one"], "given twice"),
        (["--strategy", "one", "--strategy", "sentence", "--set", "encoding=mp3"], "encoding must be one of"),
    ],
)
def test_compare_refuses_unusable_input_before_connecting(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["compare", "Hello there.", "--url", "ws://127.0.0.1:1", *args]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith("flushscope: ") and message in err


def test_compare_names_a_target_it_cannot_reach(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = cli.main(
        [
            "compare",
            "Hi there.",
            "--strategy",
            "one",
            "--strategy",
            "sentence",
            "--url",
            f"ws://127.0.0.1:{port}",
        ]
    )
    assert code == EXIT_USAGE
    assert "cannot reach" in capsys.readouterr().err


# --- diff ---------------------------------------------------------------------------------------


async def _run(path: Path, script: str = SCRIPT, **config: Any) -> Path:
    config.setdefault("pacing", Pacing.instant())
    result = await run_scenario(parse_scenario(script), path, None, EmulatorConfig(**config), timeout=TIMEOUT)
    assert result.settled
    return path


@pytest.mark.asyncio
async def test_identical_runs_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = await _run(tmp_path / "a.fscap.jsonl")
    b = await _run(tmp_path / "b.fscap.jsonl")
    assert cli.main(["diff", str(a), str(b)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "the structure agrees" in out
    assert cli.main(["diff", str(a), str(b), "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["same_structure"] is True and data["counted_changes"] == 0
    assert [len(c["segments"]) for c in data["contexts"]] == [3, 1]
    first = data["contexts"][0]["segments"][0]
    assert first["a"]["transcripts"] == first["b"]["transcripts"] == ["Hello there. "]
    assert first["a"]["ttfa_ms"] is not None and first["b"]["ttfa_ms"] is not None


@pytest.mark.asyncio
async def test_a_flush_id_base_of_0_is_named_segment_by_segment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = await _run(tmp_path / "a.fscap.jsonl")
    b = await _run(tmp_path / "b.fscap.jsonl", flush_id_base=0)
    assert cli.main(["diff", str(a), str(b), "--json"]) == EXIT_FAILED
    data = json.loads(capsys.readouterr().out)
    counted = [c for c in data["changes"] if c["counted"]]
    assert [(c["kind"], c["context"], c["segment"], c["before"], c["after"]) for c in counted] == [
        ("flush_id", 1, 1, 1, 0),
        ("flush_id", 1, 2, 2, 1),
        ("flush_id", 1, 3, 3, 2),
        ("flush_id", 2, 1, 1, 0),
    ]
    assert cli.main(["diff", str(a), str(b)]) == EXIT_FAILED
    out = capsys.readouterr().out
    assert "4 differences in structure" in out and "context 1 segment 2: flush_id 2 -> 1" in out


@pytest.mark.asyncio
async def test_skipped_flush_ids_show_as_new_anomalies_and_moved_audio(tmp_path: Path) -> None:
    a = await _run(tmp_path / "a.fscap.jsonl")
    b = await _run(tmp_path / "b.fscap.jsonl", faults=Faults(skip_flush_id=True))
    diff = diff_sessions(rebuild(read_capture(a).frames), rebuild(read_capture(b).frames))
    assert not diff.same_structure
    appeared = {
        (c.context, c.before, c.after, c.message.split()[1])
        for c in diff.changes
        if c.kind is ChangeKind.ANOMALY_APPEARED
    }
    assert (1, 0, 1, "flush_id_skipped") in appeared
    kinds = {c.kind for c in diff.counted}
    assert ChangeKind.SEGMENT_ADDED in kinds
    # The audio the client meant for segment 2 went elsewhere: shown, but volume alone does not count.
    moved = [c for c in diff.changes if c.kind is ChangeKind.CHUNKS and c.context == 1 and c.segment == 2]
    assert moved and moved[0].after == 0 and not moved[0].counted


@pytest.mark.asyncio
async def test_a_changed_transcript_and_a_new_lint_are_counted(tmp_path: Path) -> None:
    a = await _run(tmp_path / "a.fscap.jsonl")
    b = await _run(tmp_path / "b.fscap.jsonl", SCRIPT.replace('send "How are you today? "', "send Hi"))
    diff = diff_sessions(rebuild(read_capture(a).frames), rebuild(read_capture(b).frames))
    changes = [(c.kind, c.context, c.segment) for c in diff.counted]
    assert (ChangeKind.TRANSCRIPTS, 1, 2) in changes
    # "Hi" alone is a flushed segment of one word.
    assert (ChangeKind.LINT_APPEARED, 1, 2) in changes
    lint_off = diff_sessions(
        rebuild(read_capture(a).frames),
        rebuild(read_capture(b).frames),
        disabled_lints=[LintId.SHORT_SEGMENT],
    )
    assert [(c.kind, c.context, c.segment) for c in lint_off.counted] == [(ChangeKind.TRANSCRIPTS, 1, 2)]


@pytest.mark.asyncio
async def test_a_missing_context_is_named(tmp_path: Path) -> None:
    a = await _run(tmp_path / "a.fscap.jsonl")
    b = await _run(tmp_path / "b.fscap.jsonl", SCRIPT.split("context b")[0])
    diff = diff_sessions(rebuild(read_capture(a).frames), rebuild(read_capture(b).frames))
    assert [(c.kind, c.context) for c in diff.counted] == [(ChangeKind.CONTEXT_REMOVED, 2)]
    assert diff.contexts[1].b is None and diff.contexts[1].a is not None


def test_diff_of_unusable_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not a capture\n")
    assert cli.main(["diff", str(bad), str(bad)]) == EXIT_USAGE
    assert capsys.readouterr().err.startswith(f"flushscope: {bad}")
    assert cli.main(["diff", str(bad), str(bad), "--no-lint", "nope"]) == EXIT_USAGE
    assert "no lint named 'nope'" in capsys.readouterr().err


# --- label tracks -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_label_tracks_match_the_segments_and_their_words(tmp_path: Path) -> None:
    capture = await _run(
        tmp_path / "a.fscap.jsonl", SCRIPT.replace("context b", "set encoding pcm_mulaw\ncontext b")
    )
    out = tmp_path / "wav"
    assert cli.main(["export", str(capture), "--out", str(out), "--labels"]) == EXIT_OK
    session = rebuild(read_capture(capture).frames)
    wavs = sorted(out.glob("*.wav"))
    assert len(wavs) == 4 and sorted(out.glob("*.txt")) == sorted(label_path(w) for w in wavs)
    import soundfile

    for ctx in session.contexts:
        start = 0.0
        for segment in reported_segments(ctx):
            wav = next(
                w
                for w in wavs
                if w.name.startswith(f"{ctx.number}-") and f"flush{segment.flush_id}." in w.name
            )
            raw = label_path(wav).read_text(encoding="utf-8")
            assert all(len(line.split("\t")) == 3 for line in raw.splitlines())
            assert all(
                len(part.split(".")[1]) == 6 for line in raw.splitlines() for part in line.split("\t")[:2]
            )
            title, *words = parse_labels(raw)
            info = soundfile.info(str(wav))
            assert title.start == 0.0 and title.end == pytest.approx(info.duration, abs=1e-6)
            assert title.text == f"flush_id {segment.flush_id}: {segment.text.strip()}"
            # Word times are the context's, shifted to the segment's first sample.
            assert [w.text for w in words] == [w.text for w in segment.words]
            offset = (segment.start_sample or 0) / ctx.sample_rate
            assert offset == pytest.approx(start)
            for label, word in zip(words, segment.words, strict=True):
                assert label.start == pytest.approx(max(0.0, word.start - offset), abs=2e-6)
                assert 0.0 <= label.start <= label.end <= title.end + 1e-6
            start += segment.audio_seconds
    assert ctx.state is ContextState.DONE


@pytest.mark.asyncio
async def test_context_labels_lay_the_segments_end_to_end(rig_factory: Any) -> None:
    rig = await rig_factory()
    assert await rig.play(SCRIPT)
    ctx = rig.session.contexts[0]
    labels = context_labels(ctx)
    titles = [label for label in labels if label.text.startswith("flush_id ")]
    assert [t.text for t in titles] == [
        f"flush_id {s.flush_id}: {s.text.strip()}" for s in reported_segments(ctx)
    ]
    ends = [t.end for t in titles]
    assert [t.start for t in titles] == [0.0, *ends[:-1]]
    assert ends[-1] == pytest.approx(ctx.audio_seconds)
    # On the context's clock the words are the server's own times.
    words = [label for label in labels if label not in titles]
    server = [w for s in ctx.segments for w in s.words]
    assert [w.text for w in words] == [w.text for w in server]
    assert all(abs(label.start - w.start) <= 0.001 for label, w in zip(words, server, strict=True))
    assert segment_labels(ctx.segments[0])[1:] == [
        Label(label.start, label.end, label.text) for label in labels[1 : 1 + len(ctx.segments[0].words)]
    ]
    paths = export_session_labels(rig.session, rig.capture.parent / "labels")
    assert len(paths) == 4 and all(p.suffix == ".txt" for p in paths)
