"""The entry point: subcommands are known by name, everything else goes to the window; one set of exit codes
and one way of printing errors."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from command_line import loaded, probed, run_probed
from flushscope import cli
from flushscope.cli.emulator_switches import emulator_config
from flushscope.cli.errors import UsageError, fail, print_error
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from flushscope.cli.subcommand import Subcommand
from flushscope.cli.window import WindowRequest
from flushscope.core.frames import Direction, Frame
from flushscope.core.model.recorder import Recorder
from flushscope.core.store.capture import CaptureWriter
from flushscope.emulator.config import CancelReply, Pacing
from session_wire import Wire

REPO = Path(__file__).resolve().parents[2]


class _RecordedWire(Wire):
    """A :class:`Wire` whose frames also go, whole, into a capture file (the session keeps no chunk data)."""

    def __init__(self, capture: CaptureWriter) -> None:
        super().__init__()
        self.recorder = Recorder(self.session, capture, clock=lambda: self.t)

    def add(self, direction: Direction, obj: dict[str, Any] | str, dt: float = 0.01) -> Frame:
        self.t += dt
        return self.recorder.record(self.conn, direction, obj if isinstance(obj, str) else json.dumps(obj))


def _capture(path: Path, *, skip_flush_id: bool = False) -> Path:
    """A capture of one context with two flushed segments; the server skips a flush_id if asked."""
    with CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket") as writer:
        wire = _RecordedWire(writer)
        wire.connect()
        for text in ("Hello there.", "How are you?"):
            wire.send("a", text)
            wire.flush("a")
        wire.end("a")
        for flush_id in (1, 3) if skip_flush_id else (1, 2):
            wire.chunk("a", flush_id)
            wire.flush_done("a", flush_id)
        wire.done("a")
        wire.close()
    return path


# --- the registry and the parser ------------------------------------------------------------------


def test_commands_match_the_parser() -> None:
    parser = cli.build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(actions[0].choices) == list(cli.COMMANDS)


def test_every_registered_module_describes_its_own_subcommand() -> None:
    assert [cli.subcommand(name).name for name in cli.COMMANDS] == list(cli.COMMANDS)


def test_a_module_without_a_subcommand_is_refused() -> None:
    with pytest.raises(TypeError, match=r"flushscope\.cli\.errors\.COMMAND must be the Subcommand"):
        cli.subcommand("errors")


def test_help_shows_the_subcommands_and_the_window_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == EXIT_OK
    out = capsys.readouterr().out
    for command in cli.COMMANDS:
        assert f"    {command} " in out
    assert "--script" in out and "opens the window" in out and "--fault-429" in out


@pytest.mark.parametrize("command", cli.COMMANDS)
def test_every_subcommand_has_a_help_that_exits_0(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: flushscope {command} ")
    assert "-h, --help" in out
    description = cli.subcommand(command).description
    if description is not None:
        assert " ".join(description.split()) in " ".join(out.split())


# --- the dispatcher -------------------------------------------------------------------------------


def _echo(seen: list[argparse.Namespace], result: int = 7) -> Subcommand:
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("word")
        parser.add_argument("--loud", action="store_true")

    def run(args: argparse.Namespace) -> int:
        seen.append(args)
        return result

    return Subcommand("echo", "say a word", add_arguments, run)


def test_a_subcommand_gets_its_parsed_arguments_and_gives_the_exit_code() -> None:
    seen: list[argparse.Namespace] = []
    assert cli.main(["echo", "hello", "--loud"], commands=[_echo(seen)]) == 7
    assert [(a.command, a.word, a.loud) for a in seen] == [("echo", "hello", True)]


def test_a_usage_error_is_printed_once_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(args: argparse.Namespace) -> int:
        raise UsageError(f"no such thing as {args.word!r}")

    echo = Subcommand("echo", "say a word", _echo([]).add_arguments, refuse)
    assert cli.main(["echo", "frob"], commands=[echo]) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert (out, err) == ("", "flushscope: no such thing as 'frob'\n")


def test_a_bug_is_not_turned_into_an_exit_code() -> None:
    def broken(args: argparse.Namespace) -> int:
        raise ValueError("a bug")

    echo = Subcommand("echo", "say a word", _echo([]).add_arguments, broken)
    with pytest.raises(ValueError, match="a bug"):
        cli.main(["echo", "x"], commands=[echo])


def test_a_bad_command_line_exits_2_with_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["report"])
    assert exited.value.code == EXIT_USAGE
    assert (
        "flushscope report: error: the following arguments are required: capture" in capsys.readouterr().err
    )


class _Window:
    """Stands in for the window: records what it was asked to do."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, result: int = 5) -> None:
        from flushscope.ui import launch

        self.requests: list[WindowRequest] = []
        self.result = result
        monkeypatch.setattr(launch, "main", self)

    def __call__(self, request: WindowRequest) -> int:
        self.requests.append(request)
        return self.result


