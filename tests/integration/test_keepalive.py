"""A connection whose server stops answering: stalled within the stall time, connected again when it answers,
failed after the timeout; every step heard by the listeners and recorded in the capture."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.core.model.anomalies import AnomalyKind
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.records import ContextState
from flushscope.core.model.session import Session
from flushscope.core.store.capture_reader import read_capture
from flushscope.net.client import Client, Target, Unresponsive
from flushscope.net.keepalive import Keepalive, KeepaliveMonitor
from flushscope.net.live import ConnectionState, LiveSession
from live_support import TIMEOUT, FreezingServer, StatusLog, meta_events

#: Short enough for a test, long enough that a loaded machine does not stall a healthy loopback link.
QUICK = Keepalive(interval_s=0.05, stall_after_s=0.3, timeout_s=30.0)
GIVES_UP = Keepalive(interval_s=0.05, stall_after_s=0.3, timeout_s=0.8)


async def _connected(
    server: FreezingServer, capture: Path, keepalive: Keepalive
) -> tuple[LiveSession, StatusLog]:
    live = LiveSession(capture_path=capture, keepalive=keepalive)
    log = StatusLog(live)
    await live.connect("custom", server.url)
    await server.connection()
    return live, log


@pytest.mark.asyncio
async def test_a_server_that_stops_reading_is_stalled_then_connected_again(tmp_path: Path) -> None:
    capture = tmp_path / "stall.fscap.jsonl"
    async with FreezingServer() as server:
        live, log = await _connected(server, capture, QUICK)
        url = f"{server.url}/tts/websocket"
        try:
            server.freeze()
            stalled = await log.reach(ConnectionState.STALLED)
            assert stalled.reason == "no answer from the server for 0.3 s"
            assert stalled.url == url
            assert live.connected and live.client is not None and live.client.stalled
            server.thaw()
            back = await log.reach(ConnectionState.CONNECTED)
            assert back.reason == "" and back.url == url
            assert live.client is not None and not live.client.stalled
            await live.disconnect()
        finally:
            await live.aclose()
    assert log.states == [
        ConnectionState.CONNECTING,
        ConnectionState.CONNECTING,
        ConnectionState.CONNECTED,
        ConnectionState.STALLED,
        ConnectionState.CONNECTED,
        ConnectionState.DISCONNECTED,
    ]
    events = meta_events(capture, conn=1)
    assert [e["event"] for e in events] == ["connect", "open", "stalled", "resumed", "close"]
    stalled_event, resumed_event, close_event = events[2], events[3], events[4]
    assert stalled_event["after_s"] == 0.3 and stalled_event["silent_s"] >= 0.3
    assert resumed_event["silent_s"] >= stalled_event["silent_s"]
    assert close_event["code"] == 1000
    # The model takes the new events in its stride: the connection is whole and nothing is flagged.
    assert live.session.connections[1].close_code == 1000 and live.session.connections[1].error is None
    assert live.session.anomalies == []


@pytest.mark.asyncio
async def test_a_server_that_never_answers_again_fails_the_connection(tmp_path: Path) -> None:
    capture = tmp_path / "dead.fscap.jsonl"
    async with FreezingServer() as server:
        live, log = await _connected(server, capture, GIVES_UP)
        try:
            context_id = live.new_context(GenerationSettings())
            await live.send(context_id, "Hello into the void.")
            server.freeze()
            await log.reach(ConnectionState.STALLED)
            failed = await log.reach(ConnectionState.FAILED)
            words = "no answer from the server for 0.8 s; the connection was closed"
            assert failed.reason == words
            assert not live.connected and live.open_contexts() == []
            assert live.client is not None and isinstance(live.client.close_error, Unresponsive)
            assert live.client.close_error.silent_s == 0.8
        finally:
            await live.aclose()
    assert log.states == [
        ConnectionState.CONNECTING,
        ConnectionState.CONNECTING,
        ConnectionState.CONNECTED,
        ConnectionState.STALLED,
        ConnectionState.FAILED,
        ConnectionState.DISCONNECTED,  # aclose()
    ]
    events = meta_events(capture, conn=1)
    assert [e["event"] for e in events] == [
        "connect",
        "open",
        "stalled",
        "keepalive_timeout",
        "error",
        "close",
    ]
    assert events[3]["after_s"] == 0.8 and events[3]["silent_s"] >= 0.8
    assert events[4]["message"] == words
    assert events[5]["code"] == 1006  # closed without a handshake
    info = live.session.connections[1]
    assert info.error == words and info.close_code == 1006
    ctx = live.session.contexts[0]
    assert ctx.state is ContextState.FAILED
    (lost,) = live.session.anomalies
    assert lost.kind is AnomalyKind.SERVER_WENT_AWAY
    assert lost.message.startswith("the server went away: it stopped answering, and the client gave the")


@pytest.mark.asyncio
async def test_frames_from_a_stalled_server_count_as_an_answer(tmp_path: Path) -> None:
    capture = tmp_path / "frames.fscap.jsonl"
    async with FreezingServer() as server:
        live, log = await _connected(server, capture, QUICK)
        try:
            ws = await server.connection()
            server.freeze()
            await log.reach(ConnectionState.STALLED)
            # Still not reading, so the ping stays unanswered; but the server speaks.
            await ws.send('{"type": "note"}')
            await log.reach(ConnectionState.CONNECTED)
            assert live.client is not None and live.client.connected and not live.client.stalled
        finally:
            await live.aclose()
    events = [e["event"] for e in meta_events(capture, conn=1)]
    assert events[:4] == ["connect", "open", "stalled", "resumed"]
    frames = read_capture(capture).frames
    assert [f.text for f in frames if f.dir.value == "recv"] == ['{"type": "note"}']


@pytest.mark.asyncio
async def test_disconnecting_a_stalled_connection_does_not_wait_for_a_handshake(tmp_path: Path) -> None:
    capture = tmp_path / "leave.fscap.jsonl"
    async with FreezingServer() as server:
        live, log = await _connected(server, capture, QUICK)
        try:
            server.freeze()
            await log.reach(ConnectionState.STALLED)
            await live.disconnect()
            assert (await log.reach(ConnectionState.DISCONNECTED)).reason == ""
            assert not live.connected
        finally:
            await live.aclose()
    events = meta_events(capture, conn=1)
    assert [e["event"] for e in events] == ["connect", "open", "stalled", "close"]
    assert events[-1]["code"] == 1006


@pytest.mark.asyncio
async def test_a_reconnect_after_a_stall_starts_with_a_fresh_keepalive(tmp_path: Path) -> None:
    capture = tmp_path / "again.fscap.jsonl"
    async with FreezingServer() as server:
        live, log = await _connected(server, capture, GIVES_UP)
        try:
            server.freeze()
            await log.reach(ConnectionState.FAILED)
            live.keepalive = QUICK
            assert await live.connect("custom", server.url) == 2
            await log.reach(ConnectionState.CONNECTED)
            assert live.client is not None and live.client.keepalive == QUICK
            # The new connection is answered: a second freeze stalls it again, a thaw brings it back.
            server.connections[-1].transport.pause_reading()
            await log.reach(ConnectionState.STALLED)
            server.thaw()
            await log.reach(ConnectionState.CONNECTED)
        finally:
            await live.aclose()
    assert [e["event"] for e in meta_events(capture, conn=2)] == [
        "connect",
        "open",
        "stalled",
        "resumed",
        "close",
    ]


@pytest.mark.asyncio
async def test_a_busy_loop_is_not_taken_for_a_silent_server() -> None:
    """The loop is blocked while the pong is on its way: the monitor wakes late, and must read the socket
    before it judges the server."""
    stalls: list[float] = []
    resumes: list[float] = []
    timeouts: list[float] = []
    async with FreezingServer() as server, connect(server.url, ping_interval=None) as ws:
        pings = 0

        async def ping_then_block() -> bool:
            nonlocal pings
            pings += 1
            if pings > 1:
                return False  # one probe is the test
            pong = await ws.ping()
            # Busy, as a client ingesting a burst would be, for longer than the stall time.
            busy_until = time.perf_counter() + 3 * settings.stall_after_s
            while time.perf_counter() < busy_until:
                pass
            await pong
            return True

        settings = Keepalive(interval_s=0.01, stall_after_s=0.1, timeout_s=TIMEOUT)
        monitor = KeepaliveMonitor(
            settings,
            ping_then_block,
            on_stalled=stalls.append,
            on_resumed=resumes.append,
            on_timeout=timeouts.append,
        )
        async with asyncio.timeout(TIMEOUT):
            await monitor.run()
    assert pings == 2
    assert (stalls, resumes, timeouts) == ([], [], [])


@pytest.mark.asyncio
async def test_a_failing_stall_listener_does_not_stop_the_keepalive(caplog: pytest.LogCaptureFixture) -> None:
    session = Session()
    heard: list[bool] = []

    def broken(stalled: bool) -> None:
        heard.append(stalled)
        raise RuntimeError("a listener with a bug")

    async with FreezingServer() as server:
        client = Client(Recorder(session), Target(server.url), keepalive=GIVES_UP, on_stall=broken)
        try:
            await client.connect()
            await server.connection()
            server.freeze()
            async with asyncio.timeout(TIMEOUT):
                await client.closed.wait()
        finally:
            await client.aclose()
    assert heard == [True]
    assert "a stall listener failed" in caplog.text and "a listener with a bug" in caplog.text
    assert isinstance(client.close_error, Unresponsive)
    assert not client.connected and not client.stalled
    events = [f.meta()["event"] for f in session.frames]
    assert events == ["connect", "open", "stalled", "keepalive_timeout", "error", "close"]
