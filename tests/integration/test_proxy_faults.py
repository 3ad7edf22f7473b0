"""Faults through the proxy, with the real emulator upstream: refusals, drops on either side, an upstream that
is not there. The app gets the matching status or close code, the proxy serves the next app, and the
capture keeps every frame up to the fault."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from emulator_support import req
from proxy_support import TIMEOUT, metas, proxied, texts
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from flushscope.core.model.session import rebuild
from flushscope.emulator.config import EmulatorConfig, Faults, Pacing
from flushscope.emulator.espeak import Synthesizer
from flushscope.emulator.server import EmulatorServer
from flushscope.net.proxy_relay import ProxyState

KEY = "sk_car_fault_key_0123456789"
LONG = "A sentence long enough to need many chunks of audio, so that the fault lands in the middle of it."


def emulator(synth: Synthesizer, **config: Any) -> EmulatorServer:
    config.setdefault("pacing", Pacing.instant())
    return EmulatorServer(EmulatorConfig(**config), synth)


async def still_serves(url: str) -> str:
    """Open a new connection through the proxy and get an answer on it: the error of an empty context."""
    async with connect(f"{url}/tts/websocket", additional_headers={"X-API-Key": KEY}) as ws:
        await ws.send(json.dumps(req("next", "", cont=False)))
        frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    kind: str = frame["type"]
    return kind


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("config", "status", "body"),
    [
        ({"require_key": KEY}, 401, b"Unauthorized: invalid API key\n"),
        ({"faults": Faults(reject_429=True)}, 429, b"Too many WebSocket connections\n"),
    ],
)
async def test_an_upstream_refusal_reaches_the_app_as_the_same_status_and_body(
    tmp_path: Path, synth: Synthesizer, config: dict[str, Any], status: int, body: bytes
) -> None:
    async with emulator(synth, **config) as server, proxied(server.url, tmp_path / "c.fscap.jsonl") as rig:
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"{rig.url}/tts/websocket", additional_headers={"X-API-Key": "sk_car_wrong_key"})
        info = await rig.until(1, ProxyState.REFUSED)
        if status == 401:
            assert await still_serves(rig.url) == "error"
            await rig.until(2, ProxyState.CLOSED)
    response = refused.value.response
    assert (response.status_code, response.body) == (status, body)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert info.status == status
    reason = "Unauthorized" if status == 401 else "Too Many Requests"
    assert info.error == f"upstream refused: HTTP {status} {reason} ({body.decode().strip()})"
    connect_event, error = metas(rig.loaded(), 1)
    assert connect_event["event"] == "connect"
    assert error == {"event": "error", "message": info.error, "status": status}
    assert rig.changes[:2] == [(1, ProxyState.CONNECTING), (1, ProxyState.REFUSED)]
    assert "sk_car_wrong_key" not in rig.capture.read_text()


@pytest.mark.asyncio
async def test_an_upstream_that_drops_mid_stream(tmp_path: Path, synth: Synthesizer) -> None:
    async with (
        emulator(synth, faults=Faults(close_after_chunks=3)) as server,
        proxied(server.url, tmp_path / "c.fscap.jsonl") as rig,
    ):
        got: list[dict[str, Any]] = []
        async with connect(f"{rig.url}/tts/websocket") as ws:
            await ws.send(json.dumps(req("long", LONG, cont=False)))
            with pytest.raises(ConnectionClosed):
                while True:
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)))
            assert (ws.close_code, ws.close_reason) == (1014, "upstream dropped")
        await rig.until(1, ProxyState.CLOSED)
        # The next app is served: the fault drops a socket after 3 chunks, and an error frame is none.
        assert await still_serves(rig.url) == "error"
    loaded = rig.loaded()
    recorded = [json.loads(t) for t in texts(loaded, 1, "recv")]
    assert recorded == got
    assert [f["type"] for f in recorded].count("chunk") == 3
    assert metas(loaded, 1)[-1] == {
        "event": "close", "code": 1006, "reason": "", "by": "upstream", "relayed_code": 1014,
        "relayed_reason": "upstream dropped",
    }  # fmt: skip
    session = rebuild(loaded.frames)
    assert session.contexts[0].state.value == "failed"
    assert "server_went_away" in {a.kind.value for a in session.anomalies}


@pytest.mark.asyncio
async def test_an_app_that_drops_mid_stream(tmp_path: Path, synth: Synthesizer) -> None:
    # Real pacing: the app is gone while the upstream is still streaming to it.
    async with (
        emulator(synth, pacing=Pacing(first_audio_ms=0.0, chunk_ms=93.0, speedup=4.0)) as server,
        proxied(server.url, tmp_path / "c.fscap.jsonl") as rig,
    ):
        ws = await connect(f"{rig.url}/tts/websocket", compression=None)
        await ws.send(json.dumps(req("long", LONG, cont=False)))
        first = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        ws.transport.abort()  # gone without a close frame
        info = await rig.until(1, ProxyState.CLOSED)
        assert await still_serves(rig.url) == "error"
    assert first["type"] == "chunk"
    loaded = rig.loaded()
    assert json.loads(texts(loaded, 1, "recv")[0]) == first
    close = metas(loaded, 1)[-1]
    assert (close["code"], close["by"], close["relayed_code"], close["relayed_reason"]) == (
        1006,
        "app",
        1001,
        "client went away",
    )
    assert (info.close_code, info.sent) == (1006, 1)


@pytest.mark.asyncio
async def test_an_upstream_that_is_not_there_is_a_502_in_words(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    async with proxied(f"ws://127.0.0.1:{port}", tmp_path / "c.fscap.jsonl") as rig:
        for number in (1, 2):
            with pytest.raises(InvalidStatus) as refused:
                await connect(f"{rig.url}/tts/websocket?api_key={KEY}")
            info = await rig.until(number, ProxyState.REFUSED)
            response = refused.value.response
            assert response.status_code == 502
            body = response.body.decode()
            assert body.startswith(
                f"Upstream unreachable: cannot reach ws://127.0.0.1:{port}/tts/websocket?api_key=REDACTED: "
            )
            assert info.status == 502 and info.error == body.strip()
    text = rig.capture.read_text()
    assert KEY not in text
    assert [m["event"] for m in metas(rig.loaded(), 2)] == ["connect", "error"]
