"""The window's analysis (lints, flush boundaries) while a large live session grows: its cost and the lag.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/analysis.py [--segments 3000] [--per-tick 4]

A live session shown in the window grows frame by frame: one context of N segments, each sent, flushed,
answered with two chunks of audio and a flush_done, ``--per-tick`` segments every 10 ms of loop time (the
frames go into the session as the client would record them). The loop's lag is measured by a task that asks
to wake every 10 ms and records how late it woke. Baseline: the same growth with the analysis held back.
Then a second context grows the same way with the analysis as the window runs it (kept up to date in steps
after every tick of the bridge, its result told to the views at most once a second); the longest of its
steps on the loop is reported. At the end: what one full lint run costs on the whole session (what each run
cost before the analysis kept up incrementally), what bringing the analysis up to date costs then, and what
analysing the session from scratch costs (a capture of that size opened), at once and in steps. Last line:
lag p99 with and without the analysis, their ratio, and the longest step.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication

from flushscope.core.analysis.lint_cache import lint_session
from flushscope.core.frames import Direction
from flushscope.core.model.session import Session
from flushscope.net.live import LiveSession
from flushscope.ui.controllers.analysis import AnalysisModel
from flushscope.ui.window import MainWindow
from live_window import LagProbe, p

FORMAT = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000}
AUDIO = base64.b64encode(bytes(range(200)) * 24).decode()  # 0.1 s


class Feed:
    """Frames of one long context, written into a session with the loop's clock."""

    def __init__(self, session: Session, name: str) -> None:
        self.session = session
        self.name = name
        self.start = time.perf_counter()
        self.segments = 0

    def _add(self, direction: Direction, obj: dict[str, object]) -> None:
        self.session.add_text(time.perf_counter() - self.start, 1, direction, json.dumps(obj))

    def segment(self) -> None:
        self.segments += 1
        n, ctx = self.segments, self.name
        request = {"context_id": ctx, "model_id": "sonic-3", "transcript": f"Sentence number {n}. ",
                   "voice": {"mode": "id", "id": "v"}, "output_format": FORMAT, "continue": True,
                   "max_buffer_delay_ms": 0}  # fmt: skip
        self._add(Direction.SEND, request)
        self._add(Direction.SEND, {**request, "transcript": "", "flush": True})
        for _ in range(2):
            self._add(Direction.RECV, {"type": "chunk", "context_id": ctx, "status_code": 206, "done": False,
                                       "data": AUDIO, "step_time": 1.0, "flush_id": n})  # fmt: skip
        self._add(Direction.RECV, {"type": "flush_done", "context_id": ctx, "status_code": 206, "done": False,
                                   "flush_id": n, "flush_done": True})  # fmt: skip


async def grow(window: MainWindow, name: str, segments: int, per_tick: int) -> tuple[list[float], int]:
    """Grow a context of ``segments`` segments into the live session; the lag meanwhile, and how many
    results the analysis told the views."""
    feed = Feed(window.live.session, name)
    runs = [0]

    def told() -> None:
        runs[0] += 1

    window.analysis.resultsChanged.connect(told)
    probe = LagProbe()
    probe.start()
    while feed.segments < segments:
        for _ in range(per_tick):
            feed.segment()
        await asyncio.sleep(0.010)
    lags = await probe.stop()
    window.analysis.resultsChanged.disconnect(told)
    return lags, runs[0]


