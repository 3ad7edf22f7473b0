"""Building a dataset from many captures, and a summary over a million segments.

    .venv/bin/python bench/dataset.py [--captures 200] [--chunks 5000] [--segments 1000000] [--cache DIR]

Writes (once: they are cached, by size, under ``--cache``) N captures of M chunk frames each, as the proxy
records one call of an app: a connect event with the app's User-Agent (one of three), turns of a few
sentences each sent and flushed, 93 ms pcm_s16le chunks at 24 kHz in the emulator's frame shape with their
flush_id, word timestamps, flush_done and done; one model and voice per call (four pairs), time to first
audio varying per call, a chunk after flush_done in one call of ten, and in one call of seven the first
segment of each turn cuts its last word. Then:

  (a) bare:    a ``json.loads`` loop over every line of every capture, in this process (wall time; CPU time
               from a second pass);
  (b) build:   ``flushscope dataset build`` of all of them into a new dataset, in a child process, with one job
               and with two (``--jobs 2``: the build's own process and one worker): wall and CPU time, and the peak of the resident
               memory of the child and its workers together (sampled from /proc); then the same build again
               (every capture unchanged);
  (c) summary: a dataset of ``--segments`` segments (calls of 200 segments, rows made with numpy and written
               with the dataset's own writer), and ``flushscope.dataset.summary.summary`` over it in a child
               process, best of three (the DuckDB connection and views included).

Goals: build <= 1.5 x bare, peak RSS <= 300 MiB, summary < 1 s. Last line: the figures and the ratios (the
CPU-time ratio is the one to trust on a machine that other work keeps busy).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from capture_load import bare_loop, chunk_payloads

RATE = 24000
CHUNK_BYTES = 4464  # 93 ms of pcm_s16le at 24 kHz: the emulator's chunk
FORMAT = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": RATE}
CLIENTS = ("cartesia-python/4.2.0", "LiveKit Agents Cartesia Plugin/1.8.9", "pipecat-ai/1.14")
VOICES = (
    ("sonic-3", "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"),
    ("sonic-3", "a0e99841-438c-4a64-b679-ae501e7d6091"),
    ("sonic-2", "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"),
    ("sonic-turbo", "f9836c6e-a0bd-460e-9d3c-f7299fa60f94"),
)
#: Chunks per segment (about three seconds of speech) and segments per turn (context).
PER_SEGMENT = 32
PER_TURN = 4
WORDS = ("every", "segment", "of", "this", "call", "is", "spoken", "here")
REPO = Path(__file__).resolve().parents[1]


def write_call(path: Path, number: int, chunks: int, payloads: list[str]) -> None:
    """One call of ``chunks`` chunk frames, recorded as the proxy records it."""
    from flushscope.core.frames import Direction, Frame, meta_text
    from flushscope.core.store.capture_writer import CaptureWriter

    model, voice = VOICES[number % len(VOICES)]
    started = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(hours=number * 7)
    first_audio = 0.09 + 0.03 * (number % 5) + (0.25 if number % 11 == 0 else 0.0)
    chunk_s = CHUNK_BYTES / 2 / RATE
    index = 0
    t = 0.0
    with CaptureWriter(
        path, "wss://api.cartesia.ai/tts/websocket", started=started, overwrite=True
    ) as writer:

        def put(direction: Direction, text: str, dt: float = 0.0) -> None:
            nonlocal index, t
            t += dt
            writer.write(Frame(index, t, 1, direction, text), valid_json=direction is not Direction.META)
            index += 1

        put(
            Direction.META,
            meta_text("connect", url="ws://127.0.0.1:8765", client=CLIENTS[number % 3], port=40000),
        )
        written = turn = 0
        while written < chunks:
            turn += 1
            cid = f"turn-{turn}"
            base = {"context_id": cid, "model_id": model, "voice": {"mode": "id", "id": voice},
                    "output_format": FORMAT, "add_timestamps": True, "max_buffer_delay_ms": 0}  # fmt: skip
            for flush_id in range(1, PER_TURN + 1):
                text = f"Sentence {flush_id} of turn {turn}, spoken for the benchmark. "
                put(Direction.SEND, json.dumps({**base, "transcript": text, "continue": True}), 0.2)
                put(Direction.SEND, json.dumps({**base, "transcript": "", "continue": True, "flush": True}))
                count = min(PER_SEGMENT, chunks - written)
                for position in range(count):
                    put(
                        Direction.RECV,
                        f'{{"type":"chunk","context_id":"{cid}","status_code":206,"done":false,'
                        f'"data":"{payloads[position]}","step_time":12.5,"flush_id":{flush_id}}}',
                        first_audio if position == 0 else chunk_s / 2,
                    )
                written += count
                # A cut word: the last word ends after the segment's audio.
                spoken = count * chunk_s + (0.3 if number % 7 == 3 and flush_id == 1 else 0.0)
                start = (flush_id - 1) * PER_SEGMENT * chunk_s
                step = spoken / len(WORDS)
                words = {"words": list(WORDS), "start": [round(start + i * step, 3) for i in range(len(WORDS))],
                         "end": [round(start + (i + 0.9) * step, 3) for i in range(len(WORDS))]}  # fmt: skip
                common = {"context_id": cid, "status_code": 206, "done": False, "flush_id": flush_id}
                put(Direction.RECV, json.dumps({"type": "timestamps", **common, "word_timestamps": words}))
                put(Direction.RECV, json.dumps({"type": "flush_done", **common, "flush_done": True}))
                if number % 10 == 9 and flush_id == 2:
                    put(
                        Direction.RECV,
                        f'{{"type":"chunk","context_id":"{cid}","status_code":206,"done":false,'
                        f'"data":"{payloads[0]}","step_time":12.5,"flush_id":{flush_id}}}',
                    )
                if written >= chunks:
                    break
            put(Direction.SEND, json.dumps({**base, "transcript": "", "continue": False}))
            put(
                Direction.RECV,
                json.dumps({"type": "done", "context_id": cid, "status_code": 206, "done": True}),
            )
        put(Direction.META, meta_text("close", code=1000, reason=""), 0.5)


def captures(cache: Path, count: int, chunks: int) -> list[Path]:
    """The captures, written unless the cache has them."""
    folder = cache / f"{count}x{chunks}"
    done = folder / "complete"
    paths = [folder / f"call-{n:04d}.fscap.jsonl" for n in range(count)]
    if done.exists():
        return paths
    needed = count * chunks * (4 * math.ceil(CHUNK_BYTES / 3) + 200)
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.disk_usage(folder).free < needed * 1.2:
        raise SystemExit(f"{folder}: the captures need about {needed / 1e9:.1f} GB (use --cache)")
    payloads = chunk_payloads(CHUNK_BYTES, PER_SEGMENT)
    t0 = time.perf_counter()
    for n, path in enumerate(paths):
        write_call(path, n, chunks, payloads)
    done.touch()
    print(f"wrote {count} captures in {time.perf_counter() - t0:.1f} s to {folder}")
    return paths


def child(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    wall0 = time.perf_counter()
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False)
    return time.perf_counter() - wall0, done


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, now (0 for what has gone)."""
    total = 0
    try:
        with open(f"/proc/{pid}/statm") as statm:
            total = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as children:
                total += sum(_tree_rss(int(c)) for c in children.read().split())
    except (OSError, ValueError):
        pass
    return total


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def build(folder: Path, out: Path, jobs: int) -> tuple[float, float, float]:
    """Wall and CPU seconds of ``flushscope dataset build`` in a child (its workers' CPU included), and the
    peak of the resident memory of it and its workers together (sampled every 20 ms), in MiB."""
    args = [
        "-m",
        "flushscope",
        "dataset",
        "build",
        str(folder),
        "--out",
        str(out),
        "--quiet",
        "--jobs",
        str(jobs),
    ]
    wall0, cpu0 = time.perf_counter(), _children_cpu()
    process = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - wall0
    assert process.stderr is not None
    if process.returncode != 0:
        raise SystemExit(f"the build failed ({process.returncode}):\n{process.stderr.read()[-3000:]}")
    return wall, _children_cpu() - cpu0, peak / 2**20


