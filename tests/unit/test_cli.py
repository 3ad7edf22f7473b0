"""The entry point: subcommands are known by name, everything else goes to the window; one set of exit codes
and one way of printing errors."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from command_line import loaded, probed, run_probed
from flushscope import cli
from flushscope.cli.emulator_switches import emulator_config
from flushscope.cli.errors import UsageError, fail, print_error
from flushscope.cli.exit_codes import (
    EXIT_BROKEN_PIPE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
)
from flushscope.cli.subcommand import Subcommand
from flushscope.cli.window import exit_code
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.emulator.config import CancelReply, Pacing
from flushscope.net.client import DEFAULT_VERSION
from flushscope.ui.options import (
    Connect,
    Ending,
    OpenCapture,
    ProxyUpstream,
    Resume,
    RunProxy,
    ScriptResult,
    Theme,
    UpstreamKind,
    WindowOptions,
    WindowOutcome,
)
from session_wire import RecordedWire

REPO = Path(__file__).resolve().parents[2]


def _capture(path: Path, *, skip_flush_id: bool = False) -> Path:
    """A capture of one context with two flushed segments; the server skips a flush_id if asked."""
    with CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket") as writer:
        wire = RecordedWire(writer)
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


@pytest.mark.parametrize("command", cli.COMMANDS)
def test_every_option_of_a_subcommand_says_what_it_does(command: str) -> None:
    parser = argparse.ArgumentParser()
    cli.subcommand(command).add_arguments(parser)
    silent = [a.option_strings[0] for a in parser._actions if a.option_strings and not a.help]
    assert silent == []


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
    """Stands in for the window: records what it was asked to do, and ends its run with ``outcome``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, outcome: WindowOutcome | None = None) -> None:
        from flushscope.ui import launch

        self.requests: list[WindowOptions] = []
        self.outcome = outcome or WindowOutcome()
        monkeypatch.setattr(launch, "run_window", self)

    def __call__(self, options: WindowOptions) -> WindowOutcome:
        self.requests.append(options)
        return self.outcome


def test_anything_but_a_subcommand_goes_to_the_window_parsed_and_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CARTESIA_API_KEY", raising=False)
    monkeypatch.delenv("FLUSHSCOPE_SETTINGS", raising=False)
    window = _Window(monkeypatch)
    assert cli.main(["--no-connect", "--pace", "instant", "--chunk-ms", "20", "--cancel-reply", "done"]) == 0
    assert cli.main(["some.fscap.jsonl", "--theme", "dark"]) == 0
    assert cli.main(["--url", "ws://127.0.0.1:9/tts/websocket", "--api-key", "k", "-v"]) == 0
    assert cli.main([]) == 0
    first, second, third, fourth = window.requests
    assert first.start is None and first.script is None and not first.exit_when_done
    assert (first.emulator.pacing.chunk_ms, first.emulator.cancel_reply) == (20, CancelReply.DONE)
    assert (second.start, second.theme) == (OpenCapture(Path("some.fscap.jsonl")), Theme.DARK)
    assert third.start == Connect("custom", "ws://127.0.0.1:9/tts/websocket", "k", DEFAULT_VERSION)
    assert third.verbosity == 1
    # No target asked for: the one used last time (connected at once only if it is the embedded emulator).
    assert fourth.start == Resume(None, DEFAULT_VERSION)
    assert fourth.theme is None and fourth.settings is None


def test_the_proxy_upstream_is_told_apart_before_the_window_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    window = _Window(monkeypatch)
    for upstream in ("embedded", " cartesia ", "ws://127.0.0.1:9"):
        assert cli.main(["--proxy", "--listen", "127.0.0.1:0", "--upstream", upstream]) == 0
    starts = [options.start for options in window.requests]
    assert starts == [
        RunProxy("127.0.0.1:0", ProxyUpstream(UpstreamKind.EMBEDDED)),
        RunProxy("127.0.0.1:0", ProxyUpstream(UpstreamKind.CARTESIA)),
        RunProxy("127.0.0.1:0", ProxyUpstream(UpstreamKind.URL, "ws://127.0.0.1:9")),
    ]
    # As the live session and the connection bar name them.
    assert [s.upstream.choice for s in starts if isinstance(s, RunProxy)] == [
        "emulator",
        "cartesia",
        "ws://127.0.0.1:9",
    ]


def test_the_window_gets_its_script_loaded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    window = _Window(monkeypatch)
    script = tmp_path / "s.txt"
    script.write_text("context a\nsend Hello.\nflush\nend\n")
    png = tmp_path / "shot.png"
    argv = ["--script", str(script), "--exit-when-done", "--screenshot", str(png), "--timeout", "9"]
    assert cli.main(argv) == EXIT_OK
    (options,) = window.requests
    assert options.script is not None and options.script.name == str(script)
    assert len(options.script.contexts) == 1
    assert (options.screenshot, options.exit_when_done, options.script_timeout) == (png, True, 9.0)


