"""The live session as a recording proxy: the window's proxy target, without the window. The official SDK
connects through it to the embedded emulator; its contexts land in the live session and its capture."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from pathlib import Path
from typing import Any

import pytest
from cartesia import AsyncCartesia

from flushscope.core.inputs.generation_settings import DEFAULT_VOICE_ID
from flushscope.core.model.records import ContextState
from flushscope.core.model.session import rebuild
from flushscope.core.store.capture_reader import read_capture
from flushscope.emulator.config import EmulatorConfig, Pacing
from flushscope.net.client import ClientError
from flushscope.net.live import ConnectionState, LiveSession
from flushscope.net.proxy import ListenError, parse_listen
from flushscope.net.proxy_relay import ProxyConnection, ProxyState
from live_support import TIMEOUT, StatusLog
from session_snapshot import snapshot

KEY = "sk_car_live_proxy_secret_42"


def to_microseconds(value: Any) -> Any:
    """``value`` with every float rounded as a capture stores times."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: to_microseconds(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(to_microseconds(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(to_microseconds(getattr(value, f.name)) for f in dataclasses.fields(value))
    return value


def _live(tmp_path: Path) -> LiveSession:
    return LiveSession(
        capture_path=tmp_path / "proxy.fscap.jsonl", emulator_config=EmulatorConfig(pacing=Pacing.instant())
    )


async def _speak(url: str) -> list[str]:
    """One context through the SDK: two flushed segments; the event types it received."""
    client = AsyncCartesia(api_key=KEY, websocket_base_url=url)
    kinds: list[str] = []
    async with client.tts.websocket_connect() as conn:
        ctx = conn.context(
            model_id="sonic-3",
            voice={"mode": "id", "id": DEFAULT_VOICE_ID},
            output_format={"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
            timeout=TIMEOUT,
        )
        await ctx.push("Hello there. ")
        await ctx.push("", flush=True)
        await ctx.push("Second sentence.")
        await ctx.no_more_inputs()
        async for event in ctx.receive():
            kinds.append(event.type)
    return kinds


@pytest.mark.asyncio
async def test_the_sdk_through_the_live_proxy_lands_in_the_session(tmp_path: Path) -> None:
    live = _live(tmp_path)
    log = StatusLog(live)
    heard: list[tuple[int, ProxyState, str]] = []
    closed = asyncio.Event()

    def changed(connection: ProxyConnection) -> None:
        heard.append((connection.number, connection.state, connection.client))
        if connection.state is ProxyState.CLOSED:
            closed.set()

    live.add_proxy_listener(changed)
    try:
        url = await live.start_proxy("127.0.0.1:0", "emulator")
        listening = await log.reach(ConnectionState.LISTENING)
        assert listening.url == url and url.startswith("ws://127.0.0.1:")
        assert live.emulator is not None and not live.connected

        kinds = await _speak(url)
        assert kinds.count("flush_done") == 1 and kinds[-1] == "done"
        async with asyncio.timeout(TIMEOUT):
            await closed.wait()
        assert [(n, state) for n, state, _ in heard] == [
            (1, ProxyState.CONNECTING),
            (1, ProxyState.OPEN),
            (1, ProxyState.CLOSED),
        ]
        assert heard[-1][2].startswith("cartesia-python/")

        [ctx] = live.session.contexts
        assert ctx.state is ContextState.DONE
        assert [s.flush_id for s in ctx.segments if s.nbytes] == [1, 2]
        assert live.session.connections[1].client == heard[-1][2]
        await live.disconnect()
        assert (await log.reach(ConnectionState.DISCONNECTED)).reason == ""
        assert live.proxy is None
    finally:
        await live.aclose()
    capture = tmp_path / "proxy.fscap.jsonl"
    text = capture.read_text()
    assert KEY not in text
    loaded = read_capture(capture)
    assert loaded.header.target is not None and loaded.header.target.startswith("proxy to ws://127.0.0.1:")
    assert len(loaded.frames) == len(live.session.frames)
    # Reopened, the proxy's recording is the same model as the one watched live.
    reopened = rebuild(loaded.frames)
    reopened.finish()
    live.session.finish()
    # Captures keep times to the microsecond.
    assert to_microseconds(snapshot(reopened)) == to_microseconds(snapshot(live.session))
    assert reopened.contexts[0].client == live.session.contexts[0].client is not None


@pytest.mark.asyncio
async def test_connecting_stops_the_proxy_and_a_bad_listen_address_is_said_in_words(tmp_path: Path) -> None:
    live = _live(tmp_path)
    log = StatusLog(live)
    try:
        with pytest.raises(ClientError, match="listen on HOST:PORT"):
            await live.start_proxy("127.0.0.1:http", "emulator")
        assert (await log.reach(ConnectionState.FAILED)).reason.startswith("listen on HOST:PORT")
        with pytest.raises(ClientError, match="enter the URL the proxy forwards to"):
            await live.start_proxy("127.0.0.1:0", " ")
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            with pytest.raises(
                ClientError, match=f"cannot listen on 127.0.0.1:{port}: address already in use"
            ):
                await live.start_proxy(f"127.0.0.1:{port}", "emulator")
        url = await live.start_proxy("127.0.0.1:0", "emulator")
        proxy = live.proxy
        assert proxy is not None
        await live.connect("emulator")
        assert live.proxy is None and proxy.stopping and live.connected
        assert live.status.state is ConnectionState.CONNECTED
        with pytest.raises(OSError):
            # Nothing listens there any more.
            await asyncio.open_connection(*parse_listen(url.removeprefix("ws://")))
    finally:
        await live.aclose()


def test_listen_addresses() -> None:
    assert parse_listen("127.0.0.1:8765") == ("127.0.0.1", 8765)
    assert parse_listen(":0") == ("127.0.0.1", 0)
    assert parse_listen("8765") == ("127.0.0.1", 8765)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    for bad in ("", "host:", "host:70000", "host:-1"):
        with pytest.raises(ListenError):
            parse_listen(bad)