def big_dataset(out: Path, segments: int) -> None:
    """A dataset of ``segments`` segments in calls of 200, its rows made with numpy (no captures)."""
    import numpy as np
    import pyarrow as pa

    from flushscope.dataset.schema import TABLES
    from flushscope.dataset.store import DatasetWriter

    per_call = 200
    rng = np.random.default_rng(7)
    with DatasetWriter(out) as writer:
        for n in range(math.ceil(segments / per_call)):
            cid = f"{n:016x}"
            model, voice = VOICES[n % len(VOICES)]
            started = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=9 * n)
            cuts = rng.random(per_call) < 0.01
            segs = {
                "capture_id": [cid] * per_call, "conn": [1] * per_call, "context_number": np.arange(per_call) // 4 + 1,
                "context_id": [f"turn-{i // 4}" for i in range(per_call)], "segment": np.arange(per_call) % 4 + 1,
                "flush_id": np.arange(per_call) % 4 + 1, "client": [CLIENTS[n % 3]] * per_call,
                "model": [model] * per_call, "voice": [voice] * per_call,
                "first_audio_ms": rng.gamma(4.0, 30.0, per_call), "audio_seconds": rng.uniform(1, 4, per_call),
                "chunks": np.full(per_call, 32), "word_cut": cuts,
            }  # fmt: skip
            segments_table = pa.table(
                {f.name: segs.get(f.name, pa.nulls(per_call, f.type)) for f in TABLES["segments"]},
                schema=TABLES["segments"],
            )
            problems = int(n % 10 == 9)
            capture = {"capture_id": cid, "path": f"/captures/call-{n}.jsonl", "started": started,
                       "segments": per_call, "duration_s": 600.0, "problems": problems, "word_cuts": int(cuts.sum()), "fingerprint": cid,
                       "file_size": 1}  # fmt: skip
            connection = {"capture_id": cid, "conn": 1, "client": CLIENTS[n % 3], "contexts": per_call // 4,
                          "segments": per_call, "duration_s": 600.0, "problems": problems, "anomalies": problems, "lints": 0,
                          "word_cuts": int(cuts.sum()),
                          "first_audio_p95_ms": float(np.percentile(segs["first_audio_ms"], 95))}  # fmt: skip
            anomaly = [{"capture_id": cid, "conn": 1, "kind": "chunk_after_flush_done", "severity": "error"}]
            writer.add(
                f"{started:%Y-%m-%d}",
                {
                    "captures": pa.Table.from_pylist([capture], schema=TABLES["captures"]),
                    "connections": pa.Table.from_pylist([connection], schema=TABLES["connections"]),
                    "segments": segments_table,
                    "anomalies": pa.Table.from_pylist(
                        anomaly if problems else [], schema=TABLES["anomalies"]
                    ),
                },
            )


