"""``flushscope proxy --capture-dir`` as a sidecar is run: a process of its own, several apps at once (the
official SDK and flushscope's own client) on the embedded emulator, stopped by SIGTERM in mid-stream."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cartesia import AsyncCartesia
from proxy_support import TIMEOUT, metas, texts, without_step_time
from test_proxy_sdk import CONTEXT

from command_line import probed
from flushscope.cli.exit_codes import EXIT_OK
from flushscope.core.formats.recordings import open_recording
from flushscope.core.frames import Direction
from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.core.model.anomalies import AnomalyKind
from flushscope.core.model.awaiting import wait_for_model
from flushscope.core.model.observers import SessionObserver
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.records import Segment
from flushscope.core.model.session import Session
from flushscope.core.store.capture_reader import LoadedCapture, read_capture
from flushscope.net.client import Client, Target

LONG = " ".join(
    f"This is sentence number {n} of a long answer that keeps the stream going." for n in range(12)
)
SHORT = "A short answer. "
#: The SDK tests' context settings, as requests carry them (no timestamps, no SDK timeout).
SDK_CONTEXT = {k: v for k, v in CONTEXT.items() if k not in ("timeout", "add_timestamps")}


class Sidecar:
    """The proxy process: its URL, and its log read line by line as it comes."""

    def __init__(self, proc: asyncio.subprocess.Process, url: str) -> None:
        self.proc = proc
        self.url = url
        self.lines: list[str] = []
        self._grew = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.lines.append(raw.decode().rstrip("\n"))
            self._grew.set()
        self._grew.set()

    async def until(self, words: str, count: int = 1) -> None:
        """Wait until ``count`` lines of the log hold ``words``."""
        async with asyncio.timeout(TIMEOUT):
            while sum(words in line for line in self.lines) < count:
                if self._reader.done():
                    raise AssertionError(f"the proxy ended without logging {words!r}: {self.lines}")
                self._grew.clear()
                await self._grew.wait()

    async def ended(self) -> int:
        async with asyncio.timeout(TIMEOUT):
            code = await self.proc.wait()
            await self._reader
        return code


@asynccontextmanager
async def sidecar(directory: Path, *options: str) -> AsyncIterator[Sidecar]:
    proc = await asyncio.create_subprocess_exec(
        *probed("proxy", "--listen", "127.0.0.1:0", "--upstream", "embedded"),
        "--capture-dir", str(directory), *options,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode().strip()
        assert url.startswith("ws://127.0.0.1:"), url
        yield Sidecar(proc, url)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


class _FirstChunk(SessionObserver):
    def __init__(self, event: asyncio.Event) -> None:
        self.event = event

    def chunk_added(self, segment: Segment, row: int) -> None:
        self.event.set()


@dataclass
class App:
    """One app of the test: what it sent and received, and when it got its first chunk."""

    context_id: str
    streaming: asyncio.Event = field(default_factory=asyncio.Event)
    events: list[dict[str, Any]] = field(default_factory=list)
    session: Session = field(default_factory=Session)
    conn: int = 0
    close_code: int | None = None


def _event(event: Any) -> dict[str, Any]:
    obj: dict[str, Any] = event.to_dict()
    obj.pop("step_time", None)
    return obj


async def sdk_app(url: str, app: App, finish: asyncio.Event | None) -> None:
    """The official SDK: one context, flushed; ended once ``finish`` is set. Without ``finish`` it reads the
    connection until it is closed (the SDK's context helper would wait out its timeout instead)."""
    async with (
        AsyncCartesia(api_key="x", websocket_base_url=url) as client,
        client.tts.websocket_connect() as conn,
    ):
        if finish is None:
            request = {"context_id": app.context_id, **SDK_CONTEXT}
            await conn.send({**request, "transcript": LONG, "continue": True})  # type: ignore[typeddict-item]
            await conn.send({**request, "transcript": "", "continue": True, "flush": True})  # type: ignore[typeddict-item]
            async for event in conn:
                app.events.append(_event(event))
                app.streaming.set()
            return
        ctx = conn.context(context_id=app.context_id, timeout=TIMEOUT, **SDK_CONTEXT)
        await ctx.push(SHORT)
        await ctx.push("", flush=True)

        async def receive() -> None:
            async for event in ctx.receive():
                app.events.append(_event(event))
                app.streaming.set()

        reading = asyncio.ensure_future(receive())
        await finish.wait()
        await ctx.no_more_inputs()
        await reading


async def own_app(url: str, app: App, finish: asyncio.Event | None) -> None:
    """flushscope's own client: the same, every frame recorded in its session."""
    client = Client(Recorder(app.session), Target(url))
    app.session.observers.append(_FirstChunk(app.streaming))
    app.conn = await client.connect()
    client.new_context(GenerationSettings(add_timestamps=False), app.context_id)
    await client.send_flush(app.context_id, LONG if finish is None else SHORT)
    if finish is None:
        await asyncio.wait_for(client.closed.wait(), TIMEOUT * 3)
    else:
        await finish.wait()
        await client.end(app.context_id)
        ctx = app.session.context(app.context_id)
        assert ctx is not None
        assert await wait_for_model(app.session, client.closed, lambda: ctx.finished, TIMEOUT)
    await client.disconnect()
    app.close_code = app.session.connections[app.conn].close_code


def capture_of(loaded: list[LoadedCapture], context_id: str) -> LoadedCapture:
    (found,) = (
        c for c in loaded if any(f'"{context_id}"' in f.text for f in c.frames if f.dir is Direction.SEND)
    )
    return found


def own_frames(session: Session, conn: int, direction: Direction) -> list[str]:
    return [f.text for f in session.frames if f.conn == conn and f.dir is direction]


@pytest.mark.asyncio
async def test_sigterm_in_mid_stream_finishes_every_capture_with_every_frame(tmp_path: Path) -> None:
    directory = tmp_path / "captures"
    apps = {name: App(name) for name in ("sdk-long", "own-long", "sdk-short", "own-short")}
    finish = asyncio.Event()
    async with sidecar(directory, "--speedup", "2", "--drain-seconds", "120") as proxy:
        running = [
            asyncio.ensure_future(sdk_app(proxy.url, apps["sdk-long"], None)),
            asyncio.ensure_future(own_app(proxy.url, apps["own-long"], None)),
            asyncio.ensure_future(sdk_app(proxy.url, apps["sdk-short"], finish)),
            asyncio.ensure_future(own_app(proxy.url, apps["own-short"], finish)),
        ]
        async with asyncio.timeout(TIMEOUT):
            await asyncio.gather(*(app.streaming.wait() for app in apps.values()))
        assert sorted(p.suffix for p in directory.iterdir()) == [".part"] * 4

        proxy.proc.send_signal(signal.SIGTERM)
        await proxy.until("stopping: waiting up to 120 s for 4 open connections to end")
        # No app is taken in any more.
        with pytest.raises(OSError):
            await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", int(proxy.url.rsplit(":", 1)[1])), TIMEOUT
            )
        # Two apps end their contexts and leave on their own while the proxy waits for them.
        finish.set()
        async with asyncio.timeout(TIMEOUT):
            await asyncio.gather(*running[2:])
        await proxy.until("closed by app (1000)", count=2)
        # The others are still streaming: a second signal closes them now.
        proxy.proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(TIMEOUT):
            await asyncio.gather(*running[:2])
        code = await proxy.ended()

    log = "\n".join(proxy.lines)
    assert code == EXIT_OK, log
    assert proxy.lines[-1] == "loaded: []"
    assert "Traceback" not in log
    assert "4 connections recorded, 0 refused; 4 captures finished in" in log
    files = sorted(directory.iterdir())
    assert [p.suffix for p in files] == [".jsonl"] * 4  # nothing left as .part
    loaded = [read_capture(p) for p in files]

    for name, app in apps.items():
        capture = capture_of(loaded, name)
        conn = capture.frames[0].conn
        connect, *_, close = (m for m in metas(capture, conn) if m["event"] in ("connect", "open", "close"))
        if name.startswith("sdk"):
            assert connect["client"] == "cartesia-python/4.2.0"
            # Every event the SDK handed over came from a frame of the capture, in order.
            received = [without_step_time(t) for t in texts(capture, conn, "recv")]
            ours = [f for f in received if f.get("context_id") == name]
            assert ours[: len(app.events)] == app.events and app.events
            sent = [json.loads(t) for t in texts(capture, conn, "send")]
            assert [(s["transcript"], s["continue"], s.get("flush", False)) for s in sent] == (
                [(LONG, True, False), ("", True, True)]
                if name == "sdk-long"
                else [(SHORT, True, False), ("", True, True), ("", False, False)]
            )
        else:
            assert connect["client"] == "flushscope"
            # flushscope's client recorded every frame it sent and got: the capture holds the same.
            for direction in (Direction.SEND, Direction.RECV):
                assert texts(capture, conn, direction.value) == own_frames(app.session, app.conn, direction)
        session = open_recording(files[loaded.index(capture)]).session
        session.finish()
        kinds = {a.kind for a in session.counted_anomalies()}
        if name.endswith("short"):
            assert (close["by"], close["code"]) == ("app", 1000)
            assert kinds == set()
            assert f"({connect['client']}, {connect['remote']}) ended after" in log
        else:
            assert (close["by"], close["code"], close["relayed_reason"]) == ("proxy", 1001, "proxy stopped")
            if name.startswith("own"):
                assert app.close_code == 1001
            # What the upstream sent after the app was closed is in the capture too.
            undelivered = [m for m in metas(capture, conn) if m["event"] == "undelivered"]
            assert len(undelivered) == close.get("undelivered", {}).get("to_app", 0)
            # Cut short: the context was going on, its flush unanswered.
            assert AnomalyKind.CONNECTION_LOST in kinds
            assert kinds <= {AnomalyKind.CONNECTION_LOST, AnomalyKind.FLUSH_DONE_TIMEOUT}
    assert log.count(" ended after ") == 4
    assert log.count(": 1 contexts, 1 segments, 0 anomalies") == 2


@pytest.mark.asyncio
async def test_connections_still_open_when_the_drain_is_over_are_closed_with_1001(tmp_path: Path) -> None:
    directory = tmp_path / "captures"
    app = App("idle")
    async with sidecar(directory, "--pace", "instant", "--drain-seconds", "0.2") as proxy:
        client = Client(Recorder(app.session), Target(proxy.url))
        conn = await client.connect()
        client.new_context(GenerationSettings(), "idle")
        await client.send_flush("idle", SHORT)
        proxy.proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(client.closed.wait(), TIMEOUT)
        code = await proxy.ended()
    assert code == EXIT_OK, proxy.lines
    assert app.session.connections[conn].close_code == 1001
    (capture,) = directory.iterdir()
    assert capture.name.endswith("-c1.jsonl")
    close = metas(read_capture(capture), 1)[-1]
    assert (close["event"], close["by"], close["code"]) == ("close", "proxy", 1001)
    assert any("stopping: waiting up to 0.2 s for 1 open connections" in line for line in proxy.lines)
