"""The sidecar proxy under a long load: ten apps on the official SDK, looping contexts with flushes, through
``flushscope proxy --capture-dir`` for ten minutes; no frame lost, memory flat.

    .venv/bin/python bench/soak.py [--minutes 10] [--apps 10] [--pace real|instant]

Three processes on loopback: the emulator (``flushscope serve``, real pacing by default: first audio about
90 ms after the text, chunks at 1.6 times real time, word timestamps), the sidecar proxy (``flushscope proxy
--capture-dir`` into a temporary folder, one capture per app connection) and this one, where ``--apps``
asyncio tasks each run the official ``cartesia`` SDK (``AsyncCartesia``) as an agent does: a connection,
then contexts one after another on it (two sentences, each flushed, then the end, then every event until
``done``), and a new connection every ``--contexts-per-connection`` contexts, until the time is up.

Every few seconds the proxy's resident memory and CPU time are read from ``/proc``. At the end the proxy is
stopped with SIGTERM (its drain finishes every capture) and two things are checked:

- no frame lost: every event each app received (as the frame it came from) is in the captures, in order,
  for its context;
- memory flat: after a warm-up (the first tenth of the run, at most a minute), the largest RSS of the last
  third is within 20 MiB or 10 % (whichever is larger) of the largest RSS of the first third.

It prints apps, contexts, frames, lost, the proxy's CPU (per cent of one core, over the whole run) and RSS
(start after warm-up, end, max). Last line: ``soak: PASS|FAIL ...; memory last/first third ratio R``.
Exit 0 on PASS, 1 on FAIL. Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cartesia import AsyncCartesia

from proxy import start, stop

VOICE = "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"
SENTENCES = (
    "Thanks for calling, how can I help you today? ",
    "Let me look that up for you, it will only take a moment.",
)
MIB = 1 << 20


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident memory of a process now."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


@dataclass
class Samples:
    """The proxy's RSS over time, and its CPU time at the start and the end."""

    times: list[float] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)
    cpu_start: float = 0.0
    cpu_end: float = 0.0


async def sample(pid: int, every: float, until: float, samples: Samples) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    samples.cpu_start = cpu_seconds(pid)
    while True:
        samples.times.append(loop.time() - started)
        samples.rss.append(rss_bytes(pid))
        samples.cpu_end = cpu_seconds(pid)
        if loop.time() >= until:
            return
        await asyncio.sleep(min(every, max(0.0, until - loop.time())))


async def app(
    number: int, url: str, until: float, per_connection: int, received: dict[str, list[Any]]
) -> None:
    """One agent: contexts one after another, a new connection every ``per_connection`` of them."""
    loop = asyncio.get_running_loop()
    settings: dict[str, Any] = {
        "model_id": "sonic-3",
        "voice": {"mode": "id", "id": VOICE},
        "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
        "language": "en",
        "add_timestamps": True,
        "max_buffer_delay_ms": 0,
        "timeout": 60.0,
    }
    n = 0
    while loop.time() < until:
        async with (
            AsyncCartesia(api_key="x", websocket_base_url=url) as client,
            client.tts.websocket_connect() as conn,
        ):
            for _ in range(per_connection):
                if loop.time() >= until:
                    break
                context_id = f"soak-{number}-{n}"
                n += 1
                ctx = conn.context(context_id=context_id, **settings)
                for sentence in SENTENCES:
                    await ctx.push(sentence)
                    await ctx.push("", flush=True)
                await ctx.no_more_inputs()
                received[context_id] = [event.to_dict() async for event in ctx.receive()]


def captured(directory: Path) -> dict[str, list[Any]]:
    """Every frame the proxy recorded as received from the upstream, by context, in order."""
    frames: dict[str, list[Any]] = defaultdict(list)
    for path in sorted(directory.glob("*.jsonl*")):
        with path.open("rb") as file:
            for line in file:
                obj = json.loads(line)
                if obj.get("dir") != "recv":
                    continue
                frame = obj["json"] if "json" in obj else json.loads(obj["frame"])
                if isinstance(frame, dict) and isinstance(frame.get("context_id"), str):
                    frames[frame["context_id"]].append(frame)
    return frames


