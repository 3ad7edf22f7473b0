"""The proxy's frame limits: a frame over the limit of its side is refused from its header (1009), neither
forwarded nor recorded nor held in memory, and the capture says what happened with its size."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from emulator_support import req
from proxy_support import TIMEOUT, ScriptedUpstream, metas, proxied, texts
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from flushscope.cli.exit_codes import EXIT_OK
from flushscope.core.store.capture_reader import read_capture
from flushscope.emulator.config import EmulatorConfig, Faults, Pacing
from flushscope.emulator.espeak import Synthesizer
from flushscope.emulator.server import EmulatorServer
from flushscope.net.proxy import DEFAULT_MAX_FRAME, DEFAULT_MAX_UPSTREAM_FRAME
from flushscope.net.proxy_relay import ProxyState

MIB = 1 << 20


def padded(size: int) -> str:
    """A JSON text frame of exactly ``size`` bytes."""
    head = '{"context_id":"big","transcript":"'
    return head + "a" * (size - len(head) - 2) + '"}'


async def refused_with(ws: Any) -> int:
    """Read until the proxy closes; the close code it sent."""
    with pytest.raises(ConnectionClosedError) as caught:
        while True:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert caught.value.rcvd is not None
    return caught.value.rcvd.code


def test_the_defaults_are_what_the_readme_says() -> None:
    assert (DEFAULT_MAX_FRAME, DEFAULT_MAX_UPSTREAM_FRAME) == (MIB, 4 * MIB)


@pytest.mark.asyncio
async def test_a_frame_at_the_limit_passes_and_one_byte_more_closes_with_1009(tmp_path: Path) -> None:
    async with ScriptedUpstream() as upstream, proxied(upstream.url, tmp_path / "c.fscap.jsonl") as rig:
        async with connect(f"{rig.url}/tts/websocket", max_size=None, compression=None) as ws:
            await ws.send(padded(MIB))
            assert len(await asyncio.wait_for(ws.recv(), TIMEOUT)) == MIB
            await ws.send(padded(MIB + 1))
            assert await refused_with(ws) == 1009
        seen = await upstream.next_finished()
        await rig.until(1, ProxyState.CLOSED)
    # The upstream got the first frame, never the second, and a close saying why.
    assert [len(m) for m in seen.messages] == [MIB]
    assert seen.close is not None and seen.close.code == 1001
    assert seen.close.reason == f"client: frame with {MIB + 1} bytes exceeds limit of {MIB} bytes"
    loaded = rig.loaded()
    assert [len(t) for t in texts(loaded, 1, "send")] == [MIB]
    too_big, closed = metas(loaded, 1)[-2:]
    assert too_big == {
        "event": "frame_too_big",
        "dir": "send",
        "from": "app",
        "bytes": MIB + 1,
        "before": 0,
        "limit": MIB,
        "code": 1009,
    }
    assert (closed["event"], closed["code"], closed["by"], closed["relayed_code"]) == (
        "close",
        1009,
        "proxy",
        1001,
    )
    info = rig.proxy.connections[0]
    assert info.close_code == 1009 and info.error == f"app sent a frame over the limit of {MIB} bytes"


@pytest.mark.asyncio
async def test_a_fragmented_message_over_the_limit_is_refused_at_the_fragment_that_passes_it(
    tmp_path: Path,
) -> None:
    async with (
        ScriptedUpstream() as upstream,
        proxied(upstream.url, tmp_path / "c.fscap.jsonl", max_frame=64 * 1024) as rig,
    ):
        async with connect(f"{rig.url}/tts/websocket", max_size=None, compression=None) as ws:
            await ws.send(["a" * 30_000, "b" * 30_000, "c" * 30_000])
            assert await refused_with(ws) == 1009
        await upstream.next_finished()
        await rig.until(1, ProxyState.CLOSED)
    loaded = rig.loaded()
    assert texts(loaded, 1, "send") == []
    too_big = next(m for m in metas(loaded, 1) if m["event"] == "frame_too_big")
    assert (too_big["bytes"], too_big["before"], too_big["limit"]) == (30_000, 60_000, 64 * 1024)


@pytest.mark.asyncio
async def test_a_compressed_frame_that_inflates_past_the_limit_is_refused_with_its_size_unknown(
    tmp_path: Path,
) -> None:
    async with ScriptedUpstream() as upstream, proxied(upstream.url, tmp_path / "c.fscap.jsonl") as rig:
        # Two MiB of one letter deflate to a few kilobytes: the header cannot tell, the inflating does.
        async with connect(f"{rig.url}/tts/websocket", compression="deflate") as ws:
            await ws.send(padded(2 * MIB))
            assert await refused_with(ws) == 1009
        await upstream.next_finished()
        await rig.until(1, ProxyState.CLOSED)
    too_big = next(m for m in metas(rig.loaded(), 1) if m["event"] == "frame_too_big")
    assert (too_big["bytes"], too_big["before"], too_big["limit"]) == (None, 0, MIB)


@pytest.mark.asyncio
async def test_an_upstream_frame_over_its_limit_closes_the_upstream_with_1009_and_the_app_with_1014(
    tmp_path: Path,
) -> None:
    async with (
        ScriptedUpstream() as upstream,
        proxied(
            upstream.url, tmp_path / "c.fscap.jsonl", max_upstream_frame=4096, upstream_deflate=False
        ) as rig,
    ):
        async with connect(f"{rig.url}/tts/websocket") as ws:
            await ws.send(padded(4000))
            assert len(await asyncio.wait_for(ws.recv(), TIMEOUT)) == 4000
            # The upstream echoes it: now the frame from the upstream is over its limit.
            await ws.send(padded(5000))
            assert await refused_with(ws) == 1014
            assert ws.close_reason == "upstream: frame with 5000 bytes exceeds limit of 4096 bytes"
        seen = await upstream.next_finished()
        await rig.until(1, ProxyState.CLOSED)
    assert seen.close is not None and seen.close.code == 1009
    loaded = rig.loaded()
    assert [len(t) for t in texts(loaded, 1, "send")] == [4000, 5000]
    assert [len(t) for t in texts(loaded, 1, "recv")] == [4000]
    too_big = next(m for m in metas(loaded, 1) if m["event"] == "frame_too_big")
    assert too_big == {
        "event": "frame_too_big",
        "dir": "recv",
        "from": "upstream",
        "bytes": 5000,
        "before": 0,
        "limit": 4096,
        "code": 1009,
    }


@pytest.mark.asyncio
async def test_the_emulators_oversized_chunk_passes_the_default_upstream_limit(
    tmp_path: Path, synth: Synthesizer
) -> None:
    config = EmulatorConfig(pacing=Pacing.instant(), faults=Faults(oversized_after_chunks=1))
    async with (
        EmulatorServer(config, synth) as server,
        proxied(server.url, tmp_path / "c.fscap.jsonl") as rig,
    ):
        async with connect(f"{rig.url}/tts/websocket", max_size=None) as ws:
            await ws.send(json.dumps(req("o", "Hello there.", cont=False)))
            received: list[str | bytes] = []
            while not received or json.loads(received[-1])["type"] != "done":
                received.append(await asyncio.wait_for(ws.recv(), TIMEOUT))
            sizes = [len(m) for m in received]
        await rig.until(1, ProxyState.CLOSED)
    assert MIB < max(sizes) < DEFAULT_MAX_UPSTREAM_FRAME
    assert max(len(t) for t in texts(rig.loaded(), 1, "recv")) == max(sizes)


def _peak_rss(pid: int) -> int:
    """The process's peak resident memory, in bytes (Linux's VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.mark.asyncio
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the proxy's memory from /proc")
async def test_a_huge_frame_from_an_app_is_never_held_in_the_proxys_memory(tmp_path: Path) -> None:
    huge = 96 * MIB
    capture = tmp_path / "huge.fscap.jsonl"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "flushscope", "proxy", "--listen", "127.0.0.1:0", "--upstream", "embedded",
        "--pace", "instant", "--capture", str(capture),
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode().strip()
        # Not ``async with``: once the proxy has closed on the huge frame still being written, closing
        # again from this side trips over asyncio's transport (already gone).
        ws = await connect(f"{url}/tts/websocket", max_size=None, compression=None)
        # A connection that works first, so that what it costs is in the baseline.
        await ws.send(json.dumps(req("small", "Hi.", cont=False)))
        while json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))["type"] != "done":
            pass
        before = _peak_rss(proc.pid)
        await ws.send(padded(huge))
        assert await refused_with(ws) == 1009
        after = _peak_rss(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
    assert proc.returncode == EXIT_OK, err.decode()
    # Buffering the frame would cost at least its 96 MiB; refusing it from its header costs nothing like it.
    assert after - before < 16 * MIB, (before, after)
    assert capture.stat().st_size < MIB
    too_big = [f.meta() for f in read_capture(capture).frames if f.dir.value == "meta"]
    assert {"event": "frame_too_big", "bytes": huge, "limit": MIB}.items() <= next(
        m for m in too_big if m["event"] == "frame_too_big"
    ).items()
