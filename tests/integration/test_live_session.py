"""The live session the window drives, without the window: plain asyncio, the real embedded emulator on
loopback (instant pacing), real sockets for every failure."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from rig_support import until
from websockets.asyncio.client import connect

import flushscope.net.live as live_module
from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.core.model.records import ContextState
from flushscope.core.store.capture_reader import read_capture
from flushscope.emulator.config import EmulatorConfig, Faults, Pacing
from flushscope.emulator.server import EmulatorServer
from flushscope.net.client import ClientError, HandshakeRejected, NotConnected, Unreachable
from flushscope.net.live import (
    CAPTURE_SUFFIX,
    ConnectionState,
    ConnectionStatus,
    LiveSession,
    timestamped_capture_name,
)
from flushscope.net.runner import wait_settled
from live_support import TIMEOUT, StatusLog, closed_port, meta_events

CONNECTING = ConnectionState.CONNECTING
CONNECTED = ConnectionState.CONNECTED
DISCONNECTED = ConnectionState.DISCONNECTED
FAILED = ConnectionState.FAILED
INSTANT = EmulatorConfig(pacing=Pacing.instant())


@pytest_asyncio.fixture
async def make_live(tmp_path: Path) -> AsyncIterator[Callable[..., LiveSession]]:
    """Live sessions recording under tmp_path (unless told otherwise), all closed at the end."""
    made: list[LiveSession] = []

    def make(**options: Any) -> LiveSession:
        options.setdefault("emulator_config", INSTANT)
        if "capture_path" not in options:
            options.setdefault("capture_dir", tmp_path / "captures")
        live = LiveSession(**options)
        made.append(live)
        return live

    yield make
    for live in made:
        await live.aclose()


def seen(log: StatusLog) -> list[tuple[ConnectionState, str, str]]:
    return [(s.state, s.reason, s.url) for s in log.statuses]


# --- connecting, reconnecting ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_reconnecting_to_the_same_and_another_target_continues_one_session(
    make_live: Callable[..., LiveSession], tmp_path: Path
) -> None:
    live = make_live()
    log = StatusLog(live)
    assert live.capture_path is None and not live.connected

    assert await live.connect("emulator") == 1
    emulator = live.emulator
    assert emulator is not None
    first = f"{emulator.url}/tts/websocket"
    context_id = live.new_context(GenerationSettings())
    await live.send_flush(context_id, "First connection.")
    await live.end(context_id)
    assert live.client is not None
    assert await wait_settled(live.session, live.client, TIMEOUT)

    # The same target again: a new connection, the same emulator.
    assert await live.connect("emulator") == 2
    assert live.emulator is emulator
    # Another target: the session goes on; the embedded emulator keeps running until the session ends.
    async with EmulatorServer(INSTANT) as other:
        second = f"{other.url}/tts/websocket"
        assert await live.connect("custom", f"  {other.url}  ") == 3
        assert live.status == ConnectionStatus(CONNECTED, "", second)
        context_id = live.new_context(GenerationSettings())
        await live.send(context_id, "Third connection.")
        await live.disconnect()
        assert not live.connected
    assert live.emulator is emulator

    assert seen(log) == [
        (CONNECTING, "", ""),
        (CONNECTING, "", first),
        (CONNECTED, "", first),
        (CONNECTING, "", ""),
        (CONNECTING, "", first),
        (CONNECTED, "", first),
        (CONNECTING, "", ""),
        (CONNECTING, "", second),
        (CONNECTED, "", second),
        (DISCONNECTED, "", second),
    ]
    capture = live.capture_path
    assert capture is not None and capture.parent == tmp_path / "captures"
    await live.aclose()
    loaded = read_capture(capture)
    assert loaded.header.target == first  # the first target names the capture
    connects = [(f.conn, f.meta()["url"]) for f in loaded.frames if f.meta().get("event") == "connect"]
    assert connects == [(1, first), (2, first), (3, second)]
    closes = [(f.conn, f.meta()["code"]) for f in loaded.frames if f.meta().get("event") == "close"]
    assert closes == [(1, 1000), (2, 1000), (3, 1000)]
    assert [(c.conn, c.state) for c in live.session.contexts] == [
        (1, ContextState.DONE),
        (3, ContextState.FAILED),
    ]
    assert [c.segments[0].text for c in live.session.contexts] == ["First connection.", "Third connection."]


@pytest.mark.asyncio
async def test_the_server_closing_and_the_connection_dropping_are_told_apart(
    make_live: Callable[..., LiveSession],
) -> None:
    live = make_live(
        emulator_config=EmulatorConfig(pacing=Pacing.instant(), faults=Faults(close_after_chunks=2))
    )
    log = StatusLog(live)
    await live.connect("emulator")
    url = live.status.url
    context_id = live.new_context(GenerationSettings())
    await live.send(context_id, "A sentence long enough for several chunks of audio.")
    dropped = await log.reach(FAILED)
    assert dropped == ConnectionStatus(FAILED, "the connection closed (code 1006)", url)
    assert live.open_contexts() == []
    with pytest.raises(NotConnected, match="not connected: connect first"):
        await live.send(context_id, "more")

    await live.connect("emulator")
    await live.stop_emulator()  # the server goes away politely
    closed = await log.reach(DISCONNECTED)
    assert closed == ConnectionStatus(DISCONNECTED, "the server closed the connection (code 1001)", url)
    assert not live.connected and live.emulator is None


@pytest.mark.asyncio
async def test_cancelling_a_connection_attempt_is_reported_and_recorded(
    make_live: Callable[..., LiveSession], tmp_path: Path
) -> None:
    # A TCP listener that accepts and never answers the upgrade.
    accepted = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        accepted.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    live = make_live(capture_path=tmp_path / "cancel.fscap.jsonl")
    log = StatusLog(live)
    attempt = asyncio.create_task(live.connect("custom", f"ws://127.0.0.1:{port}"))
    async with asyncio.timeout(TIMEOUT):
        await accepted.wait()
    attempt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await attempt
    for writer in writers:
        writer.close()
    server.close()
    await server.wait_closed()
    url = f"ws://127.0.0.1:{port}/tts/websocket"
    assert live.status == ConnectionStatus(DISCONNECTED, "connection attempt cancelled", url)
    assert [s.state for s in log.statuses] == [CONNECTING, CONNECTING, DISCONNECTED]
    await live.aclose()
    assert meta_events(tmp_path / "cancel.fscap.jsonl") == [
        {"event": "connect", "url": url},
        {"event": "error", "message": f"the connection attempt to {url} was cancelled"},
    ]


# --- failures in words ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_failures_are_reported_in_words_and_recorded(
    make_live: Callable[..., LiveSession], tmp_path: Path
) -> None:
    live = make_live(
        capture_path=tmp_path / "failures.fscap.jsonl",
        emulator_config=EmulatorConfig(pacing=Pacing.instant(), require_key="right-key"),
    )
    log = StatusLog(live)
    port = closed_port()
    refused = f"ws://127.0.0.1:{port}/tts/websocket"
    with pytest.raises(Unreachable):
        await live.connect("custom", f"ws://127.0.0.1:{port}")
    with pytest.raises(ClientError) as bad_url:
        await live.connect("custom", "http://127.0.0.1:1")
    with pytest.raises(ClientError) as no_url:
        await live.connect("custom", "   ")
    with pytest.raises(ClientError) as unknown:
        await live.connect("telepathy")  # type: ignore[arg-type]
    with pytest.raises(HandshakeRejected) as wrong_key:
        await live.connect("emulator", api_key="wrong-key")
    assert live.emulator is not None
    emulator_url = f"{live.emulator.url}/tts/websocket"
    with pytest.raises(HandshakeRejected) as no_key:
        await live.connect("emulator")
    assert not live.connected

    failures = [(s.reason, s.url) for s in log.statuses if s.state is FAILED]
    assert failures == [
        (f"cannot reach {refused}: connection refused (nothing listens there)", refused),
        (str(bad_url.value), "http://127.0.0.1:1/tts/websocket"),
        # Nothing to connect to: the URL shown is cleared.
        ("enter a URL to connect to (ws://HOST:PORT or wss://...)", ""),
        ("unknown target 'telepathy': choose one of emulator, cartesia, custom", ""),
        (str(wrong_key.value), emulator_url),
        (str(no_key.value), emulator_url),
    ]
    assert str(bad_url.value) == "not a WebSocket URL: http://127.0.0.1:1/tts/websocket (use ws:// or wss://)"
    assert str(no_url.value) == failures[2][0] and str(unknown.value) == failures[3][0]
    assert wrong_key.value.status == no_key.value.status == 401
    assert str(wrong_key.value).startswith("HTTP 401: the API key is missing or wrong")

    # Still usable: the right key connects.
    await live.connect("emulator", api_key="right-key")
    assert live.status == ConnectionStatus(CONNECTED, "", emulator_url)
    await live.aclose()
    # What reached the network is recorded with its failure; the two that never left are not.
    errors = [e["message"] for e in meta_events(tmp_path / "failures.fscap.jsonl") if e["event"] == "error"]
    assert errors == [failures[i][0] for i in (0, 1, 4, 5)]


@pytest.mark.asyncio
async def test_an_emulator_that_cannot_listen_says_why_and_the_session_stays_usable(
    make_live: Callable[..., LiveSession],
) -> None:
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    live = make_live(emulator_config=EmulatorConfig(port=port, pacing=Pacing.instant()))
    log = StatusLog(live)
    words = f"the embedded emulator cannot listen on 127.0.0.1:{port}: address already in use"
    try:
        with pytest.raises(ClientError, match=f"^{re.escape(words)}$"):
            await live.connect("emulator")
    finally:
        taken.close()
    assert live.status == ConnectionStatus(FAILED, words, "")
    assert live.emulator is None and not live.connected
    assert [s.state for s in log.statuses] == [CONNECTING, FAILED]
    # The port is free now: the same settings work.
    await live.connect("emulator")
    assert live.emulator is not None and live.emulator.port == port


# --- contexts ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_open_contexts_leave_out_ended_cancelled_and_failed_ones(
    make_live: Callable[..., LiveSession],
) -> None:
    live = make_live()
    assert live.open_contexts() == [] and not live.is_open(None)
    await live.connect("emulator")
    ended, cancelled, failed, still = (live.new_context(GenerationSettings()) for _ in range(4))
    # A context nothing was sent into yet may take input.
    assert live.open_contexts() == [ended, cancelled, failed, still]
    await live.send(ended, "Ended.")
    await live.end(ended)
    await live.send(cancelled, "Cancelled before it is done.")
    await live.cancel(cancelled)
    await live.flush(failed)  # an empty first input: the server answers with an error for this context
    await live.send(still, "Still open.")

    def state(context_id: str) -> ContextState | None:
        model = live.session.context(context_id, 1)
        return model.state if model is not None else None

    await until(live.session, lambda: state(failed) is ContextState.FAILED)
    failed_ctx = live.session.context(failed, 1)
    assert failed_ctx is not None and "transcript empty" in (failed_ctx.error or "")
    assert live.open_contexts() == [still]
    assert live.is_open(still) and not live.is_open(ended) and not live.is_open("no-such-context")
    with pytest.raises(ClientError, match=f"context {ended} was ended; start a new context"):
        await live.send(ended, "more")
    with pytest.raises(ClientError, match=f"context {cancelled} was cancelled; start a new context"):
        await live.send(cancelled, "more")
    await live.disconnect()
    assert live.open_contexts() == [] and not live.is_open(still)


# --- capture files ----------------------------------------------------------------------------------


def test_capture_names_carry_the_local_time() -> None:
    assert timestamped_capture_name(datetime(2025, 1, 2, 3, 4, 5)) == "flushscope-20250102-030405.fscap.jsonl"
    assert re.fullmatch(r"flushscope-\d{8}-\d{6}\.fscap\.jsonl", timestamped_capture_name())


@pytest.mark.asyncio
async def test_a_capture_made_in_the_same_second_is_numbered(
    make_live: Callable[..., LiveSession], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "flushscope-20250102-030405" + CAPTURE_SUFFIX
    monkeypatch.setattr(live_module, "timestamped_capture_name", lambda moment=None: name)
    directory = tmp_path / "captures"
    directory.mkdir()
    (directory / name).write_text("someone else's file\n")
    port = closed_port()
    paths = []
    for _ in range(2):
        live = make_live(capture_dir=directory)
        assert live.capture_path is None
        # A failed attempt opens the capture too: it records why it failed.
        with pytest.raises(Unreachable):
            await live.connect("custom", f"ws://127.0.0.1:{port}")
        paths.append(live.capture_path)
    assert paths == [directory / f"flushscope-20250102-030405-{n}{CAPTURE_SUFFIX}" for n in (2, 3)]
    assert (directory / name).read_text() == "someone else's file\n"


@pytest.mark.asyncio
async def test_a_new_session_keeps_the_captures_folder_under_its_cap(
    make_live: Callable[..., LiveSession], tmp_path: Path
) -> None:
    directory = tmp_path / "captures"
    directory.mkdir()
    old = []
    for day in (1, 2, 3):
        path = directory / f"flushscope-2025010{day}-120000{CAPTURE_SUFFIX}"
        path.write_bytes(b"x" * 40_000)
        moment = datetime(2025, 1, day, 12).timestamp()
        os.utime(path, (moment, moment))
        old.append(path)
    live = make_live(capture_dir=directory)
    live.capture_folder.set_pinned(old[0], True)
    live.capture_folder.set_cap(50_000)
    await live.connect("emulator")
    # The oldest is pinned; the next two go, and the new recording stays whatever its size.
    assert [p.exists() for p in old] == [True, False, False]
    assert live.capture_path is not None and live.capture_path.exists()
    assert live.take_pruning().startswith("removed the 2 oldest recordings (78 KiB)")
    assert live.take_pruning() == ""
    # A smaller cap applies at once when asked; the recording one stays.
    live.capture_folder.set_cap(1)
    assert "over its cap of 1 bytes" in live.prune_captures()
    assert old[0].exists() and live.capture_path.exists()


@pytest.mark.asyncio
async def test_a_capture_path_the_user_names_is_overwritten(
    make_live: Callable[..., LiveSession], tmp_path: Path
) -> None:
    path = tmp_path / "mine.fscap.jsonl"
    path.write_text("an old capture that the user chose to replace\n")
    live = make_live(capture_path=path)
    await live.connect("emulator")
    assert live.capture_path == path
    context_id = live.new_context(GenerationSettings())
    await live.send_flush(context_id, "Over it.")
    await live.end(context_id)
    assert live.client is not None and await wait_settled(live.session, live.client, TIMEOUT)
    await live.aclose()
    frames = read_capture(path).frames
    assert frames[0].meta() == {"event": "connect", "url": live.status.url}
    assert [f.index for f in frames] == [f.index for f in live.session.frames]
    assert "an old capture" not in path.read_text()


@pytest.mark.asyncio
async def test_a_capture_that_cannot_be_written_is_told_and_the_session_goes_on(
    make_live: Callable[..., LiveSession], tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the capture directory should be\n")
    live = make_live(capture_dir=blocker)
    await live.connect("emulator")
    assert live.capture_path is None
    assert live.capture_error is not None
    assert live.capture_error.startswith(f"cannot record the capture {blocker}/flushscope-")
    context_id = live.new_context(GenerationSettings())
    await live.send_flush(context_id, "Kept in memory.")
    assert live.session.contexts[0].segments[0].text == "Kept in memory."


# --- closing ------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_aclose_stops_everything_once(make_live: Callable[..., LiveSession]) -> None:
    live = make_live()
    log = StatusLog(live)
    await live.connect("emulator")
    emulator = live.emulator
    assert emulator is not None
    url = emulator.url
    context_id = live.new_context(GenerationSettings())
    await live.send(context_id, "Closing in the middle of this.")
    await live.aclose()
    await live.aclose()
    assert [s.state for s in log.statuses] == [CONNECTING, CONNECTING, CONNECTED, DISCONNECTED]
    assert live.emulator is None and not live.connected
    assert live.recorder.capture is None  # the capture file is closed
    # Nothing is left running: no reader, no keepalive, no emulator handler.
    assert asyncio.all_tasks() == {asyncio.current_task()}
    with pytest.raises(OSError):
        async with connect(url):
            pass
    with pytest.raises(ClientError, match=r"^the session is closed$"):
        await live.connect("emulator")
    with pytest.raises(ClientError, match=r"^the session is closed$"):
        await live.start_emulator()
    with pytest.raises(NotConnected):
        live.new_context(GenerationSettings())
    # The listeners were let go: nothing more is heard.
    assert len(log.statuses) == 4