@pytest.mark.parametrize(
    ("outcome", "code", "said"),
    [
        (WindowOutcome(script=ScriptResult("s.txt")), EXIT_OK, []),
        (WindowOutcome().failed("cannot connect: refused"), EXIT_FAILED, ["cannot connect: refused"]),
        (
            WindowOutcome(script=ScriptResult("s.txt", "late"))
            .failed("s.txt: late")
            .failed("cannot write x"),
            EXIT_FAILED,
            ["s.txt: late", "cannot write x"],
        ),
        (WindowOutcome(Ending.UNUSABLE).failed("cannot write x"), EXIT_USAGE, ["cannot write x"]),
    ],
)
def test_the_window_outcome_is_an_exit_code_and_its_messages(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    outcome: WindowOutcome,
    code: int,
    said: list[str],
) -> None:
    _Window(monkeypatch, outcome)
    assert cli.main(["--no-connect"]) == code
    assert capsys.readouterr().err.splitlines() == [f"flushscope: {message}" for message in said]
    assert exit_code(outcome) == code


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


def test_a_dataset_is_shown_beside_whatever_else_the_window_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    window = _Window(monkeypatch)
    assert cli.main(["--no-connect", "--dataset", "calls-dataset"]) == EXIT_OK
    assert cli.main(["some.fscap.jsonl", "--dataset", "calls-dataset"]) == EXIT_OK
    first, second = window.requests
    assert (first.start, first.dataset) == (None, Path("calls-dataset"))
    assert (second.start, second.dataset) == (OpenCapture(Path("some.fscap.jsonl")), Path("calls-dataset"))
    assert WindowOptions().dataset is None
    # A scripted run checks the folder before any window opens.
    assert cli.main(["--dataset", str(tmp_path), "--exit-when-done"]) == EXIT_USAGE
    assert len(window.requests) == 2
    assert (
        capsys.readouterr().err
        == f"flushscope: {tmp_path} is not a flushscope dataset (no _flushscope_dataset.json)\n"
    )


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
        window.requests[0].emulator,
    ]
    assert [(c.flush_id_base, c.faults.reject_429, c.max_contexts, c.pacing) for c in configs] == [
        (0, True, 3, Pacing.instant())
    ] * 3
    assert [c.require_key for c in configs] == ["k", None, None]


# --- exit codes and the error printer -------------------------------------------------------------


def test_exit_codes_are_the_documented_ones() -> None:
    assert (EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE) == (0, 1, 2, 130, 141)


@pytest.mark.parametrize("argv", [["report", "{capture}"], ["report", "{capture}", "--json"], ["--help"]])
def test_output_to_a_closed_pipe_ends_quietly_as_unix_tools_do(tmp_path: Path, argv: list[str]) -> None:
    capture = _capture(tmp_path / "c.fscap.jsonl")
    args = [a.format(capture=capture) for a in argv]
    command = subprocess.Popen(
        [sys.executable, "-m", "flushscope", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert command.stdout is not None
    # Nobody reads: the first line written meets a pipe without a reader, as after "| head" has exited.
    command.stdout.close()
    _, err = command.communicate(timeout=120)
    assert (command.returncode, err) == (EXIT_BROKEN_PIPE, b"")


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
        (["dataset", "build", "{capture}", "--out", "{tmp}/new"], EXIT_OK),
        (["dataset", "query", "{dataset}", "select count(*) from segments"], EXIT_OK),
        (["dataset", "summary", "{dataset}", "--json"], EXIT_OK),
    ],
    ids=["report", "report-json", "export", "play", "run", "version", "build", "query", "summary"],
)
def test_headless_commands_never_load_qt(tmp_path: Path, argv: list[str], code: int) -> None:
    capture = _capture(tmp_path / "c.fscap.jsonl")
    script = tmp_path / "s.txt"
    script.write_text("context a\nsend Hi.\nflush\nend\n")
    if "{dataset}" in argv:
        assert (
            cli.main(["dataset", "build", str(capture), "--out", str(tmp_path / "ds"), "--quiet"]) == EXIT_OK
        )
    args = [a.format(capture=capture, tmp=tmp_path, script=script, dataset=tmp_path / "ds") for a in argv]
    done = run_probed(*args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert loaded(done.stderr) == []


def _serve_until_signalled(tmp_path: Path, sig: signal.Signals, *args: str) -> tuple[str, str]:
    """A command that serves until a signal, through the probe: its first line, once it has stopped, and its
    stderr; it must have stopped cleanly without loading Qt."""
    server = subprocess.Popen(
        probed(*args),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline()
        server.send_signal(sig)
        _, err = server.communicate(timeout=120)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == EXIT_OK, err
    assert loaded(err) == []
    return url, err


def test_serve_never_loads_qt_and_stops_cleanly(tmp_path: Path) -> None:
    url, err = _serve_until_signalled(tmp_path, signal.SIGINT, "serve", "--pace", "instant")
    assert url.startswith("ws://127.0.0.1:"), err


def test_the_sidecar_proxy_never_loads_qt_and_stops_cleanly(tmp_path: Path) -> None:
    captures = tmp_path / "captures"
    url, err = _serve_until_signalled(
        tmp_path, signal.SIGTERM, "proxy", "--capture-dir", str(captures), "--listen", "127.0.0.1:0",
        "--upstream", "embedded", "--rotate-mb", "5", "--rotate-minutes", "10",
    )  # fmt: skip
    assert url.startswith("ws://127.0.0.1:"), err
    assert f"recording each connection to {captures} (cut into parts of 5 MB or 10 minutes)" in err
    assert list(captures.iterdir()) == []


def test_the_proxy_command_listens_where_the_proxy_does_by_default() -> None:
    from flushscope.cli.proxy import DEFAULT_LISTEN
    from flushscope.net.proxy import DEFAULT_LISTEN_TEXT

    assert DEFAULT_LISTEN == DEFAULT_LISTEN_TEXT
