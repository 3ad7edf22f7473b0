"""``flushscope proxy`` and ``flushscope convert`` as a user runs them: subprocesses, real sockets, the SDK."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cartesia import AsyncCartesia

from command_line import loaded, probed, run_probed
from flushscope.cli.exit_codes import EXIT_OK, EXIT_USAGE
from flushscope.core.inputs.generation_settings import DEFAULT_VOICE_ID
from flushscope.core.store.capture_reader import read_capture

TIMEOUT = 60.0
KEY = "sk_car_cli_secret_0123456789"


def flushscope(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """flushscope in a process of its own, through the probe that says what it loaded."""
    return run_probed(*args, cwd=cwd, timeout=TIMEOUT)


async def speak_through(url: str) -> list[str]:
    """One context with a manual flush, sent by the official SDK with a placeholder key."""
    async with (
        AsyncCartesia(api_key="x", websocket_base_url=url) as client,
        client.tts.websocket_connect() as conn,
    ):
        ctx = conn.context(
            context_id="cli",
            model_id="sonic-3",
            voice={"mode": "id", "id": DEFAULT_VOICE_ID},
            output_format={"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
            language="en",
            timeout=TIMEOUT,
        )
        await ctx.push("Through the proxy. ")
        await ctx.push("", flush=True)
        await ctx.push("And back.")
        await ctx.no_more_inputs()
        return [event.type async for event in ctx.receive()]


@pytest.mark.asyncio
async def test_proxy_command_records_the_sdk_and_stops_on_sigterm(tmp_path: Path) -> None:
    capture = tmp_path / "proxy.fscap.jsonl"
    proc = await asyncio.create_subprocess_exec(
        *probed("proxy", "--listen", "127.0.0.1:0", "--upstream", "embedded", "--pace", "instant",
                "--capture", str(capture), "--api-key", KEY),
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode().strip()
        assert url.startswith("ws://127.0.0.1:")
        kinds = await asyncio.wait_for(speak_through(url), TIMEOUT)
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
    stderr = err.decode()
    assert proc.returncode == EXIT_OK, stderr
    assert kinds.count("flush_done") == 1 and kinds[-1] == "done"
    assert loaded(stderr) == []
    assert f"capture: {capture}" in stderr
    assert "1 connections recorded, 0 refused" in stderr
    assert "(cartesia-python/4.2.0) open to ws://127.0.0.1:" in stderr
    assert "Traceback" not in stderr
    assert out.decode() == ""  # the URL line was read above; nothing else goes to stdout
    recorded = read_capture(capture)
    assert recorded.header.note == "recorded by flushscope proxy"
    connect = recorded.frames[0].meta()
    assert (connect["client"], connect["key_replaced"]) == ("cartesia-python/4.2.0", True)

    report = flushscope("report", str(capture), "--json", cwd=tmp_path)
    assert report.returncode == EXIT_OK, report.stderr
    segments = json.loads(report.stdout)["contexts"][0]["segments"]
    assert [(s["flush_id"], s["transcripts"]) for s in segments] == [
        (1, ["Through the proxy. "]),
        (2, ["And back."]),
    ]
    har = tmp_path / "proxy.har"
    converted = flushscope("convert", str(capture), str(har), cwd=tmp_path)
    assert converted.returncode == EXIT_OK, converted.stderr
    assert f"{har}: {len(recorded.frames)} frames, 1 connections" in converted.stderr
    from_har = flushscope("report", str(har), "--json", cwd=tmp_path)
    assert from_har.returncode == EXIT_OK, from_har.stderr
    assert json.loads(from_har.stdout) == json.loads(report.stdout)
    wavs = flushscope("export", str(har), "--out", str(tmp_path / "wav"), cwd=tmp_path)
    assert wavs.returncode == EXIT_OK, wavs.stderr
    assert sorted(p.name for p in (tmp_path / "wav").iterdir()) == ["1-cli-flush1.wav", "1-cli-flush2.wav"]
    back = tmp_path / "back.fscap.jsonl"
    assert flushscope("convert", str(har), str(back), cwd=tmp_path).returncode == EXIT_OK
    assert [(f.t, f.text) for f in read_capture(back).frames] == [(f.t, f.text) for f in recorded.frames]
    for text in (stderr, capture.read_text(), har.read_text(), report.stdout, converted.stderr):
        assert KEY not in text


def _free_port_taken() -> socket.socket:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    return taken


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--upstream", "ws://127.0.0.1:1", "--fault-429"],
            "the emulator's switches apply only to --upstream embedded",
        ),
        (["--upstream", "ftp://example.com"], "--upstream: not a WebSocket URL: ftp://example.com"),
        (["--listen", "127.0.0.1:http"], "--listen '127.0.0.1:http': listen on HOST:PORT"),
        (
            ["--listen", "127.0.0.1:{taken}", "--upstream", "ws://127.0.0.1:1"],
            "cannot listen on 127.0.0.1:{taken}",
        ),
        (
            ["--upstream", "ws://127.0.0.1:1", "--capture", "{existing}"],
            "already exists; choose another --capture",
        ),
        (
            ["--capture", "a.jsonl", "--capture-dir", "d"],
            "argument --capture-dir: not allowed with argument --capture",
        ),
        (["--rotate-mb", "5"], "--rotate-mb and --rotate-minutes apply only with --capture-dir"),
        (["--capture-dir", "{existing}"], "--capture-dir {existing}: cannot create it:"),
        (
            ["--capture-dir", "d", "--rotate-minutes", "0"],
            "argument --rotate-minutes: must be above 0, not 0",
        ),
        (["--capture-dir", "d", "--rotate-mb", "nan"], "argument --rotate-mb: must be above 0, not nan"),
        (["--drain-seconds", "-1"], "argument --drain-seconds: must be 0 or more, not -1"),
    ],
    ids=[
        "switches",
        "scheme",
        "listen",
        "port-taken",
        "capture-exists",
        "capture-and-dir",
        "rotate-without-dir",
        "dir-is-a-file",
        "rotate-zero",
        "rotate-nan",
        "drain-negative",
    ],
)
def test_unusable_proxy_arguments_exit_2_in_words(tmp_path: Path, argv: list[str], message: str) -> None:
    existing = tmp_path / "existing.fscap.jsonl"
    existing.write_text("")
    with _free_port_taken() as taken:
        port = taken.getsockname()[1]
        values: dict[str, Any] = {"taken": port, "existing": existing}
        args = [a.format(**values) for a in argv]
        if "--listen" not in args:
            args += ["--listen", "127.0.0.1:0"]
        done = flushscope("proxy", *args, cwd=tmp_path)
    assert done.returncode == EXIT_USAGE, done.stderr
    assert message.format(**values) in done.stderr
    assert "Traceback" not in done.stderr
    assert existing.read_text() == ""
    # Nothing is left behind: no capture is created, or it is removed when the port cannot be had.
    assert list(tmp_path.glob("flushscope-proxy-*")) == []
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("content", "output", "message"),
    [
        (b"hello\n", "out.har", "neither a flushscope capture"),
        (b'{"log": {"entries": 1}}', "out.jsonl", '"log.entries" must be a list'),
        (None, "out.txt", "name the output .har (HAR) or .jsonl / .fscap.jsonl (capture)"),
        (None, "exists.har", "exists.har already exists; use --force to overwrite it"),
    ],
    ids=["neither", "broken-har", "bad-extension", "exists"],
)
def test_convert_refuses_unusable_input_and_output_with_exit_2(
    tmp_path: Path, content: bytes | None, output: str, message: str
) -> None:
    source = tmp_path / "in"
    if content is None:
        source.write_text(json.dumps({"log": {"entries": []}}))
    else:
        source.write_bytes(content)
    (tmp_path / "exists.har").write_text("keep me")
    done = flushscope("convert", str(source), str(tmp_path / output), cwd=tmp_path)
    assert done.returncode == EXIT_USAGE
    assert message in done.stderr
    assert (tmp_path / "exists.har").read_text() == "keep me"
    assert loaded(done.stderr) == []
