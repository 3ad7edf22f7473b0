"""Opening a big capture: ``flushscope report`` against a bare ``json.loads`` loop over the same file.

    .venv/bin/python bench/capture_load.py [--chunks 200000] [--contexts 50] [--chunk-bytes 4096]
                                           [--dir DIR] [--keep]

Writes a capture of N chunk frames (``--chunks``; 50 contexts talking at once, 4 KiB pcm_s16le chunks at
24 kHz, a segment of about three seconds per transcript with its flush, word timestamps and flush_done) with
the capture writer, then in this one run measures:

  (a) bare:    ``for line in f: json.loads(line)`` over the file (binary, as read from the page cache);
  (b) report:  ``flushscope report`` on it in a subprocess: wall time and peak RSS (``RUSAGE_CHILDREN``);
  (c) export:  in another subprocess, the capture opened, then one segment from the middle written as WAV.

Targets at 1M chunks (about 5.6 GB on disk): peak RSS of the report at most 1 GiB, its wall time at most
1.5 x the bare loop, the WAV export of one segment under 1 s. The free space is checked before writing, and
the capture is deleted at the end unless ``--keep``. Last line: the figures and the ratio report/bare.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

RATE = 24000
FORMAT = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": RATE}
WORDS = ("every", "chunk", "carries", "the", "number", "of", "its", "segment")
#: Chunks per segment: about three seconds of speech at 4 KiB a chunk.
SEGMENT_SECONDS = 3.0
#: Seconds between two chunks of one context: the real service's pace.
CHUNK_INTERVAL = 0.058
#: Bytes on disk per chunk line, beyond its base64, for the free-space check (generous).
LINE_OVERHEAD = 400


def chunk_payloads(chunk_bytes: int, per_segment: int) -> list[str]:
    """Base64 of each chunk of a segment: a tone with 60 ms of silence at either end, so that the
    boundary analysis finds speech edges as in real audio. One set, reused by every segment."""
    samples = chunk_bytes // 2 * per_segment
    t = np.arange(samples) / RATE
    wave = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    quiet = round(0.06 * RATE)
    wave[:quiet] = 0
    wave[-quiet:] = 0
    pcm = (wave * 32767).astype("<i2").tobytes()
    return [
        base64.b64encode(pcm[i * chunk_bytes : (i + 1) * chunk_bytes]).decode("ascii")
        for i in range(per_segment)
    ]


def write_capture(path: Path, chunks: int, contexts: int, chunk_bytes: int) -> tuple[int, int]:
    """The capture; returns (frames, chunks) written."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
    from flushscope.core.frames import Direction, Frame, meta_text
    from flushscope.core.store.capture_writer import CaptureWriter

    per_segment = max(2, round(SEGMENT_SECONDS * RATE * 2 / chunk_bytes))
    payloads = chunk_payloads(chunk_bytes, per_segment)
    chunk_seconds = chunk_bytes / 2 / RATE
    per_context = math.ceil(chunks / contexts)
    frames = written_chunks = 0
    with CaptureWriter(path, "wss://api.cartesia.ai/tts/websocket", overwrite=True) as writer:

        def put(t: float, direction: Direction, text: str) -> None:
            nonlocal frames
            writer.write(Frame(frames, t, 1, direction, text), valid_json=direction is not Direction.META)
            frames += 1

        put(0.0, Direction.META, meta_text("connect", url="wss://api.cartesia.ai/tts/websocket"))
        # Each context walks through its segments; the contexts take turns chunk by chunk, as 50 concurrent
        # conversations do on one proxy.
        state = [{"chunk": 0, "segment": 0} for _ in range(contexts)]
        step = 0
        while written_chunks < chunks:
            t = step * CHUNK_INTERVAL / contexts
            c = step % contexts
            step += 1
            s = state[c]
            if s["chunk"] >= per_context:
                continue
            cid = f"conversation-{c:03d}"
            position = s["chunk"] % per_segment
            flush_id = s["segment"] + 1
            if position == 0:
                request = {
                    "context_id": cid,
                    "model_id": "sonic-3",
                    "transcript": f"Sentence {flush_id} of {cid}, spoken for the benchmark. ",
                    "voice": {"mode": "id", "id": "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"},
                    "output_format": FORMAT,
                    "continue": True,
                    "flush": True,
                    "add_timestamps": True,
                    "max_buffer_delay_ms": 0,
                }
                put(t, Direction.SEND, json.dumps(request, separators=(",", ":")))
            put(
                t,
                Direction.RECV,
                f'{{"type":"chunk","context_id":"{cid}","status_code":206,"done":false,'
                f'"data":"{payloads[position]}","step_time":{round(chunk_seconds * 600, 3)},'
                f'"flush_id":{flush_id}}}',
            )
            written_chunks += 1
            s["chunk"] += 1
            last = s["chunk"] >= per_context
            if position == per_segment - 1 or last:
                start = (s["chunk"] - position - 1) * chunk_seconds
                words = {
                    "words": list(WORDS),
                    "start": [round(start + i * 0.3, 3) for i in range(len(WORDS))],
                    "end": [round(start + i * 0.3 + 0.25, 3) for i in range(len(WORDS))],
                }
                common = {"context_id": cid, "status_code": 206, "done": False, "flush_id": flush_id}
                put(t, Direction.RECV, json.dumps({"type": "timestamps", **common, "word_timestamps": words}))
                put(t, Direction.RECV, json.dumps({"type": "flush_done", **common, "flush_done": True}))
                s["segment"] += 1
            if last:
                end = {"context_id": cid, "model_id": "sonic-3", "transcript": "", "continue": False}
                put(t, Direction.SEND, json.dumps(end, separators=(",", ":")))
                put(t, Direction.RECV, json.dumps({"type": "done", "context_id": cid, "status_code": 206}))
        put(step * CHUNK_INTERVAL / contexts, Direction.META, meta_text("close", code=1000, reason=""))
    return frames, written_chunks


