"""The official SDK (cartesia 4.2.0) through the proxy to the real emulator: the app gets exactly what it gets
directly, the capture rebuilds what a direct ``flushscope run`` of the same script records, and no key is
written, logged or printed."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from cartesia import AsyncCartesia, Cartesia
from proxy_support import TIMEOUT, metas, proxied, texts, without_step_time

from flushscope.core.formats.har import read_har
from flushscope.core.formats.recordings import RecordingFormat, write_recording
from flushscope.core.inputs.generation_settings import DEFAULT_VOICE_ID
from flushscope.core.inputs.scenario import parse_scenario
from flushscope.core.model.session import Session, rebuild
from flushscope.core.store.capture_reader import read_capture
from flushscope.emulator.config import EmulatorConfig, Faults, Pacing
from flushscope.emulator.espeak import Synthesizer
from flushscope.emulator.server import EmulatorServer
from flushscope.net.client import Target
from flushscope.net.proxy_relay import ProxyState
from flushscope.net.runner import run_scenario

KEY = "sk_car_sdk_secret_key_0123456789"
CONTEXT: dict[str, Any] = {
    "model_id": "sonic-3",
    "voice": {"mode": "id", "id": DEFAULT_VOICE_ID},
    "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
    "language": "en",
    "add_timestamps": True,
    "max_buffer_delay_ms": 0,
    "timeout": TIMEOUT,
}

# The same conversation as the SDK scripts below, as a flushscope scenario.
SCRIPT = """
context a id=ctx-a
send "Stay hungry, "
context b id=ctx-b
send "Good morning, my friend. "
context a
flush
context b
flush
context b
send "How are you today?"
context a
send "stay foolish."
context b
end
context a
end
"""


def events_of(events: list[Any]) -> list[dict[str, Any]]:
    """The SDK's events as the frames they came from, minus the emulator's varying synthesis time."""
    out = []
    for event in events:
        obj = event.to_dict()
        obj.pop("step_time", None)
        out.append(obj)
    return out


def run_sync(url: str) -> dict[str, list[dict[str, Any]]]:
    with Cartesia(api_key=KEY, websocket_base_url=url) as client, client.tts.websocket_connect() as conn:
        a = conn.context(context_id="ctx-a", **CONTEXT)
        b = conn.context(context_id="ctx-b", **CONTEXT)
        a.push("Stay hungry, ")
        b.push("Good morning, my friend. ")
        a.push("", flush=True)
        b.push("", flush=True)
        b.push("How are you today?")
        a.push("stay foolish.")
        b.no_more_inputs()
        a.no_more_inputs()
        return {"ctx-a": events_of(list(a.receive())), "ctx-b": events_of(list(b.receive()))}


async def run_async(url: str) -> dict[str, list[dict[str, Any]]]:
    async with (
        AsyncCartesia(api_key=KEY, websocket_base_url=url) as client,
        client.tts.websocket_connect() as conn,
    ):
        a = conn.context(context_id="ctx-a", **CONTEXT)
        b = conn.context(context_id="ctx-b", **CONTEXT)
        await a.push("Stay hungry, ")
        await b.push("Good morning, my friend. ")
        await a.push("", flush=True)
        await b.push("", flush=True)
        await b.push("How are you today?")
        await a.push("stay foolish.")
        await b.no_more_inputs()
        await a.no_more_inputs()

        async def drain(ctx: Any) -> list[dict[str, Any]]:
            return events_of([event async for event in ctx.receive()])

        got_a, got_b = await asyncio.gather(drain(a), drain(b))
        return {"ctx-a": got_a, "ctx-b": got_b}


def snapshot(session: Session) -> dict[str, Any]:
    """What the model made of a recording: contexts, segments, transcripts, flush ids, chunks, anomalies."""
    return {
        "contexts": [
            {
                "id": ctx.context_id,
                "state": ctx.state.value,
                "base": ctx.base,
                "segments": [
                    (s.flush_id, [t.text for t in s.transcripts], s.chunk_count, s.state.value, len(s.words))
                    for s in ctx.segments
                ],
            }
            for ctx in session.contexts
        ],
        "anomalies": sorted((a.kind.value, a.context_id, a.flush_id) for a in session.anomalies),
    }


@pytest.mark.asyncio
@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_the_sdk_gets_through_the_proxy_exactly_what_it_gets_directly(
    tmp_path: Path,
    synth: Synthesizer,
    flavour: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="flushscope")
    # A late chunk after each flush_done: the models compared below have anomalies to agree on.
    config = EmulatorConfig(pacing=Pacing.instant(), faults=Faults(late_chunk=True))
    capture = tmp_path / "proxy.fscap.jsonl"
    async with EmulatorServer(config, synth) as emulator:

        async def client(url: str) -> dict[str, list[dict[str, Any]]]:
            if flavour == "sync":
                return await asyncio.to_thread(run_sync, url)
            return await run_async(url)

        upstream_url = emulator.tts_url
        direct = await asyncio.wait_for(client(emulator.url), TIMEOUT)
        async with proxied(emulator.url, capture) as rig:
            through = await asyncio.wait_for(client(rig.url), TIMEOUT)
            await rig.until(1, ProxyState.CLOSED)
        # A direct flushscope run of the same conversation, on the same emulator.
        reference = tmp_path / "run.fscap.jsonl"
        result = await run_scenario(parse_scenario(SCRIPT), reference, Target(emulator.url), timeout=TIMEOUT)
        assert result.settled

    assert through == direct
    for events in direct.values():
        kinds = [e["type"] for e in events]
        assert kinds.count("flush_done") == 1 and kinds[-1] == "done" and kinds.count("chunk") > 2

    loaded = read_capture(capture)
    # The capture holds, per context and in order, exactly the frames the SDK was given.
    received = [without_step_time(t) for t in texts(loaded, 1, "recv")]
    for context_id, events in through.items():
        assert [f for f in received if f.get("context_id") == context_id] == events
    sent = [json.loads(t) for t in texts(loaded, 1, "send")]
    assert [(s["context_id"], s["transcript"], s["continue"], s.get("flush", False)) for s in sent] == [
        ("ctx-a", "Stay hungry, ", True, False),
        ("ctx-b", "Good morning, my friend. ", True, False),
        ("ctx-a", "", True, True),
        ("ctx-b", "", True, True),
        ("ctx-b", "How are you today?", True, False),
        ("ctx-a", "stay foolish.", True, False),
        ("ctx-b", "", False, False),
        ("ctx-a", "", False, False),
    ]
    connect, opened, closed = metas(loaded, 1)
    assert connect == {
        "event": "connect",
        "url": upstream_url,
        "client": "cartesia-python/4.2.0",
        "remote": connect["remote"],
        "port": connect["port"],
        "path": "/tts/websocket",
        "auth": "bearer",
        "key_replaced": False,
        "key_withheld": False,
    }
    assert connect["remote"] == f"127.0.0.1:{connect['port']}"
    assert opened == {
        "event": "open",
        "app_compression": "permessage-deflate",
        "upstream_compression": "permessage-deflate",
    }
    assert closed == {
        "event": "close",
        "code": 1000,
        "reason": "",
        "by": "app",
        "relayed_code": 1000,
        "relayed_reason": "",
    }

    proxied_model = rebuild(loaded.frames)
    run_model = rebuild(read_capture(reference).frames)
    assert snapshot(proxied_model) == snapshot(run_model)
    assert [c["id"] for c in snapshot(run_model)["contexts"]] == ["ctx-a", "ctx-b"]
    # The late chunk is the segment's last one again, byte for byte: after its flush_done, and a repeat.
    assert {kind for kind, _, _ in snapshot(run_model)["anomalies"]} == {
        "chunk_after_flush_done",
        "duplicate_chunk",
    }
    assert proxied_model.connections[1].client == "cartesia-python/4.2.0"

    # The key is nowhere: not in the capture, its HAR, a log line, stdout or stderr.
    har = tmp_path / "proxy.har"
    write_recording(loaded, har, RecordingFormat.HAR)
    assert snapshot(rebuild(read_har(har).frames)) == snapshot(proxied_model)
    out, err = capsys.readouterr()
    for text in (capture.read_text(), har.read_text(), caplog.text, out, err):
        assert KEY not in text
    assert "connection 1 from 127.0.0.1:" in caplog.text