class Collections:
    """The pauses of Python's garbage collector: the longest since :meth:`reset`, and their total. A pause
    stops whatever runs when it starts, an analysis step included."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.total = 0.0
        self._started = 0.0
        gc.callbacks.append(self._note)

    def reset(self) -> None:
        self.longest = 0.0

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            pause = time.perf_counter() - self._started
            self.longest = max(self.longest, pause)
            self.total += pause


class Steps:
    """The longest step of the window's analysis with the collector's pauses in it taken out (they would
    have stopped whatever ran then)."""

    def __init__(self, analysis: AnalysisModel, collections: Collections) -> None:
        self.longest = 0.0
        self._analyse = analysis._analyse
        self._collections = collections
        analysis._analyse = self._timed

    def _timed(self, deadline: float | None) -> bool:
        paused, started = self._collections.total, time.perf_counter()
        done = self._analyse(deadline)
        step = time.perf_counter() - started - (self._collections.total - paused)
        self.longest = max(self.longest, step)
        return done


async def until_current(window: MainWindow) -> None:
    while not window.analysis.current:
        await asyncio.sleep(0.01)


async def main(args: argparse.Namespace) -> None:
    live = LiveSession()
    window = MainWindow(live)
    window.resize(1600, 1000)
    window.show()
    analysis = window.analysis
    collections = Collections()
    try:
        analysis.follow = False
        held, _ = await grow(window, "held", args.segments, args.per_tick)
        print(
            f"analysis held back: lag p50 {p(held, 0.5):5.1f} ms  p99 {p(held, 0.99):5.1f} ms  max {max(held) * 1000:5.0f} ms "
            f"(the longest garbage collection meanwhile {collections.longest * 1000:.0f} ms)"
        )
        analysis.refresh_now()
        analysis.follow = True
        analysis.longest_step_s = 0.0
        collections.reset()
        steps = Steps(analysis, collections)
        lags, runs = await grow(window, "live", args.segments, args.per_tick)
        longest = analysis.longest_step_s
        clean = steps.longest  # the live steps alone: refresh_now below is one step of the whole session
        print(
            f"analysis running:   lag p50 {p(lags, 0.5):5.1f} ms  p99 {p(lags, 0.99):5.1f} ms  max {max(lags) * 1000:5.0f} ms, "
            f"{runs} results told to the views, the longest step on the loop {longest * 1000:.1f} ms, "
            f"{clean * 1000:.1f} ms without the collector's pauses "
            f"(the longest garbage collection meanwhile {collections.longest * 1000:.0f} ms)"
        )
        inputs = 4 * args.segments
        started = time.perf_counter()
        lint_session(live.session, session_over=False)
        full = time.perf_counter() - started
        started = time.perf_counter()
        analysis.refresh_now()
        last = time.perf_counter() - started
        print(
            f"on the whole session ({inputs} inputs, {len(analysis.boundaries)} boundaries): one full lint run "
            f"{full * 1000:.0f} ms; bringing the analysis up to date {last * 1000:.1f} ms"
        )
        fresh = Session()
        for frame in live.session.frames:
            fresh.add_text(
                frame.t, frame.conn, frame.dir, live.session.frame_text(frame.index, elide_audio=False)
            )
        window.bridge.set_session(fresh)  # as a capture of that size, opened: analysed from scratch
        started = time.perf_counter()
        analysis.refresh_now()
        scratch = time.perf_counter() - started
        window.bridge.set_session(live.session)
        await until_current(window)
        window.bridge.set_session(fresh)
        analysis.longest_step_s = 0.0
        started = time.perf_counter()
        await until_current(window)
        stepped = time.perf_counter() - started
        print(
            f"from scratch (a capture opened): {scratch * 1000:.0f} ms at once; in steps {stepped * 1000:.0f} ms "
            f"in all, the longest {analysis.longest_step_s * 1000:.1f} ms"
        )
        print(
            f"lag p99: held back {p(held, 0.99):.1f} ms, analysis running {p(lags, 0.99):.1f} ms, "
            f"ratio {p(lags, 0.99) / max(p(held, 0.99), 0.1):.2f}, longest step {longest * 1000:.1f} ms "
            f"({clean * 1000:.1f} ms without the collector's pauses)"
        )
    finally:
        await window.aclose()
        window.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=3000)
    parser.add_argument("--per-tick", type=int, default=4)
    app = QApplication(sys.argv[:1])
    qasync.run(main(parser.parse_args()))
