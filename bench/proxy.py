"""What the recording proxy costs: a client streaming from the emulator directly and through the proxy.

    .venv/bin/python bench/proxy.py [--probes 300] [--chunks 6000] [--contexts 10] [--compression on|off]

Three processes on loopback, as in use: the emulator (``flushscope serve --pace instant``), the proxy
(``flushscope proxy --upstream <emulator>``, recording to a capture in a temporary folder) and this client,
a bare websockets loop. The client keeps one connection straight to the emulator and one through the proxy
and alternates between them, so that whatever else the machine does falls on both alike.

- Latency: each probe is a one-shot context with a short sentence the emulator has already synthesised,
  answered by a single chunk (this emulator makes 2-second chunks, in mu-law at 8 kHz: about 10 KB of
  base64, the size of a real 93 ms chunk of 44.1 kHz float audio) and its ``done``. The time from sending
  it to its chunk is a round trip that crosses the proxy twice, each frame alone on the wire. Added latency
  per frame is half the difference between the proxied and the direct round trip, at the median and at
  the 99th percentile of each.
- Throughput: another emulator (default 93 ms chunks) streams the same burst (instant pacing, several
  contexts at once) on each connection, three times each, alternating; frames per second at the client,
  best of each; the ratio is proxied / direct. The CPU time the proxy and the emulator processes spent per
  burst frame is printed beside it.

The client offers permessage-deflate (as the SDK and Pipecat do) unless ``--compression off``; then the
proxy offers none upstream either (``--no-upstream-deflate``), so that both paths compress alike.

Last line: ``proxy added latency: median X ms, p99 Y ms; throughput ratio R``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

VOICE = "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"
PROBE_TEXT = "Hello there."
BURST_TEXT = (
    "Streaming speech arrives in chunks, and every chunk carries the number of the segment it belongs to, so "
    "that a client can tell which transcript produced it."
)


PCM: dict[str, Any] = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000}
MULAW: dict[str, Any] = {"container": "raw", "encoding": "pcm_mulaw", "sample_rate": 8000}


def request(context_id: str, transcript: str, cont: bool, output_format: dict[str, Any] = PCM) -> str:
    return json.dumps(
        {
            "context_id": context_id,
            "model_id": "sonic-3",
            "transcript": transcript,
            "voice": {"mode": "id", "id": VOICE},
            "output_format": output_format,
            "continue": cont,
            "language": "en",
            "max_buffer_delay_ms": 0,
        }
    )


def start(args: list[str], log: Path | None = None) -> tuple[subprocess.Popen[str], str]:
    """A flushscope command that prints its ws:// URL on its first line; its stderr goes to ``log``, if
    given."""
    with log.open("w") if log is not None else open(os.devnull, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flushscope", *args],
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("ws://"):
        proc.kill()
        said = f": {log.read_text()[-2000:]}" if log is not None else ""
        raise SystemExit(f"flushscope {args[0]} did not start{said}")
    return proc, url


def stop(proc: subprocess.Popen[str], timeout: float = 60.0) -> int:
    """SIGTERM, then wait (SIGKILL if it does not end); its exit code."""
    proc.terminate()
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


async def until_done(ws: ClientConnection, waiting: set[str]) -> int:
    """Read until every context in ``waiting`` is done; the number of frames read."""
    frames = 0
    while waiting:
        message = await ws.recv()
        frames += 1
        # Only the small frames need parsing: a chunk is never the end of a context.
        if len(message) < 512:
            obj = json.loads(message)
            if obj.get("type") in ("done", "error"):
                waiting.discard(obj.get("context_id"))
    return frames


async def probe(ws: ClientConnection, context_id: str) -> float:
    """Seconds from sending a one-shot context to its (only) chunk; then its done is read."""
    started = time.perf_counter()
    await ws.send(request(context_id, PROBE_TEXT, False, MULAW))
    first = await ws.recv()
    elapsed = time.perf_counter() - started
    assert '"chunk"' in first[:64], first[:200]
    last = json.loads(await ws.recv())
    assert last["type"] == "done", f"the probe took more than one chunk: {last['type']}"
    return elapsed


async def burst(ws: ClientConnection, tag: str, contexts: int, inputs: int) -> tuple[int, float]:
    """Frames and seconds for ``contexts`` contexts of ``inputs`` inputs each, all sent at once."""
    ids = [f"{tag}-{c}" for c in range(contexts)]
    started = time.perf_counter()
    for context_id in ids:
        for _ in range(inputs):
            await ws.send(request(context_id, BURST_TEXT, True))
        await ws.send(request(context_id, "", False))
    frames = await until_done(ws, set(ids))
    return frames, time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


CLIENT_OPTIONS: dict[str, Any] = {
    "max_size": None,
    # The bench's own loop is busy on purpose; a late pong must not end a run.
    "ping_interval": None,
}


async def latency(direct_url: str, proxy_url: str, args: argparse.Namespace) -> dict[str, list[float]]:
    """Round trips to the first chunk on each path, alternating."""
    options = {**CLIENT_OPTIONS, "compression": "deflate" if args.compression == "on" else None}
    async with (
        connect(direct_url + "/tts/websocket", **options) as direct,
        connect(proxy_url + "/tts/websocket", user_agent_header="flushscope-bench", **options) as proxied,
    ):
        # Warm up both paths and the emulator's speech cache.
        for i in range(20):
            await probe(direct, f"warm-d{i}")
            await probe(proxied, f"warm-p{i}")
        rtt: dict[str, list[float]] = {"direct": [], "proxied": []}
        for i in range(args.probes):
            pair = (("direct", direct), ("proxied", proxied))
            for name, ws in pair if i % 2 == 0 else reversed(pair):
                rtt[name].append(await probe(ws, f"{name}-{i}"))
    return rtt


async def throughput(
    direct_url: str, proxy_url: str, pids: dict[str, int], args: argparse.Namespace
) -> dict[str, Any]:
    """Frames per second of the same bursts on each path, and the servers' CPU per proxied frame."""
    options = {**CLIENT_OPTIONS, "compression": "deflate" if args.compression == "on" else None}
    async with (
        connect(direct_url + "/tts/websocket", **options) as direct,
        connect(proxy_url + "/tts/websocket", user_agent_header="flushscope-bench", **options) as proxied,
    ):
        # One input of the burst text makes this many chunks at the default 93 ms.
        per_input = await until_chunks(direct)
        inputs = max(1, round(args.chunks / args.contexts / per_input))
        rates: dict[str, list[float]] = {"direct": [], "proxied": []}
        cpu = {"proxy": 0.0, "emulator": 0.0}
        proxied_frames = 0
        frames = 0
        for round_ in range(3):
            pair = (("direct", direct), ("proxied", proxied))
            for name, ws in pair if round_ % 2 == 0 else reversed(pair):
                before = {process: cpu_seconds(pid) for process, pid in pids.items()}
                frames, seconds = await burst(ws, f"{name}-burst{round_}", args.contexts, inputs)
                rates[name].append(frames / seconds)
                if name == "proxied":
                    proxied_frames += frames
                    for process, pid in pids.items():
                        cpu[process] += cpu_seconds(pid) - before[process]
    per_frame = {process: seconds / proxied_frames for process, seconds in cpu.items()}
    return {"rates": rates, "frames": frames, "cpu": per_frame}