def test_anything_but_a_subcommand_goes_to_the_window_parsed_and_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = _Window(monkeypatch)
    assert cli.main(["--no-connect", "--pace", "instant", "--chunk-ms", "20", "--cancel-reply", "done"]) == 5
    assert cli.main(["some.fscap.jsonl", "--theme", "dark"]) == 5
    first, second = window.requests
    assert first.args.no_connect and first.args.capture is None and first.scenario is None
    assert (first.config.pacing.chunk_ms, first.config.cancel_reply) == (20, CancelReply.DONE)
    assert (second.args.capture, second.args.theme, second.args.no_connect) == (
        "some.fscap.jsonl",
        "dark",
        False,
    )


def test_the_window_gets_its_script_loaded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    window = _Window(monkeypatch, result=EXIT_OK)
    script = tmp_path / "s.txt"
    script.write_text("context a\nsend Hello.\nflush\nend\n")
    assert cli.main(["--script", str(script), "--exit-when-done"]) == EXIT_OK
    (request,) = window.requests
    assert request.scenario is not None and request.scenario.name == str(script)
    assert len(request.scenario.contexts) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--script", "{script}"], "line 2"),
        (["{capture}", "--exit-when-done"], "flushscope: "),
        (["--chunk-ms", "0"], "flushscope: --chunk-ms must be positive"),
    ],
)
def test_unusable_window_input_exits_2_before_the_window_starts(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    window = _Window(monkeypatch)
    script = tmp_path / "bad.txt"
    script.write_text("send Hello\nflsuh\n")
    capture = tmp_path / "bad.jsonl"
    capture.write_text("not a capture\n")
    argv = [a.format(script=script, capture=capture) for a in argv]
    assert cli.main(argv) == EXIT_USAGE
    assert window.requests == []
    err = capsys.readouterr().err
    assert err.startswith("flushscope: ") and message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--timeout", "0"], "--timeout must be positive"),
        (["x.jsonl", "--script", "s.txt"], "open a capture or play a script, not both"),
        (["--url", "ws://127.0.0.1:1", "--no-connect"], "not allowed with argument"),
    ],
)
def test_a_bad_window_command_line_exits_2_with_the_usage(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    window = _Window(monkeypatch)
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == EXIT_USAGE and window.requests == []
    err = capsys.readouterr().err
    assert err.startswith("usage: flushscope") and message in err


def test_the_emulator_switches_mean_the_same_to_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    switches = ["--flush-id-base", "0", "--fault-429", "--max-contexts", "3", "--pace", "instant"]
    serve = cli.build_parser().parse_args(["serve", "--require-key", "k", "--port", "0", *switches])
    run = cli.build_parser().parse_args(["run", "s.txt", *switches])
    window = _Window(monkeypatch)
    cli.main(switches)
    configs = [
        emulator_config(serve, serve.host, serve.port),
        emulator_config(run),
        window.requests[0].config,
    ]
    assert [(c.flush_id_base, c.faults.reject_429, c.max_contexts, c.pacing) for c in configs] == [
        (0, True, 3, Pacing.instant())
    ] * 3
    assert [c.require_key for c in configs] == ["k", None, None]


# --- exit codes and the error printer -------------------------------------------------------------


def test_exit_codes_are_the_documented_ones() -> None:
    assert (EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED) == (0, 1, 2, 130)


def test_the_error_printer_writes_one_prefixed_line_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    print_error("something is off")
    assert fail("cannot read x") == EXIT_USAGE
    assert fail("contexts still waiting", EXIT_FAILED) == EXIT_FAILED
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "flushscope: something is off",
        "flushscope: cannot read x",
        "flushscope: contexts still waiting",
    ]


