"""The proxy over real loopback sockets: what travels upstream, how each client style authenticates, several
apps at once, compression on either side, and closes passed on both ways."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from emulator_support import req
from proxy_support import TIMEOUT, ScriptedUpstream, metas, proxied, texts
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Close

from flushscope.core.model.recorder import Recorder
from flushscope.core.model.session import Session
from flushscope.emulator.config import EmulatorConfig, Pacing
from flushscope.emulator.espeak import Synthesizer
from flushscope.emulator.server import EmulatorServer
from flushscope.net.proxy import ProxyServer
from flushscope.net.proxy_relay import ProxyState, Side

KEY = "sk_car_app_secret_0123456789"
REAL = "sk_car_proxy_real_key_9876543210"
LIVEKIT = "LiveKit Agents Cartesia Plugin/1.8.9"


async def one_shot(ws: ClientConnection, context_id: str, text: str = "Hello there.") -> list[dict[str, Any]]:
    """Send one whole context and read its frames until its done (or error)."""
    await ws.send(json.dumps(req(context_id, text, cont=False)))
    frames: list[dict[str, Any]] = []
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if frame.get("context_id") == context_id:
            frames.append(frame)
            if frame["type"] in ("done", "error"):
                return frames


def emulator(synth: Synthesizer, **config: Any) -> EmulatorServer:
    config.setdefault("pacing", Pacing.instant())
    return EmulatorServer(EmulatorConfig(**config), synth)


# --- what travels upstream ----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_livekit_style_headers_query_and_path_travel_upstream(tmp_path: Path) -> None:
    async with ScriptedUpstream() as upstream, proxied(upstream.url, tmp_path / "c.fscap.jsonl") as rig:
        url = f"{rig.url}/v1/tts/websocket?cartesia_version=2025-04-16"
        headers = {"X-API-Key": KEY, "X-Debug": "1"}
        async with connect(
            url, additional_headers=headers, user_agent_header=LIVEKIT, compression=None
        ) as ws:
            assert ws.response is not None
            assert "Sec-WebSocket-Extensions" not in ws.response.headers
            await ws.send("hello")
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "hello"
        seen = await upstream.next_finished()
        await rig.until(1, ProxyState.CLOSED)
    assert seen.request.path == "/tts/websocket?cartesia_version=2025-04-16"
    sent = seen.request.headers
    assert (sent["X-API-Key"], sent["User-Agent"], sent["X-Debug"]) == (KEY, LIVEKIT, "1")
    # The proxy offers compression upstream even though this app did not.
    assert "permessage-deflate" in sent["Sec-WebSocket-Extensions"]
    assert seen.messages == ["hello"]
    assert seen.close == Close(1000, "")
    loaded = rig.loaded()
    connect_event = metas(loaded, 1)[0]
    assert (connect_event["client"], connect_event["auth"], connect_event["path"]) == (
        LIVEKIT,
        "x-api-key",
        "/v1/tts/websocket?cartesia_version=2025-04-16",
    )
    assert metas(loaded, 1)[1] == {
        "event": "open",
        "app_compression": None,
        "upstream_compression": "permessage-deflate",
    }
    assert (texts(loaded, 1, "send"), texts(loaded, 1, "recv")) == (["hello"], ["hello"])
    assert KEY not in rig.capture.read_text()


@pytest.mark.asyncio
async def test_an_app_without_a_user_agent_is_labelled_so_and_none_is_invented(tmp_path: Path) -> None:
    async with ScriptedUpstream() as upstream, proxied(upstream.url, tmp_path / "c.fscap.jsonl") as rig:
        async with connect(f"{rig.url}/tts/websocket", user_agent_header=None) as ws:
            await ws.send("x")
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        seen = await upstream.next_finished()
        info = await rig.until(1, ProxyState.CLOSED)
    assert "User-Agent" not in seen.request.headers
    assert info.client == "no User-Agent"
    assert rig.session.connections[1].client == "no User-Agent"


@pytest.mark.asyncio
async def test_binary_frames_pass_both_ways_and_are_recorded_by_size(tmp_path: Path) -> None:
    async with ScriptedUpstream() as upstream, proxied(upstream.url, tmp_path / "c.fscap.jsonl") as rig:
        async with connect(f"{rig.url}/tts/websocket") as ws:
            await ws.send(b"\x00\x01\x02")
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == b"\x00\x01\x02"
        await upstream.next_finished()
        info = await rig.until(1, ProxyState.CLOSED)
    binary = [m for m in metas(rig.loaded(), 1) if m["event"] == "binary"]
    assert binary == [
        {"event": "binary", "dir": "send", "bytes": 3},
        {"event": "binary", "dir": "recv", "bytes": 3},
    ]
    assert (info.sent, info.received) == (1, 1)


@pytest.mark.asyncio
async def test_a_wrong_path_is_404_and_not_recorded(tmp_path: Path) -> None:
    async with ScriptedUpstream() as upstream, proxied(upstream.url, tmp_path / "c.fscap.jsonl") as rig:
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"{rig.url}/stt/websocket")
        assert refused.value.response.status_code == 404
        assert rig.proxy.connections == []
    assert rig.loaded().frames == []


# --- keys ---------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_pipecat_0_0_90_style_query_key_with_compression(tmp_path: Path, synth: Synthesizer) -> None:
    async with (
        emulator(synth, require_key=KEY) as server,
        proxied(server.url, tmp_path / "c.fscap.jsonl") as rig,
    ):
        url = f"{rig.url}/tts/websocket?api_key={KEY}&cartesia_version=2025-04-16"
        async with connect(url) as ws:
            frames = await one_shot(ws, "q")
        info = await rig.until(1, ProxyState.CLOSED)
    assert frames[-1]["type"] == "done" and frames[0]["type"] == "chunk"
    connect_event, opened, *_ = metas(rig.loaded(), 1)
    assert connect_event["path"] == "/tts/websocket?api_key=REDACTED&cartesia_version=2025-04-16"
    assert connect_event["url"].endswith("/tts/websocket?api_key=REDACTED&cartesia_version=2025-04-16")
    assert (connect_event["auth"], opened["app_compression"]) == ("api_key", "permessage-deflate")
    assert info.upstream_url == connect_event["url"]
    assert KEY not in rig.capture.read_text()


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["explicit", "fallback"])
async def test_the_proxys_key_stands_in_for_a_placeholder(
    tmp_path: Path, synth: Synthesizer, how: str
) -> None:
    options = {"api_key": REAL} if how == "explicit" else {"fallback_api_key": REAL}
    async with (
        emulator(synth, require_key=REAL) as server,
        proxied(server.url, tmp_path / "c.fscap.jsonl", **options) as rig,
    ):
        async with connect(
            f"{rig.url}/tts/websocket", additional_headers={"X-API-Key": "x"}, compression=None
        ) as ws:
            frames = await one_shot(ws, "p")
        await rig.until(1, ProxyState.CLOSED)
        # A real key of the app's own wins over the fallback (and is refused here), never over an explicit one.
        if how == "fallback":
            with pytest.raises(InvalidStatus) as refused:
                await connect(f"{rig.url}/tts/websocket", additional_headers={"X-API-Key": KEY})
            assert refused.value.response.status_code == 401
    assert frames[-1]["type"] == "done"
    assert metas(rig.loaded(), 1)[0]["key_replaced"] is True
    text = rig.capture.read_text()
    assert REAL not in text and KEY not in text
    assert REAL in rig.proxy.secrets


# --- several apps, both compressions ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_several_apps_at_once_each_get_their_own_connection(tmp_path: Path, synth: Synthesizer) -> None:
    async with emulator(synth) as server, proxied(server.url, tmp_path / "c.fscap.jsonl") as rig:

        async def app(name: str, compression: str | None) -> list[dict[str, Any]]:
            async with connect(
                f"{rig.url}/tts/websocket", user_agent_header=name, compression=compression
            ) as ws:
                return await one_shot(ws, name, "The same sentence for every app.")

        results = await asyncio.gather(app("one", "deflate"), app("two", None), app("three", "deflate"))
        for number in (1, 2, 3):
            await rig.until(number, ProxyState.CLOSED)
    datas = [[f["data"] for f in frames if f["type"] == "chunk"] for frames in results]
    assert datas[0] and datas[0] == datas[1] == datas[2]
    labels = {c.client: c for c in rig.proxy.connections}
    assert sorted(labels) == ["one", "three", "two"]
    loaded = rig.loaded()
    for label, info in labels.items():
        sent = [json.loads(t)["context_id"] for t in texts(loaded, info.number, "send")]
        assert sent == [label]
        recv = {json.loads(t)["context_id"] for t in texts(loaded, info.number, "recv")}
        assert recv == {label}
        expected = None if label == "two" else "permessage-deflate"
        assert metas(loaded, info.number)[1]["app_compression"] == expected
    assert [(n, s) for n, s in rig.changes if n == labels["two"].number] == [
        (labels["two"].number, ProxyState.CONNECTING),
        (labels["two"].number, ProxyState.OPEN),
        (labels["two"].number, ProxyState.CLOSED),
    ]


@pytest.mark.asyncio
async def test_the_upstreams_request_id_reaches_the_app(tmp_path: Path, synth: Synthesizer) -> None:
    async with (
        emulator(synth) as server,
        proxied(server.url, tmp_path / "c.fscap.jsonl") as rig,
        connect(f"{rig.url}/tts/websocket") as ws,
    ):
        assert ws.response is not None
        request_id = ws.response.headers.get("X-Request-Id")
    assert request_id is not None and len(request_id) == 36


# --- closes -------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_close_codes_and_reasons_pass_both_ways(tmp_path: Path) -> None:
    async with ScriptedUpstream() as upstream, proxied(upstream.url, tmp_path / "c.fscap.jsonl") as rig:
        # The upstream closes with its own code.
        async with connect(f"{rig.url}/tts/websocket") as ws:
            await ws.send("close 4001 upstream says bye")
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert (ws.close_code, ws.close_reason) == (4001, "upstream says bye")
        # The app closes with its own code.
        async with connect(f"{rig.url}/tts/websocket") as ws:
            await ws.send("ping")
            await asyncio.wait_for(ws.recv(), TIMEOUT)
            await ws.close(4002, "app says bye")
        # A close frame without a code stays without one.
        async with connect(f"{rig.url}/tts/websocket") as ws:
            await ws.send("close-empty")
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert ws.close_code == 1005
        closes = [(await upstream.next_finished()).close for _ in range(3)]
        for number in (1, 2, 3):
            await rig.until(number, ProxyState.CLOSED)
    # What each upstream connection received: the echo of its own close, the app's close, the empty echo.
    assert closes == [Close(4001, "upstream says bye"), Close(4002, "app says bye"), Close(1005, "")]
    loaded = rig.loaded()
    assert metas(loaded, 1)[-1] == {
        "event": "close", "code": 4001, "reason": "upstream says bye", "by": "upstream",
        "relayed_code": 4001, "relayed_reason": "upstream says bye",
    }  # fmt: skip
    assert metas(loaded, 2)[-1]["by"] == "app" and metas(loaded, 2)[-1]["code"] == 4002
    assert metas(loaded, 3)[-1] == {
        "event": "close", "code": 1005, "reason": "", "by": "upstream", "relayed_code": None, "relayed_reason": "",
    }  # fmt: skip


@pytest.mark.asyncio
async def test_an_upstream_that_drops_is_1014_to_the_app(tmp_path: Path) -> None:
    async with ScriptedUpstream() as upstream, proxied(upstream.url, tmp_path / "c.fscap.jsonl") as rig:
        async with connect(f"{rig.url}/tts/websocket") as ws:
            await ws.send("before")
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == "before"
            await ws.send("drop")
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert (ws.close_code, ws.close_reason) == (1014, "upstream dropped")
        await upstream.next_finished()
        await rig.until(1, ProxyState.CLOSED)
    assert metas(rig.loaded(), 1)[-1] == {
        "event": "close", "code": 1006, "reason": "", "by": "upstream", "relayed_code": 1014,
        "relayed_reason": "upstream dropped",
    }  # fmt: skip
    assert texts(rig.loaded(), 1, "send") == ["before", "drop"]


def _masked_text_frame(text: str) -> bytes:
    payload = text.encode()
    mask = b"\x01\x02\x03\x04"
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


UPGRADE = (
    "GET /tts/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "User-Agent: raw-socket/1.0\r\n\r\n"
)


@pytest.mark.asyncio
async def test_an_app_that_drops_its_socket_is_client_went_away_upstream(tmp_path: Path) -> None:
    async with ScriptedUpstream() as upstream, proxied(upstream.url, tmp_path / "c.fscap.jsonl") as rig:
        port = rig.proxy.port
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(UPGRADE.encode())
        status = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        assert status.startswith(b"HTTP/1.1 101 ")
        writer.write(_masked_text_frame("hello from a raw socket"))
        echo = await asyncio.wait_for(reader.readexactly(2 + len("hello from a raw socket")), TIMEOUT)
        assert echo.endswith(b"hello from a raw socket")
        writer.transport.abort()  # no close frame
        seen = await upstream.next_finished()
        info = await rig.until(1, ProxyState.CLOSED)
    assert seen.close == Close(1001, "client went away")
    assert (info.close_code, info.closed_by, info.client) == (1006, Side.APP, "raw-socket/1.0")
    assert texts(rig.loaded(), 1, "send") == ["hello from a raw socket"]


@pytest.mark.asyncio
async def test_an_app_that_leaves_during_its_handshake_leaves_no_upstream_open(tmp_path: Path) -> None:
    hold = asyncio.Event()
    async with ScriptedUpstream(hold) as upstream, proxied(upstream.url, tmp_path / "c.fscap.jsonl") as rig:
        _, writer = await asyncio.open_connection("127.0.0.1", rig.proxy.port)
        writer.write(UPGRADE.encode())
        await rig.until(1, ProxyState.CONNECTING)
        writer.transport.abort()
        # The upstream answers only once the app has gone: the proxy holds an open upstream for nobody.
        hold.set()
        seen = await upstream.next_finished()
        info = await rig.until(1, ProxyState.CLOSED)
    # The upstream was opened for it and then closed, not left waiting.
    assert seen.close == Close(1001, "client went away")
    assert info.error == "the app left during its handshake"
    assert rig.proxy._pending == {}


@pytest.mark.asyncio
async def test_stopping_the_proxy_closes_both_sides(tmp_path: Path) -> None:
    async with ScriptedUpstream() as upstream:
        async with proxied(upstream.url, tmp_path / "c.fscap.jsonl") as rig:
            ws = await connect(f"{rig.url}/tts/websocket")
            await ws.send("x")
            await asyncio.wait_for(ws.recv(), TIMEOUT)
            await rig.proxy.close()
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert ws.close_code == 1001
        seen = await upstream.next_finished()
    assert seen.close == Close(1001, "proxy stopped")
    last = metas(rig.loaded(), 1)[-1]
    assert (last["by"], last["code"], last["relayed_code"], last["relayed_reason"]) == (
        "proxy",
        1001,
        1001,
        "proxy stopped",
    )
    assert rig.proxy.connections[0].state is ProxyState.CLOSED


@pytest.mark.asyncio
@pytest.mark.parametrize("level", [0, 9])
async def test_compression_is_each_sides_own_choice(tmp_path: Path, level: int) -> None:
    async with (
        ScriptedUpstream() as upstream,
        proxied(
            upstream.url, tmp_path / "c.fscap.jsonl", app_deflate_level=level, upstream_deflate=False
        ) as rig,
    ):
        text = json.dumps({"data": "QUFB" * 2000})
        async with connect(f"{rig.url}/tts/websocket", compression="deflate", max_size=None) as ws:
            await ws.send(text)
            assert await asyncio.wait_for(ws.recv(), TIMEOUT) == text
        seen = await upstream.next_finished()
        await rig.until(1, ProxyState.CLOSED)
    assert "Sec-WebSocket-Extensions" not in seen.request.headers
    opened = metas(rig.loaded(), 1)[1]
    assert (opened["app_compression"], opened["upstream_compression"]) == ("permessage-deflate", None)
    assert texts(rig.loaded(), 1, "recv") == [text]


def test_a_deflate_level_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="the deflate level must be from 0 to 9, not 10"):
        ProxyServer(Recorder(Session()), "ws://127.0.0.1:1", app_deflate_level=10)
