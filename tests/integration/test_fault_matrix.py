"""Every emulator fault, through ``flushscope run`` (a process of its own) and through the official SDK behind
the recording proxy: nothing crashes, the capture holds every frame the client received, ``report`` names
the fault's anomaly and exits as it should. Refusals (401, 429, an upstream that is not there or is no
WebSocket server) through both paths, and through flushscope's own client."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cartesia import Cartesia
from emulator_support import req
from proxy_support import TIMEOUT, proxied
from websockets.asyncio.client import connect

from flushscope.cli import main
from flushscope.cli.emulator_switches import add_emulator_switches, emulator_config
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from flushscope.core.inputs.generation_settings import DEFAULT_VOICE_ID
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.session import Session
from flushscope.core.store.capture_reader import read_capture
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.emulator.config import EmulatorConfig, Faults
from flushscope.emulator.espeak import Synthesizer
from flushscope.emulator.server import EmulatorServer
from flushscope.net.client import Client, HandshakeRejected, Target

SENTENCES = (
    "Hello there, and welcome to the fault matrix.",
    "A second context speaks at the same time.",
    "This is the second segment of the first context.",
    "And this one ends the second.",
)
# The same conversation as the SDK app below; the wait lets a dropped connection leave steps unsent.
SCRIPT = f"""
context a id=fm-a
send {SENTENCES[0]}
flush
context b id=fm-b
send {SENTENCES[1]}
flush
wait 300ms
context a
send {SENTENCES[2]}
flush
end
context b
send {SENTENCES[3]}
flush
end
"""


@dataclass(frozen=True)
class Fault:
    """One emulator fault: its switches, the anomaly ``report`` must name on each path, and the thresholds
    that keep the test short (given to ``run`` and ``report`` alike)."""

    name: str
    switches: tuple[str, ...]
    kind: str | None
    #: The anomaly the SDK path shows when it differs from the ``run`` path's.
    sdk_kind: str | None = None
    thresholds: tuple[str, ...] = ()
    #: ``run --timeout``, and how long the SDK waits for each event.
    wait_s: float = TIMEOUT
    #: The connection ends mid-script on the ``run`` path: the rest of the script is not sent.
    drops: bool = False


FAULTS = [
    Fault("none", (), None),
    Fault("close-after", ("--fault-close-after", "10"), "server_went_away", drops=True),
    Fault("reset-after", ("--fault-reset-after", "10"), "server_went_away", drops=True),
    Fault("delay", ("--fault-delay-ms", "600"), "slow_first_audio", thresholds=("--slow-first-audio", "300")),
    # 1.2 s: under the old allowance for a client that leaves max_buffer_delay_ms out (1 s + 3 s), as the SDK.
    Fault("stall", ("--fault-stall-ms", "1200"), "stall"),
    Fault("malformed", ("--fault-malformed-every", "10"), "malformed_frame"),
    Fault(
        "drop-done", ("--fault-drop-done",), "done_timeout", thresholds=("--done-timeout", "0.5"), wait_s=1.0
    ),
    Fault("late-chunk", ("--fault-late-chunk",), "chunk_after_flush_done"),
    Fault("skip-flush-id", ("--fault-skip-flush-id",), "flush_id_skipped"),
    Fault("duplicate-chunk", ("--fault-duplicate-chunk",), "duplicate_chunk"),
    Fault("late-segment", ("--fault-late-segment",), "chunk_after_flush_done"),
    Fault("stray-context", ("--fault-stray-context",), "unknown_context"),
    # The SDK refuses the frame (1009): the proxy forwarded it, so the capture holds it, and the app left.
    Fault("oversized", ("--fault-oversized-after", "5"), "oversized_frame", sdk_kind="app_went_away"),
    Fault("429", ("--fault-429",), None, sdk_kind="connection_refused"),
]


def ids(fault: Fault) -> str:
    return fault.name


async def flushscope(*args: str | Path, cwd: Path) -> tuple[int, str, str]:
    """``flushscope ARGS`` in a process of its own, without blocking the servers this test runs."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "flushscope", *map(str, args),
        cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def report(capture: Path, capsys: pytest.CaptureFixture[str], *switches: str) -> tuple[int, dict[str, Any]]:
    """``flushscope report CAPTURE --json`` (in this process): its exit code and its report."""
    capsys.readouterr()
    code = main(["report", str(capture), "--json", *switches])
    out = capsys.readouterr().out
    return code, json.loads(out) if out else {}


def counted(found: dict[str, Any]) -> set[str]:
    return {a["kind"] for a in found["anomalies"] if a["severity"] != "info"}