def test_report_exits_0_clean_1_with_anomalies_2_unusable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report", str(_capture(tmp_path / "clean.fscap.jsonl"))]) == EXIT_OK
    assert "no anomalies" in capsys.readouterr().out
    skipped = _capture(tmp_path / "skipped.fscap.jsonl", skip_flush_id=True)
    assert cli.main(["report", str(skipped)]) == EXIT_FAILED
    assert "flush_id_skipped" in capsys.readouterr().out
    assert cli.main(["report", str(tmp_path / "missing.jsonl")]) == EXIT_USAGE
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"flushscope: {tmp_path / 'missing.jsonl'}: ")


def test_export_exits_2_when_the_folder_cannot_be_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = _capture(tmp_path / "c.fscap.jsonl")
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main(["export", str(capture), "--out", str(blocker / "wav")]) == EXIT_USAGE
    assert capsys.readouterr().err.startswith("flushscope: ")
    assert cli.main(["export", str(capture), "--out", str(tmp_path / "wav")]) == EXIT_OK
    assert sorted(p.name for p in (tmp_path / "wav").iterdir()) == ["1-a-flush1.wav", "1-a-flush2.wav"]


def test_play_names_the_choices_for_a_context_it_does_not_have(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = _capture(tmp_path / "c.fscap.jsonl")
    assert cli.main(["play", str(capture), "--context", "b"]) == EXIT_USAGE
    assert capsys.readouterr().err == "flushscope: no context 'b'; the capture has: 1 (a)\n"
    assert cli.main(["play"]) == EXIT_USAGE
    assert capsys.readouterr().err == "flushscope: play: give a capture file (or --list-devices)\n"


# --- headless commands never load Qt --------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["report", "{capture}"], EXIT_OK),
        (["report", "{capture}", "--json"], EXIT_OK),
        (["export", "{capture}", "--out", "{tmp}/wav"], EXIT_OK),
        (["play", "{tmp}/missing.jsonl"], EXIT_USAGE),
        (["run", "{script}", "--pace", "instant", "--capture", "{tmp}/run.fscap.jsonl"], EXIT_OK),
        (["--version"], EXIT_OK),
    ],
    ids=["report", "report-json", "export", "play", "run", "version"],
)
def test_headless_commands_never_load_qt(tmp_path: Path, argv: list[str], code: int) -> None:
    capture = _capture(tmp_path / "c.fscap.jsonl")
    script = tmp_path / "s.txt"
    script.write_text("context a\nsend Hi.\nflush\nend\n")
    args = [a.format(capture=capture, tmp=tmp_path, script=script) for a in argv]
    done = run_probed(*args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert loaded(done.stderr) == []


def test_serve_never_loads_qt_and_stops_cleanly(tmp_path: Path) -> None:
    server = subprocess.Popen(
        probed("serve", "--pace", "instant"),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline()
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=120)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert url.startswith("ws://127.0.0.1:"), err
    assert server.returncode == EXIT_OK, err
    assert loaded(err) == []


def test_the_proxy_command_listens_where_the_proxy_does_by_default() -> None:
    from flushscope.cli.proxy import DEFAULT_LISTEN
    from flushscope.net.proxy import DEFAULT_LISTEN_TEXT

    assert DEFAULT_LISTEN == DEFAULT_LISTEN_TEXT