SUMMARY_CHILD = """
import json, sys, time
from flushscope.dataset.summary import summary
best = None
for _ in range(3):
    t0 = time.perf_counter()
    found = summary(sys.argv[1])
    seconds = time.perf_counter() - t0
    best = seconds if best is None else min(best, seconds)
print(json.dumps({"seconds": best, "segments": found.period.totals.segments}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--captures", type=int, default=200)
    parser.add_argument("--chunks", type=int, default=5000, help="chunk frames per capture")
    parser.add_argument("--segments", type=int, default=1_000_000, help="segments of the summary's dataset")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "flushscope-bench-dataset"))
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "app"))
    cache = Path(args.cache)
    paths = captures(cache, args.captures, args.chunks)
    size = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} captures of {args.chunks:,} chunks, {size / 1e9:.2f} GB")

    bare = sum(bare_loop(p)[0] for p in paths)
    bare_cpu = sum(bare_loop(p)[1] for p in paths)
    print(f"  bare json.loads loop:       {bare:7.2f} s wall, {bare_cpu:7.2f} s CPU (a second pass)")
    work = Path(tempfile.mkdtemp(prefix="flushscope-bench-dataset-"))
    try:
        figures = {}
        for jobs in (1, 2):
            out = work / f"dataset-{jobs}"
            figures[jobs] = build(paths[0].parent, out, jobs)
            wall, cpu, peak = figures[jobs]
            print(f"  dataset build, {jobs} job{'s' if jobs > 1 else ' '}:    {wall:7.2f} s wall, {cpu:7.2f} s CPU, "
                  f"peak RSS {peak:.0f} MiB (all processes)")  # fmt: skip
        again = build(paths[0].parent, out, 1)[0]
        print(f"  again (all unchanged):      {again:7.2f} s")
        big = work / "big"
        t0 = time.perf_counter()
        big_dataset(big, args.segments)
        print(f"  {args.segments:,} segments written in {time.perf_counter() - t0:.1f} s")
        _wall, done = child("-c", SUMMARY_CHILD, str(big))
        if done.returncode != 0:
            raise SystemExit(f"the summary failed:\n{done.stderr[-3000:]}")
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"  summary of {answer['segments']:,} segments:  {answer['seconds']:7.2f} s (best of 3)")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (one, one_cpu, peak_one), (two, _two_cpu, peak_two) = figures[1], figures[2]
    print(
        f"{len(paths)} captures x {args.chunks:,} chunks ({size / 1e9:.2f} GB), bare {bare:.2f} s: build/bare "
        f"{one / bare:.2f} with 1 job ({one_cpu / bare_cpu:.2f} in CPU time), {two / bare:.2f} with 2 (goal <= "
        f"1.5); peak RSS {peak_one:.0f} MiB with 1 job, {peak_two:.0f} MiB with 2 (goal <= 300); rebuild "
        f"unchanged {again:.2f} s; summary of {answer['segments']:,} segments {answer['seconds']:.2f} s (goal < 1)"
    )


if __name__ == "__main__":
    main()
