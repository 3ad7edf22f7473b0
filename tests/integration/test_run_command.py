"""``flushscope run`` writes its capture only once connected, and replaces one only with ``--force``."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flushscope import cli
from flushscope.cli.exit_codes import EXIT_OK, EXIT_USAGE
from flushscope.core.store.capture_reader import read_capture

SCRIPT = "context a\nsend Hello there.\nflush\nend\n"


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "s.txt"
    path.write_text(SCRIPT)
    return path


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port bound by nobody listening on it: connecting is refused."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


def run(*args: str | Path) -> int:
    return cli.main(["run", *map(str, args), "--pace", "instant"])


def test_a_refused_connection_leaves_no_capture_and_the_rerun_writes_it(
    script: Path, tmp_path: Path, refusing_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "c.fscap.jsonl"
    assert run(script, "--url", f"ws://127.0.0.1:{refusing_port}", "--capture", capture) == EXIT_USAGE
    assert "connection refused" in capsys.readouterr().err
    assert not capture.exists()
    # The corrected command (the embedded emulator) with the same capture name.
    assert run(script, "--capture", capture) == EXIT_OK
    frames = read_capture(capture).frames
    assert frames[0].meta()["event"] == "connect" and frames[1].meta()["event"] == "open"
    assert any(f.dir.value == "send" for f in frames)


def test_an_unknown_host_is_named_in_words_and_leaves_no_capture(
    script: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The machine's resolver would ask a name server off this host: answer as it does for an unknown name.
    real = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "no-such-host.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    capture = tmp_path / "c.fscap.jsonl"
    assert run(script, "--url", "ws://no-such-host.invalid:9", "--capture", capture) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "cannot resolve host no-such-host.invalid: no such host" in err
    assert "Errno" not in err
    assert not capture.exists()


def test_an_existing_capture_is_kept_unless_forced(
    script: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "c.fscap.jsonl"
    capture.write_text("precious\n")
    assert run(script, "--capture", capture) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "already exists" in err and "--force" in err
    assert capture.read_text() == "precious\n"
    assert run(script, "--capture", capture, "--force") == EXIT_OK
    assert len(read_capture(capture).frames) > 4


def test_a_forced_run_that_cannot_connect_leaves_the_old_capture(
    script: Path, tmp_path: Path, refusing_port: int
) -> None:
    capture = tmp_path / "c.fscap.jsonl"
    capture.write_text("precious\n")
    url = f"ws://127.0.0.1:{refusing_port}"
    assert run(script, "--url", url, "--capture", capture, "--force") == EXIT_USAGE
    assert capture.read_text() == "precious\n"