def received_by_context(frames: Iterator[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for frame in frames:
        grouped[str(frame.get("context_id"))].append(frame)
    return grouped


def captured_frames(capture: Path, conn: int = 1) -> Iterator[dict[str, Any]]:
    """The frames the capture holds as received on ``conn``, parsed (those that are JSON objects)."""
    for frame in read_capture(capture).frames:
        if frame.conn == conn and frame.dir.value == "recv":
            try:
                obj = json.loads(frame.text)
            except ValueError:
                continue
            if isinstance(obj, dict):
                yield obj


def holds_in_order(whole: list[Any], part: list[Any]) -> bool:
    """Whether ``part`` is ``whole`` with some items left out (in the same order)."""
    rest = iter(whole)
    return all(any(item == other for other in rest) for item in part)


def assert_holds_all(capture: Path, received: list[dict[str, Any]]) -> None:
    """Every frame the client received is in the capture, in order, context by context."""
    captured = received_by_context(captured_frames(capture))
    for context_id, frames in received_by_context(iter(received)).items():
        assert holds_in_order(captured[context_id], frames), context_id


# --- through flushscope run ---------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("fault", FAULTS, ids=ids)
async def test_each_fault_through_run(
    fault: Fault, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "matrix.txt"
    script.write_text(SCRIPT)
    capture = tmp_path / "run.fscap.jsonl"
    code, out, err = await flushscope(
        "run", script, "--pace", "instant", "--capture", capture, "--json", "--timeout", str(fault.wait_s),
        *fault.switches, *fault.thresholds, cwd=tmp_path,
    )  # fmt: skip
    assert "Traceback" not in err
    if fault.name == "429":
        # A run that cannot connect leaves no capture, and says why.
        assert code == EXIT_USAGE
        assert "HTTP 429: too many connections for this account (Too many WebSocket connections)" in err
        assert not capture.exists()
        return
    ran = json.loads(out)
    assert code == (EXIT_OK if fault.kind is None else EXIT_FAILED), err
    if fault.kind is not None:
        assert fault.kind in counted(ran)
    else:
        assert counted(ran) == set()
    assert ("not_sent" in ran) is fault.drops
    if fault.drops:
        assert ran["not_sent"]["steps"] > 0
        assert "the connection ended before the run did: the connection closed (code 1006)" in err
    # The capture says the same as the run did, and holds every frame the client received (the client
    # records a frame as it reads it: the capture is what it received).
    again, found = report(capture, capsys, *fault.thresholds)
    assert again == (EXIT_OK if fault.kind is None else EXIT_FAILED)
    assert found["anomalies"] == ran["anomalies"]
    assert [f.text for f in read_capture(capture).frames if f.dir.value == "recv"]


# --- through the official SDK behind the proxy ----------------------------------------------------------


@dataclass
class SdkRun:
    """What the SDK app got: every event, as the frame it came from, and how it ended."""

    events: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def sdk_app(url: str, wait_s: float) -> SdkRun:
    """The script above as an app on the sync SDK: both contexts sent, then each read to its end. The
    contexts leave max_buffer_delay_ms out, as the SDK does unless told."""
    run = SdkRun()
    settings: dict[str, Any] = {
        "model_id": "sonic-3",
        "voice": {"mode": "id", "id": DEFAULT_VOICE_ID},
        "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
        "language": "en",
        "timeout": wait_s,
    }
    try:
        with Cartesia(api_key="x", websocket_base_url=url) as client, client.tts.websocket_connect() as conn:
            a = conn.context(context_id="fm-a", **settings)
            b = conn.context(context_id="fm-b", **settings)
            for ctx, text in ((a, SENTENCES[0]), (b, SENTENCES[1]), (a, SENTENCES[2]), (b, SENTENCES[3])):
                ctx.push(text)
                ctx.push("", flush=True)
            a.no_more_inputs()
            b.no_more_inputs()
            for ctx in (a, b):
                run.events.extend(event.to_dict() for event in ctx.receive())
    except Exception as exc:  # what the app saw is part of the result
        run.error = f"{type(exc).__name__}: {exc}"
    return run


def config_of(switches: tuple[str, ...]) -> EmulatorConfig:
    """The emulator ``flushscope proxy --upstream embedded --pace instant SWITCHES`` runs."""
    parser = argparse.ArgumentParser()
    add_emulator_switches(parser)
    return emulator_config(parser.parse_args(["--pace", "instant", *switches]))


async def answers(url: str, until: str) -> bool:
    """A new app through the proxy is served, a one-shot context until its frame of type ``until``: the proxy
    is still up after the fault."""
    async with connect(f"{url}/tts/websocket", max_size=None) as ws:
        await ws.send(json.dumps(req("next", "Yes.", cont=False)))
        while True:
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            except ValueError:
                continue  # the malformed frames of that fault
            if frame.get("type") == until:
                return True


@pytest.mark.asyncio
@pytest.mark.parametrize("fault", FAULTS, ids=ids)
async def test_each_fault_through_the_sdk_behind_the_proxy(
    fault: Fault, tmp_path: Path, synth: Synthesizer, capsys: pytest.CaptureFixture[str]
) -> None:
    capture = tmp_path / "proxy.fscap.jsonl"
    async with (
        EmulatorServer(config_of(fault.switches), synth) as server,
        proxied(server.url, capture) as rig,
    ):
        app = await asyncio.to_thread(sdk_app, rig.url, fault.wait_s)
        if fault.name != "429":
            assert await answers(rig.url, "chunk" if fault.name == "drop-done" else "done")
    expected = fault.sdk_kind or fault.kind
    code, found = report(capture, capsys, *fault.thresholds)
    assert code == (EXIT_OK if expected is None else EXIT_FAILED)
    if expected is None:
        assert counted(found) == set() and app.error is None
        assert [e["type"] for e in app.events].count("done") == 2
    else:
        assert expected in counted(found), found["anomalies"]
    if fault.kind is not None and fault.kind != expected:
        assert fault.kind in counted(found)
    assert_holds_all(capture, app.events)


# --- refusals -------------------------------------------------------------------------------------------


class NotWebSocket:
    """A TCP server on loopback that answers anything with a line that is not HTTP."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> str:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readline()
            writer.write(b"hello, this is not a web server\r\n")
            await writer.drain()
            writer.close()

        self.server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
def free_port() -> Iterator[int]:
    """A loopback port nobody listens on."""
    import socket

    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


REFUSALS = [
    # (name, the run's words on stderr, the proxy capture's words)
    (
        "401",
        "HTTP 401: the API key is missing or wrong",
        "HTTP 401 Unauthorized (Unauthorized: invalid API key)",
    ),
    (
        "unreachable",
        "connection refused (nothing listens there)",
        "HTTP 502: Upstream unreachable: cannot reach",
    ),
    ("bad-upstream", "the WebSocket handshake with", "HTTP 502: Upstream handshake failed"),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("name", "run_words", "proxy_words"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_a_refusal_through_run_and_through_the_proxy(
    name: str,
    run_words: str,
    proxy_words: str,
    tmp_path: Path,
    synth: Synthesizer,
    free_port: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = tmp_path / "matrix.txt"
    script.write_text(SCRIPT)
    capture = tmp_path / "proxy.fscap.jsonl"
    config = EmulatorConfig(require_key="sk_car_the_right_key_0123", faults=Faults())
    async with EmulatorServer(config, synth) as server, NotWebSocket() as not_websocket:
        upstream = {
            "401": server.url,
            "unreachable": f"ws://127.0.0.1:{free_port}",
            "bad-upstream": not_websocket,
        }
        code, _, err = await flushscope(
            "run", script, "--url", upstream[name], "--api-key", "sk_car_wrong_key_0123",
            "--capture", tmp_path / "run.fscap.jsonl", cwd=tmp_path,
        )  # fmt: skip
        async with proxied(upstream[name], capture) as rig:
            app = await asyncio.to_thread(sdk_app, rig.url, TIMEOUT)
    # run: no connection, no capture, the reason in words, exit 2 (as for any connection it cannot open).
    assert code == EXIT_USAGE and run_words in err and "Traceback" not in err
    assert not (tmp_path / "run.fscap.jsonl").exists()
    # The SDK got the refusal; the proxy's capture says what it was, and report fails on it.
    assert app.error is not None and "HTTP" in app.error and app.events == []
    code, found = report(capture, capsys)
    assert code == EXIT_FAILED
    (refusal,) = found["anomalies"]
    assert (refusal["kind"], refusal["severity"]) == ("connection_refused", "error")
    assert proxy_words in refusal["message"]


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [401, 429])
async def test_a_refusal_in_flushscopes_own_capture_is_reported(
    status: int, tmp_path: Path, synth: Synthesizer, capsys: pytest.CaptureFixture[str]
) -> None:
    # The window records as flushscope's client does: the refused attempt is in its capture.
    capture = tmp_path / "live.fscap.jsonl"
    config = EmulatorConfig(require_key="sk_car_right_0123", faults=Faults(reject_429=status == 429))
    async with EmulatorServer(config, synth) as server:
        recorder = Recorder(Session(), CaptureWriter(capture, server.tts_url))
        client = Client(recorder, Target(server.url, api_key="sk_car_right_0123" if status == 429 else None))
        with pytest.raises(HandshakeRejected):
            await client.connect()
        recorder.close()
    code, found = report(capture, capsys)
    assert code == EXIT_FAILED
    (refusal,) = found["anomalies"]
    assert refusal["kind"] == "connection_refused"
    assert refusal["message"].startswith(f"the connection was refused: HTTP {status}: ")