@contextmanager
def servers(
    emulator_args: list[str], capture: Path, compression: str
) -> Iterator[tuple[str, str, dict[str, int]]]:
    """An emulator and a proxy in front of it, each in its own process; their URLs and process ids."""
    emulator, emulator_url = start(["serve", *emulator_args])
    try:
        # Like with like: without compression at the client there is none upstream either.
        deflate = [] if compression == "on" else ["--no-upstream-deflate"]
        proxy, proxy_url = start(
            [
                "proxy",
                "--listen",
                "127.0.0.1:0",
                "--upstream",
                emulator_url,
                "--capture",
                str(capture),
                *deflate,
            ]
        )
        try:
            yield emulator_url, proxy_url, {"proxy": proxy.pid, "emulator": emulator.pid}
        finally:
            stop(proxy)
    finally:
        stop(emulator)


async def until_chunks(ws: ClientConnection) -> int:
    await ws.send(request("count", BURST_TEXT, False))
    chunks = 0
    while True:
        obj = json.loads(await ws.recv())
        if obj["type"] == "chunk":
            chunks += 1
        elif obj["type"] in ("done", "error"):
            return max(1, chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--probes", type=int, default=300, help="latency probes on each path")
    parser.add_argument("--chunks", type=int, default=6000, help="chunks in each throughput burst")
    parser.add_argument("--contexts", type=int, default=10, help="contexts at once in a burst")
    parser.add_argument(
        "--compression",
        choices=("on", "off"),
        default="on",
        help="whether the client offers permessage-deflate",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one_chunk = ["--pace", "instant", "--chunk-ms", "2000"]
        with servers(one_chunk, Path(tmp) / "latency.fscap.jsonl", args.compression) as (direct, proxied, _):
            rtt = asyncio.run(latency(direct, proxied, args))
        capture = Path(tmp) / "throughput.fscap.jsonl"
        with servers(["--pace", "instant"], capture, args.compression) as (direct, proxied, pids):
            result = asyncio.run(throughput(direct, proxied, pids, args))
        recorded = sum(1 for _ in capture.open("rb")) - 1
    rates = result["rates"]
    ms = {name: (statistics.median(v) * 1e3, quantile(v, 0.99) * 1e3) for name, v in rtt.items()}
    for name, (median, p99) in ms.items():
        print(
            f"{name:>8} round trip to its chunk: median {median:.3f} ms, p99 {p99:.3f} ms ({len(rtt[name])} probes)"
        )
    for name, values in rates.items():
        print(
            f"{name:>8} burst: {', '.join(f'{v:,.0f}' for v in values)} frames/s ({result['frames']} frames each)"
        )
    cpu = result["cpu"]
    print(
        f"CPU per proxied burst frame: proxy {cpu['proxy'] * 1e6:.0f} us, emulator {cpu['emulator'] * 1e6:.0f} us; "
        f"the proxy's capture has {recorded} lines"
    )
    added_median = (ms["proxied"][0] - ms["direct"][0]) / 2
    added_p99 = (ms["proxied"][1] - ms["direct"][1]) / 2
    ratio = max(rates["proxied"]) / max(rates["direct"])
    print(
        f"proxy added latency: median {added_median:.3f} ms, p99 {added_p99:.3f} ms; throughput ratio {ratio:.2f}"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