def bare_loop(path: Path) -> tuple[float, float, int]:
    """Wall and CPU seconds of a json.loads loop over the file's lines, and the lines read."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    lines = 0
    loads = json.loads
    with open(path, "rb") as f:
        for line in f:
            loads(line)
            lines += 1
    return time.perf_counter() - wall0, time.process_time() - cpu0, lines


def report(path: Path) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in bytes and exit code of ``flushscope report`` in a subprocess."""
    wall0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "flushscope", "report", str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - wall0
    if out.returncode not in (0, 1):
        raise SystemExit(f"flushscope report failed ({out.returncode}):\n{out.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return wall, peak, out.returncode


def export_child(path: Path) -> None:
    """Open the capture as `report` does, then time the WAV export of the middle segment of the middle
    context; prints one JSON line."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))
    from flushscope.audio.wav import export_segment
    from flushscope.cli.sessions import load_session

    wall0 = time.perf_counter()
    session = load_session(str(path))
    opened = time.perf_counter() - wall0
    ctx = session.contexts[len(session.contexts) // 2]
    with_audio = [s for s in ctx.segments if s.nbytes]
    segment = with_audio[len(with_audio) // 2]
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        written = export_segment(session.audio, segment, Path(folder))
        seconds = time.perf_counter() - t0
        size = written.stat().st_size
    print(
        json.dumps(
            {"open": opened, "export": seconds, "wav_bytes": size, "audio_seconds": segment.audio_seconds}
        )
    )


def export(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child-export", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"the export child failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=200_000)
    parser.add_argument("--contexts", type=int, default=50)
    parser.add_argument("--chunk-bytes", type=int, default=4096)
    parser.add_argument("--dir", help="where to write the capture (default: the system's temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the capture file")
    parser.add_argument("--no-export", action="store_true", help="skip the WAV export measurement")
    parser.add_argument("--child-export", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_export:
        export_child(Path(args.child_export))
        return

    folder = Path(args.dir or tempfile.gettempdir())
    needed = args.chunks * (4 * math.ceil(args.chunk_bytes / 3) + LINE_OVERHEAD)
    free = shutil.disk_usage(folder).free
    if free < needed * 1.2:
        raise SystemExit(
            f"{folder} has {free / 1e9:.1f} GB free; the capture needs about {needed / 1e9:.1f} GB (use --dir)"
        )
    path = folder / f"flushscope-bench-{os.getpid()}.fscap.jsonl"
    try:
        t0 = time.perf_counter()
        frames, chunks = write_capture(path, args.chunks, args.contexts, args.chunk_bytes)
        size = path.stat().st_size
        audio = chunks * args.chunk_bytes
        print(
            f"capture: {frames:,} frames, {chunks:,} chunks of {args.chunk_bytes} bytes, {args.contexts} "
            f"contexts; {size / 1e9:.2f} GB on disk, {audio / 1e6:.0f} MB of audio; written in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        bare_wall, bare_cpu, lines = bare_loop(path)
        print(f"  bare json.loads loop: {bare_wall:6.2f} s wall, {bare_cpu:6.2f} s CPU, {lines:,} lines")
        wall, peak, code = report(path)
        print(f"  flushscope report:    {wall:6.2f} s wall, peak RSS {peak / 2**20:,.0f} MiB (exit {code})")
        exported = None if args.no_export else export(path)
        if exported is not None:
            print(
                f"  WAV export of one segment ({exported['audio_seconds']:.2f} s of audio): "
                f"{exported['export'] * 1000:.1f} ms (after opening the capture in {exported['open']:.1f} s)"
            )
    finally:
        if not args.keep:
            path.unlink(missing_ok=True)
    export_text = (
        "" if exported is None else f"; WAV export of one segment {exported['export'] * 1000:.0f} ms"
    )
    print(
        f"{chunks:,} chunks ({size / 1e9:.2f} GB): report {wall:.2f} s, bare loop {bare_wall:.2f} s, ratio "
        f"report/bare {wall / bare_wall:.2f} (target <= 1.5); peak RSS {peak / 2**20:,.0f} MiB (target <= 1024)"
        f"{export_text}"
    )


if __name__ == "__main__":
    main()
