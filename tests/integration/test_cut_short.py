"""A recording cut short: ``flushscope proxy`` and ``flushscope run`` killed with SIGKILL in mid-stream. The
capture loads to its last frame, holds every frame the client had received, and its report says the recording
ends there (information: it exits 0) instead of calling the waits it cut short timeouts."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cartesia import Cartesia
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from flushscope.cli import main
from flushscope.cli.exit_codes import EXIT_OK
from flushscope.core.inputs.generation_settings import DEFAULT_VOICE_ID
from flushscope.core.store.capture_reader import read_capture

TIMEOUT = 30.0
CHUNKS = 4


class Holding:
    """A stand-in for the service that answers a context's flush with ``CHUNKS`` chunks of audio and then
    holds: no flush_done, no done, as a stream cut in its middle."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self._server: Server | None = None

    async def __aenter__(self) -> str:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        noise = np.random.default_rng(7).integers(-3000, 3000, 2400).astype("<i2").tobytes()
        with contextlib.suppress(ConnectionClosed):  # the client is killed: that is the test
            async for message in ws:
                await self._answer(ws, json.loads(message), noise)

    async def _answer(self, ws: ServerConnection, request: dict[str, Any], noise: bytes) -> None:
        if request.get("flush"):
            for i in range(CHUNKS):
                frame = json.dumps(
                    {
                        "type": "chunk",
                        "context_id": request["context_id"],
                        "status_code": 206,
                        "done": False,
                        "data": base64.b64encode(noise[i:] + noise[:i]).decode(),
                        "step_time": 1.5 + i,
                        "flush_id": 1,
                    },
                    separators=(",", ":"),
                )
                await ws.send(frame)
                self.sent.append(frame)


async def until(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds: a file another process writes is looked at as it grows."""
    async with asyncio.timeout(TIMEOUT):
        while not condition():
            await asyncio.sleep(0.02)


def chunk_lines(capture: Path) -> int:
    """Received chunk frames the capture file holds so far (whole lines only)."""
    if not capture.exists():
        return 0
    whole = capture.read_bytes().rpartition(b"\n")[0]
    return sum(1 for line in whole.splitlines() if b'"dir":"recv"' in line and b'"type":"chunk"' in line)


def report(capture: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["report", str(capture), "--json"])
    return code, json.loads(capsys.readouterr().out)


async def start(*args: str | Path, cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "flushscope", *map(str, args),
        cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def kill(proc: asyncio.subprocess.Process) -> None:
    proc.send_signal(signal.SIGKILL)
    await asyncio.wait_for(proc.communicate(), TIMEOUT)
    assert proc.returncode == -signal.SIGKILL


def sdk_app(url: str, got: threading.Event, events: list[dict[str, Any]]) -> None:
    """One context on the sync SDK: a sentence and its flush, then every event until the stream breaks."""
    with Cartesia(api_key="x", websocket_base_url=url) as client, client.tts.websocket_connect() as conn:
        ctx = conn.context(
            context_id="cut",
            model_id="sonic-3",
            voice={"mode": "id", "id": DEFAULT_VOICE_ID},
            output_format={"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
            timeout=TIMEOUT,
        )
        ctx.push("Hello there. ")
        ctx.push("", flush=True)
        try:
            for event in ctx.receive():
                events.append(event.to_dict())
                if len(events) == CHUNKS:
                    got.set()
        except Exception:
            return  # the proxy was killed: what came before it is the point


@pytest.mark.asyncio
async def test_a_proxy_killed_mid_stream_leaves_a_capture_that_ends_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "proxy.fscap.jsonl"
    got = threading.Event()
    events: list[dict[str, Any]] = []
    holding = Holding()
    async with holding as upstream:
        proxy = await start(
            "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream, "--capture", capture, cwd=tmp_path
        )
        try:
            assert proxy.stdout is not None
            url = (await asyncio.wait_for(proxy.stdout.readline(), TIMEOUT)).decode().strip()
            app = asyncio.create_task(asyncio.to_thread(sdk_app, url, got, events))
            assert await asyncio.to_thread(got.wait, TIMEOUT)
            # Upstream frames are recorded just after they are forwarded: wait until the file holds them.
            await until(lambda: chunk_lines(capture) == CHUNKS)
            await kill(proxy)
            await asyncio.wait_for(app, TIMEOUT)
        finally:
            if proxy.returncode is None:
                proxy.kill()
                await proxy.communicate()
    loaded = read_capture(capture)
    assert loaded.warnings == []
    # Every frame the app received is in the capture, as the upstream sent it.
    received = [f.text for f in loaded.frames if f.dir.value == "recv"]
    assert received == holding.sent
    assert [json.loads(text) for text in received] == events
    code, found = report(capture, capsys)
    assert code == EXIT_OK
    (ends,) = found["anomalies"]
    assert (ends["kind"], ends["severity"], ends["context_id"]) == ("recording_ends", "info", "cut")
    assert "the flush_done of segment 1 was awaited" in ends["message"]
    assert ends["message"].endswith("cut short, not a timeout")


@pytest.mark.asyncio
async def test_a_run_killed_mid_stream_leaves_a_capture_that_ends_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "cut.txt"
    script.write_text("context a id=cut\nsend Hello there.\nflush\nend\n")
    capture = tmp_path / "run.fscap.jsonl"
    holding = Holding()
    async with holding as upstream:
        run = await start("run", script, "--url", upstream, "--capture", capture, cwd=tmp_path)
        try:
            await until(lambda: chunk_lines(capture) == CHUNKS)
            await kill(run)
        finally:
            if run.returncode is None:
                run.kill()
                await run.communicate()
    loaded = read_capture(capture)
    assert loaded.warnings == []
    received = [f.text for f in loaded.frames if f.dir.value == "recv"]
    assert received == holding.sent
    code, found = report(capture, capsys)
    assert code == EXIT_OK
    (ends,) = found["anomalies"]
    assert (ends["kind"], ends["severity"], ends["context_id"]) == ("recording_ends", "info", "cut")
    assert "the flush_done of segment 1 was awaited" in ends["message"]
    assert "its done was awaited" in ends["message"]