def lost_frames(received: dict[str, list[Any]], recorded: dict[str, list[Any]]) -> int:
    """Frames an app received that the captures do not hold for that context (as many times as received)."""
    lost = 0
    for context_id, events in received.items():
        have = Counter(json.dumps(f, sort_keys=True) for f in recorded.get(context_id, []))
        for event in events:
            key = json.dumps(event, sort_keys=True)
            if have[key]:
                have[key] -= 1
            else:
                lost += 1
    return lost


def flat(samples: Samples, warmup: float) -> tuple[bool, float, int, int]:
    """Whether memory stayed flat after ``warmup`` seconds: the last third's max RSS within 20 MiB or 10 % of
    the first third's. Also the ratio and both maxima."""
    kept = [r for t, r in zip(samples.times, samples.rss, strict=True) if t >= warmup]
    third = max(1, len(kept) // 3)
    first, last = max(kept[:third]), max(kept[-third:])
    allowed = max(20 * MIB, first // 10)
    return last - first <= allowed, last / first, first, last


async def soak(url: str, proxy_pid: int, args: argparse.Namespace) -> tuple[dict[str, list[Any]], Samples]:
    loop = asyncio.get_running_loop()
    until = loop.time() + args.minutes * 60.0
    received: dict[str, list[Any]] = {}
    samples = Samples()
    sampler = asyncio.create_task(sample(proxy_pid, args.sample_seconds, until, samples))
    await asyncio.gather(
        *(app(i, url, until, args.contexts_per_connection, received) for i in range(args.apps)), sampler
    )
    return received, samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the apps speak (default 10)")
    parser.add_argument("--apps", type=int, default=10, help="apps at once (default 10)")
    parser.add_argument("--contexts-per-connection", type=int, default=20, help="before an app reconnects")
    parser.add_argument("--sample-seconds", type=float, default=5.0, help="between RSS and CPU samples")
    parser.add_argument("--pace", choices=("real", "instant"), default="real", help="the emulator's pacing")
    args = parser.parse_args()
    warmup = min(60.0, args.minutes * 6.0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        captures = folder / "captures"
        emulator, emulator_url = start(["serve", "--pace", args.pace], folder / "serve.log")
        try:
            proxy, proxy_url = start(
                [
                    "proxy",
                    "--listen",
                    "127.0.0.1:0",
                    "--upstream",
                    emulator_url,
                    "--capture-dir",
                    str(captures),
                ],
                folder / "proxy.log",
            )
            started = time.monotonic()
            try:
                received, samples = asyncio.run(soak(proxy_url, proxy.pid, args))
            finally:
                code = stop(proxy)
            wall = time.monotonic() - started
        finally:
            stop(emulator)
        recorded = captured(captures)
        files = len(list(captures.iterdir()))
        unfinished = len(list(captures.glob("*.part")))
        log = (folder / "proxy.log").read_text()
    frames = sum(len(events) for events in received.values())
    lost = lost_frames(received, recorded)
    cpu = (samples.cpu_end - samples.cpu_start) / (samples.times[-1] or 1.0) * 100.0
    ok_memory, ratio, first, last = flat(samples, warmup)
    after = [r for t, r in zip(samples.times, samples.rss, strict=True) if t >= warmup]
    print(
        f"{args.apps} apps for {args.minutes:g} min ({wall:.0f} s with the proxy's drain), pace {args.pace}"
    )
    print(f"contexts {len(received)}, frames received by the apps {frames}, lost {lost}")
    print(
        f"captures {files} ({unfinished} unfinished), proxy exit code {code}, proxy log lines {log.count(chr(10))}"
    )
    print(f"proxy CPU {cpu:.1f} % of one core over {samples.times[-1]:.0f} s ({len(samples.rss)} samples)")
    print(
        f"proxy RSS MiB: start {after[0] / MIB:.1f} (after {warmup:.0f} s warm-up), end {after[-1] / MIB:.1f}, "
        f"max {max(samples.rss) / MIB:.1f}; first third max {first / MIB:.1f}, last third max {last / MIB:.1f}"
    )
    passed = lost == 0 and ok_memory and code == 0 and unfinished == 0 and frames > 0
    print(
        f"soak: {'PASS' if passed else 'FAIL'}: {args.apps} apps, {frames} frames, {lost} lost, "
        f"memory {'flat' if ok_memory else 'grew'}; memory last/first third ratio {ratio:.3f}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
