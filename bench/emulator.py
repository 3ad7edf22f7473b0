"""Emulator speed: time to first audio and audio produced per wall second, 1, 10 and 50 contexts on one socket.

    .venv/bin/python bench/emulator.py [--rounds 3]

The emulator runs in its own process with ``--pace instant``; one websockets client opens N contexts at once
on one socket, each with its own sentence (distinct, so that no synthesis is reused). The baseline, in this
process, is espeak-ng synthesis alone of the same sentences: what the emulator adds on top of making speech
(resampling, encoding, base64, JSON, the socket). Last line: emulator / synthesis-alone throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import subprocess
import sys
import time

from websockets.asyncio.client import connect

RATE = 24000
WORDS = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",
)  # fmt: skip


def sentence(n: int, round_: int) -> str:
    picked = [WORDS[(n * 7 + round_ * 3 + i) % len(WORDS)] for i in range(8)]
    return f"Context {n} in round {round_} says {' '.join(picked)}, and then it stops."


def request(context_id: str, text: str) -> str:
    return json.dumps(
        {
            "context_id": context_id,
            "model_id": "sonic-3",
            "transcript": text,
            "voice": {"mode": "id", "id": "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"},
            "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": RATE},
            "continue": False,
            "language": "en",
            "max_buffer_delay_ms": 0,
        }
    )


async def one_round(url: str, contexts: int, round_: int) -> tuple[list[float], float, float]:
    """Time to first audio per context (ms), audio seconds received, wall seconds."""
    async with connect(url + "/tts/websocket", compression=None, max_size=None) as ws:
        sent: dict[str, float] = {}
        first: dict[str, float] = {}
        audio_bytes = 0
        start = time.perf_counter()
        for n in range(contexts):
            cid = f"r{round_}c{n}"
            sent[cid] = time.perf_counter()
            await ws.send(request(cid, sentence(n, round_)))
        done = 0
        async for message in ws:
            obj = json.loads(message)
            if obj["type"] == "chunk":
                first.setdefault(obj["context_id"], time.perf_counter())
                audio_bytes += len(base64.b64decode(obj["data"]))
            elif obj["type"] in ("done", "error"):
                done += 1
                if done == contexts:
                    break
        wall = time.perf_counter() - start
    ttfa = [(first[c] - sent[c]) * 1000 for c in sent if c in first]
    return ttfa, audio_bytes / 2 / RATE, wall


def synthesis_alone(contexts: int, rounds: int) -> float:
    """Audio seconds per wall second of espeak-ng alone on the same (fresh) sentences."""
    from flushscope.emulator.espeak import Synthesizer
    from flushscope.emulator.voices import voice_for

    voice = voice_for("6ccbfb76-1fc6-48f7-b71d-91ac6298247b", "en")
    audio = 0.0
    with Synthesizer() as synth:
        synth.synthesize("warm up", voice)
        start = time.perf_counter()
        for round_ in range(100, 100 + rounds):
            for n in range(contexts):
                audio += synth.synthesize(sentence(n, round_), voice).duration
        return audio / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, "-m", "flushscope", "serve", "--pace", "instant"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        ratios = []
        for contexts in (1, 10, 50):
            ttfa: list[float] = []
            audio = wall = 0.0
            for round_ in range(args.rounds):
                t, a, w = asyncio.run(one_round(url, contexts, round_))
                ttfa += t
                audio += a
                wall += w
            ttfa.sort()
            p95 = ttfa[min(len(ttfa) - 1, int(0.95 * len(ttfa)))]
            rate = audio / wall
            baseline = synthesis_alone(contexts, args.rounds)
            ratios.append(f"{contexts} ctx {rate / baseline:.2f}")
            print(
                f"{contexts:>3} contexts: first audio p50 {statistics.median(ttfa):6.1f} ms  p95 {p95:6.1f} ms  "
                f"{rate:7.1f} audio s per wall s (synthesis alone {baseline:7.1f})"
            )
        print("emulator / synthesis-alone throughput: " + ", ".join(ratios))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
