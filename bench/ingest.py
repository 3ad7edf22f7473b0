"""Ingest cost: CPU per frame of three clients receiving the same burst from the emulator.

    .venv/bin/python bench/ingest.py [--chunks 200000] [--contexts 20] [--sizes 4096,16384]
                                     [--compression both|on|off] [--no-memory]

The emulator runs in its own process (``flushscope serve --pace instant``) and streams the burst as fast as
it can. Each client runs in a fresh process, one after another, and reports its own CPU time
(``time.process_time``): the wall-clock rate is set by the sender, so only CPU per frame ranks clients.

  (a) bare:       a websockets receive loop with json.loads and a base64 decode of each chunk
  (b) sdk:        the official cartesia SDK, async, one ``context().receive()`` per context
  (c) flushscope: flushscope's client + session model + capture writer
  and, to show where (c)'s time goes, flushscope without its capture file (not part of the ratios).

Memory: each client's RSS growth over the burst; for flushscope, per chunk received (the capture file's
pages are the kernel's page cache, not the process's RSS). Target: at most 256 bytes per chunk with a
capture file (the audio stays in the file); without one, the audio is kept in memory.

Last line: the CPU-per-frame ratios a/c and b/c for each chunk size and compression setting, and
flushscope's RSS growth per chunk.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TEXT = (
    "Streaming speech arrives in chunks, and every chunk carries the number of the segment it belongs to, "
    "so that a client can tell which transcript produced it. This paragraph is long enough to fill many "
    "chunks of audio at every size the benchmark tries."
)
VOICE = "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"
RATE = 24000
SAMPLE_BYTES = 2  # pcm_s16le
CLIENTS = ("bare", "sdk", "flushscope")
#: The real service's pace (PROTOCOL.md section 11): a chunk of about 93 ms of audio every 58 ms.
REAL_CHUNKS_PER_SECOND = 1 / 0.058


def request(context_id: str, transcript: str, cont: bool) -> dict[str, Any]:
    return {
        "context_id": context_id,
        "model_id": "sonic-3",
        "transcript": transcript,
        "voice": {"mode": "id", "id": VOICE},
        "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": RATE},
        "continue": cont,
        "language": "en",
        "max_buffer_delay_ms": 0,
    }


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


# --- the three clients (each runs in its own process) -------------------------------------------------


async def client_bare(url: str, contexts: int, inputs: int, compress: bool) -> int:
    from websockets.asyncio.client import connect

    frames = 0
    # No keepalive: in the 16 KiB deflate burst the emulator, at a full core, answered a ping over 100 s late
    # (measured), and websockets' keepalive then dropped this baseline mid-burst. The SDK's connection and
    # flushscope's client (any frame counts as an answer) ride it out.
    async with connect(
        url + "/tts/websocket", compression="deflate" if compress else None, max_size=None, ping_interval=None
    ) as ws:
        for c in range(contexts):
            for _ in range(inputs):
                await ws.send(json.dumps(request(f"ctx{c}", TEXT, True)))
            await ws.send(json.dumps(request(f"ctx{c}", "", False)))
        done = 0
        async for message in ws:
            frames += 1
            obj = json.loads(message)
            kind = obj["type"]
            if kind == "chunk":
                base64.b64decode(obj["data"])
            elif kind == "done":
                done += 1
                if done == contexts:
                    break
    return frames


async def client_sdk(url: str, contexts: int, inputs: int, compress: bool) -> int:
    from cartesia import AsyncCartesia

    client = AsyncCartesia(api_key="bench", websocket_base_url=url)
    options: dict[str, Any] = {"max_size": None}
    if not compress:
        options["compression"] = None
    frames = 0
    async with client.tts.websocket_connect(websocket_connection_options=options) as conn:
        ctxs = [
            conn.context(
                model_id="sonic-3",
                voice={"mode": "id", "id": VOICE},
                output_format={"container": "raw", "encoding": "pcm_s16le", "sample_rate": RATE},
                language="en",
                max_buffer_delay_ms=0,
                timeout=600,
            )
            for _ in range(contexts)
        ]
        for ctx in ctxs:
            for _ in range(inputs):
                await ctx.push(TEXT)
            await ctx.no_more_inputs()

        async def drain(ctx: Any) -> int:
            count = 0
            async for event in ctx.receive():
                count += 1
                if event.type == "chunk":
                    base64.b64decode(event.data)
            return count + 1  # the done that ended the loop

        frames = sum(await asyncio.gather(*(drain(ctx) for ctx in ctxs)))
    return frames


async def client_flushscope(
    url: str, contexts: int, inputs: int, compress: bool, capture: Path | None
) -> tuple[int, Any]:
    """Frames received, and the session: kept by the caller until its memory is measured (a session let go
    is freed at once, and its memory would not count)."""
    from flushscope.core.inputs.generation_settings import GenerationSettings
    from flushscope.core.model.recorder import Recorder
    from flushscope.core.model.session import Session
    from flushscope.core.store.capture_writer import CaptureWriter
    from flushscope.net.client import Client, Target
    from flushscope.net.runner import wait_settled

    session = Session()
    recorder = Recorder(session, CaptureWriter(capture, url, overwrite=True) if capture else None)
    client = Client(recorder, Target(url), compression=compress)
    settings = GenerationSettings(add_timestamps=False)
    await client.connect()
    try:
        for _ in range(contexts):
            ctx = client.new_context(settings)
            for _ in range(inputs):
                await client.send(ctx.context_id, TEXT)
            await client.end(ctx.context_id)
        if not await wait_settled(session, client, 3600):
            raise SystemExit("flushscope client: contexts did not finish")
    finally:
        await client.aclose()
        recorder.close()
    from flushscope.core.frames import Direction

    return len(session.frames.indices(Direction.RECV)), session


def run_child(args: argparse.Namespace) -> None:
    compress = args.compression == "on"
    # Imports and the first allocations are not what is measured.
    import cartesia  # noqa: F401

    import flushscope.net.client  # noqa: F401

    rss0 = rss_bytes()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if args.child == "bare":
        frames = asyncio.run(client_bare(args.url, args.contexts, args.inputs, compress))
    elif args.child == "sdk":
        frames = asyncio.run(client_sdk(args.url, args.contexts, args.inputs, compress))
    else:
        capture = Path(args.capture) if args.child == "flushscope" else None
        frames, _session = asyncio.run(
            client_flushscope(args.url, args.contexts, args.inputs, compress, capture)
        )
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(json.dumps({"frames": frames, "cpu": cpu, "wall": wall, "rss_growth": rss_bytes() - rss0}))


# --- orchestration ------------------------------------------------------------------------------------


def start_server(chunk_bytes: int) -> tuple[subprocess.Popen[str], str]:
    chunk_ms = chunk_bytes / SAMPLE_BYTES / RATE * 1000
    server = subprocess.Popen(
        [sys.executable, "-m", "flushscope", "serve", "--pace", "instant", "--chunk-ms", f"{chunk_ms:.6f}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    if not url.startswith("ws://"):
        server.kill()
        raise SystemExit("the emulator did not start")
    return server, url


def speech_seconds() -> float:
    from flushscope.emulator.espeak import Synthesizer
    from flushscope.emulator.voices import voice_for

    with Synthesizer() as synth:
        return synth.synthesize(TEXT, voice_for(VOICE, "en")).duration


def child(kind: str, url: str, contexts: int, inputs: int, compress: bool, capture: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable, __file__, "--child", kind, "--url", url, "--contexts", str(contexts),
            "--inputs", str(inputs), "--compression", "on" if compress else "off", "--capture", str(capture),
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"client {kind} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=200_000, help="chunks in the burst (all contexts)")
    parser.add_argument("--contexts", type=int, default=20)
    parser.add_argument("--sizes", default="4096,16384", help="audio bytes per chunk, comma-separated")
    parser.add_argument("--compression", choices=("both", "on", "off"), default="both")
    parser.add_argument("--no-memory", action="store_true", help="skip the one-hour memory measurement")
    parser.add_argument(
        "--capture-dir",
        help="where (c) writes its capture (default: a temporary folder on disk; /dev/shm takes the disk's "
        "writeback out of the figure)",
    )
    parser.add_argument("--child", choices=(*CLIENTS, "no-capture"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--capture", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args)
        return

    seconds = speech_seconds()
    modes = {"both": (True, False), "on": (True,), "off": (False,)}[args.compression]
    ratios: list[str] = []
    headroom: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=args.capture_dir) as tmp:
        capture = Path(tmp) / "bench.fscap.jsonl"
        for size in (int(s) for s in args.sizes.split(",")):
            per_input = math.ceil(seconds * RATE * SAMPLE_BYTES / size)
            inputs = max(1, math.ceil(args.chunks / args.contexts / per_input))
            server, url = start_server(size)
            try:
                for compress in modes:
                    label = f"{size // 1024} KiB, {'deflate' if compress else 'no compression'}"
                    print(f"\n{label}: {args.contexts} contexts x {inputs} inputs x ~{per_input} chunks")
                    cpu: dict[str, float] = {}
                    grown: dict[str, float] = {}
                    for kind in (*CLIENTS, "no-capture"):
                        r = child(kind, url, args.contexts, inputs, compress, capture)
                        cpu[kind] = r["cpu"] / r["frames"]
                        grown[kind] = r["rss_growth"] / r["frames"]
                        print(
                            f"  {kind:<11}{r['frames']:>8} frames  {r['frames'] / r['wall']:>8.0f} frames/s  "
                            f"{cpu[kind] * 1e6:>7.1f} us CPU/frame  RSS +{r['rss_growth'] / 1e6:>7.1f} MB "
                            f"({grown[kind]:,.0f} bytes/frame)"
                        )
                    a_c, b_c = cpu["bare"] / cpu["flushscope"], cpu["sdk"] / cpu["flushscope"]
                    ratios.append(
                        f"{label}: a/c {a_c:.2f} b/c {b_c:.2f}, RSS {grown['flushscope']:,.0f} bytes/frame "
                        f"({grown['no-capture']:,.0f} without a capture file)"
                    )
                    headroom[label] = 1 / (cpu["flushscope"] * REAL_CHUNKS_PER_SECOND)
            finally:
                server.terminate()
                server.wait(timeout=30)
        print("\nheadroom: contexts at the real service's pace (a chunk every 58 ms) one core can ingest")
        for label, contexts in headroom.items():
            print(f"  {label}: {contexts:.0f}")
        if not args.no_memory:
            one_hour = RATE * SAMPLE_BYTES * 3600
            size = 16384
            per_input = math.ceil(seconds * RATE * SAMPLE_BYTES / size)
            inputs = math.ceil(one_hour / (seconds * RATE * SAMPLE_BYTES) / args.contexts)
            audio = inputs * args.contexts * seconds * RATE * SAMPLE_BYTES
            server, url = start_server(size)
            try:
                r = child("flushscope", url, args.contexts, inputs, False, capture)
            finally:
                server.terminate()
                server.wait(timeout=30)
            print(
                f"\nmemory: {audio / 1e6:.1f} MB of 24 kHz pcm_s16le audio ({audio / RATE / 2 / 3600:.2f} h) "
                f"grew the flushscope client by {r['rss_growth'] / 1e6:.1f} MB: "
                f"{r['rss_growth'] / audio:.2f} x the raw audio"
            )
    print("CPU per frame ratios and flushscope's RSS growth: " + "; ".join(ratios))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
