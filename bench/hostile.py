"""Hostile inputs: the memory ``flushscope report`` takes on them, and a big HAR's load time against json.

    .venv/bin/python bench/hostile.py [--quick] [--dir DIR] [--keep]

Writes three files under a temporary folder (``--dir`` to choose where), then measures, each in a process of
its own so that one peak does not hide another:

  (a) a capture with one chunk line of 300 MB among good lines: peak RSS of ``flushscope report``;
  (b) a browser's HAR of 1,000,000 entries (about 200 MB; one of them a TTS WebSocket of 50 messages):
      peak RSS of ``flushscope report``, and the time to load it (``read_har``) against a bare
      ``json.load`` of the same file (CPU time, which a busy machine changes less than wall time; wall
      time beside it);
  (c) a HAR whose one binary message holds 200 MB of base64: peak RSS of ``flushscope report``.

Goals: each peak under 300 MiB; the HAR's load at most 1.5 x json.load. ``--quick`` makes every file a
fifth of the size (a minute on a busy two-core machine). Last line: the peaks and the ratio.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = {
    "format": "flushscope-capture",
    "version": 1,
    "app": "bench",
    "started": "2026-01-12T10:20:30.000000Z",
    "target": "wss://api.cartesia.ai/tts/websocket",
}
T0 = 1768213230.0
BLOCK = 1 << 20


def request(context_id: str, transcript: str, more: bool = True) -> str:
    return json.dumps(
        {
            "context_id": context_id,
            "model_id": "sonic-3",
            "voice": {"mode": "id", "id": "v"},
            "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
            "transcript": transcript,
            "continue": more,
        }
    )


def long_line_capture(path: Path, megabytes: int) -> None:
    """A header, a send, one chunk line of ``megabytes`` MB of base64, a closing send."""
    with path.open("wb") as file:
        file.write((json.dumps(HEADER) + "\n").encode())
        file.write(
            (
                json.dumps({"t": 0.1, "conn": 1, "dir": "send", "frame": request("a", "Hello ")}) + "\n"
            ).encode()
        )
        file.write(b'{"t":0.200000,"conn":1,"dir":"recv","json":{"type":"chunk","context_id":"a","data":"')
        block = b"AAAA" * (BLOCK // 4)
        for _ in range(megabytes):
            file.write(block)
        file.write(b'","done":false,"status_code":206}}\n')
        file.write(
            (
                json.dumps({"t": 0.3, "conn": 1, "dir": "send", "frame": request("a", "", False)}) + "\n"
            ).encode()
        )


def tts_entry(messages: list[dict[str, object]]) -> dict[str, object]:
    return {
        "startedDateTime": "2026-01-12T10:20:30.000Z",
        "request": {
            "method": "GET",
            "url": "wss://api.cartesia.ai/tts/websocket?cartesia_version=2026-08-14",
            "headers": [{"name": "X-API-Key", "value": "sk_car_bench"}],
        },
        "response": {"status": 101},
        "_webSocketMessages": messages,
    }


def browser_har(path: Path, entries: int) -> None:
    """A browser's HAR: ``entries`` ordinary requests (creator first, as browsers write it), then one TTS
    WebSocket of 50 messages."""
    texts = [
        {"type": "send", "time": T0 + i * 0.01, "opcode": 1, "data": request("a", f"word {i} ")}
        for i in range(50)
    ]
    with path.open("w", encoding="utf-8") as file:
        file.write(
            '{"log":{"version":"1.2","creator":{"name":"Browser","version":"1"},"pages":[],"entries":[\n'
        )
        for i in range(entries):
            entry = {
                "startedDateTime": "2026-01-12T10:20:30.123Z",
                "time": 12,
                "request": {
                    "method": "GET",
                    "url": f"https://example.com/static/app-{i}.js",
                    "headers": [{"name": "Accept", "value": "*/*"}],
                },
                "response": {"status": 200, "content": {"size": 1000}},
            }
            file.write(json.dumps(entry, separators=(",", ":")) + ",\n")
        file.write(json.dumps(tts_entry(texts)) + "]}}\n")


def base64_har(path: Path, megabytes: int) -> None:
    """A HAR of one TTS WebSocket whose one binary message holds ``megabytes`` MB of base64."""
    first = {"type": "send", "time": T0, "opcode": 1, "data": request("a", "Hello ")}
    last = {"type": "send", "time": T0 + 0.2, "opcode": 1, "data": request("a", "", False)}
    head = json.dumps({"log": {"version": "1.2", "entries": [tts_entry([first])]}})
    with path.open("w", encoding="utf-8") as file:
        file.write(head[: -len("]}]}}")])
        file.write(f', {{"type": "receive", "time": {T0 + 0.1}, "opcode": 2, "data": "')
        block = "QUFB" * (BLOCK // 4)
        for _ in range(megabytes):
            file.write(block)
        file.write(f'"}}, {json.dumps(last)}]}}]}}}}\n')


def measured(command: list[str]) -> tuple[int, float, int]:
    """Run ``command`` in a child of a child: its peak RSS alone (bytes), wall seconds, exit code."""
    probe = subprocess.run(
        [sys.executable, __file__, "--child", "--", *command], capture_output=True, text=True, check=True
    )
    peak, wall, code = probe.stdout.split()
    return int(peak), float(wall), int(code)


def child(command: list[str]) -> None:
    start = time.perf_counter()
    code = subprocess.run(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    ).returncode
    wall = time.perf_counter() - start
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, wall, code)


# Each defines load(path).
LOADERS = {
    "json": "import json\ndef load(path):\n    with open(path, 'rb') as file:\n        json.load(file)\n",
    "read_har": "from flushscope.core.formats.har import read_har as load\n",
}
TIMED = (
    "import sys, time\n"
    "wall, cpu = time.perf_counter(), time.process_time()\n"
    "load(sys.argv[1])\n"
    "print(time.process_time() - cpu, time.perf_counter() - wall)\n"
)


def load_time(kind: str, path: Path) -> tuple[float, float]:
    """CPU and wall seconds of one load of ``path`` by ``kind``, in a fresh process (imports not counted)."""
    done = subprocess.run(
        [sys.executable, "-c", LOADERS[kind] + TIMED, str(path)], capture_output=True, text=True, check=True
    )
    cpu, wall = done.stdout.split()
    return float(cpu), float(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="files a fifth of the size")
    parser.add_argument("--dir", type=Path, help="where to write the files (default: a new folder in /tmp)")
    parser.add_argument("--keep", action="store_true", help="keep the files")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("command", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.command)
        return
    scale = 5 if args.quick else 1
    line_mb, entries, base64_mb = 300 // scale, 1_000_000 // scale, 200 // scale
    folder = args.dir or Path(tempfile.mkdtemp(prefix="flushscope-hostile-", dir="/tmp"))
    folder.mkdir(parents=True, exist_ok=True)
    flushscope = [sys.executable, "-m", "flushscope", "report"]
    try:
        files = {
            "line": folder / "long-line.jsonl",
            "har": folder / "entries.har",
            "base64": folder / "base64.har",
        }
        long_line_capture(files["line"], line_mb)
        browser_har(files["har"], entries)
        base64_har(files["base64"], base64_mb)
        peaks: dict[str, float] = {}
        for name, what in (
            ("line", f"a chunk line of {line_mb} MB"),
            ("har", f"a HAR of {entries:,} entries ({files['har'].stat().st_size / 1e6:.0f} MB)"),
            ("base64", f"a HAR message of {base64_mb} MB of base64"),
        ):
            peak, wall, code = measured([*flushscope, str(files[name])])
            peaks[name] = peak / 2**20
            print(f"  report on {what}: peak RSS {peaks[name]:6.0f} MiB, {wall:6.2f} s wall (exit {code})")
        json_cpu, json_wall = load_time("json", files["har"])
        har_cpu, har_wall = load_time("read_har", files["har"])
        print(f"  json.load of the HAR:  {json_cpu:6.2f} s CPU, {json_wall:6.2f} s wall")
        print(f"  read_har of the HAR:   {har_cpu:6.2f} s CPU, {har_wall:6.2f} s wall")
        ratio = har_cpu / json_cpu
        print(
            f"peak RSS MiB: long line {peaks['line']:.0f}, {entries:,}-entry HAR {peaks['har']:.0f}, "
            f"{base64_mb} MB base64 HAR {peaks['base64']:.0f} (goal < 300 each); "
            f"HAR load / json.load CPU ratio {ratio:.2f} (wall {har_wall / json_wall:.2f}; goal <= 1.5)"
        )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
