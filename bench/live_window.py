"""The window under live load: event-loop lag while many contexts stream, and no frame lost in a burst.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/live_window.py [--contexts 50] [--seconds 30]

Phase 1: the emulator in another process at the real service's pace (a chunk of 93 ms of audio every
58 ms per context), N contexts streaming for S seconds into the shown window (timeline, tables, status bar
all live). Phase 2: the same window, an emulator with ``--pace instant`` sending as fast as it can.
The loop's lag is measured by a task that asks to wake every 10 ms and records how late it woke. The
baseline is the same probe on an idle window. Last line: lag p99 in both phases and frames per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication

from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.net.live import LiveSession
from flushscope.ui.look.themes import apply_theme
from flushscope.ui.options import Theme
from flushscope.ui.window import MainWindow

PARAGRAPH = (
    "This context keeps talking so that the window has something to show: sentence after sentence of "
    "plain speech, each one long enough to fill a few seconds of audio at the service's own pace. "
)


class LagProbe:
    """Wakes every ``period`` seconds and records how late each wake-up was."""

    def __init__(self, period: float = 0.010) -> None:
        self.period = period
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.period
            await asyncio.sleep(self.period)
            self.lags.append(max(0.0, loop.time() - due))

    def start(self) -> None:
        self.lags = []
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> list[float]:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return self.lags


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def start_server(*args: str) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "flushscope", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


def chunks_logged(server: subprocess.Popen[str]) -> int:
    """Chunks the emulator says it sent (its per-context log lines), read after it stopped."""
    assert server.stderr is not None
    return sum(int(m.group(1)) for m in re.finditer(r"(\d+) chunks", server.stderr.read()))


async def phase(
    window: MainWindow, live: LiveSession, url: str, contexts: int, sentences: int, seconds: float | None
) -> tuple[list[float], int, float]:
    """Connect, start ``contexts`` contexts, measure the lag for ``seconds`` (or until all are done)."""
    await window.live_control.connect_target("custom", url, None, "2026-08-14")
    probe = LagProbe()
    chunks_before = live.session.chunks.size
    start = time.perf_counter()
    probe.start()
    ids = [live.new_context(GenerationSettings(add_timestamps=True)) for _ in range(contexts)]
    for context_id in ids:
        for _ in range(sentences):
            await live.send(context_id, PARAGRAPH)
        await live.end(context_id)
    from flushscope.net.runner import wait_settled

    if seconds is not None:
        await asyncio.sleep(seconds)
    else:
        await wait_settled(live.session, live.client, 600)
    elapsed = time.perf_counter() - start
    lags = await probe.stop()
    received = live.session.chunks.size - chunks_before
    await window.live.disconnect()
    return lags, received, elapsed


async def main(args: argparse.Namespace) -> None:
    live = LiveSession()
    window = MainWindow(live)
    window.resize(1600, 1000)
    window.show()
    try:
        probe = LagProbe()
        probe.start()
        await asyncio.sleep(3)
        idle = await probe.stop()
        print(f"idle window:  lag p50 {p(idle, 0.5):5.1f} ms  p99 {p(idle, 0.99):5.1f} ms")

        server, url = start_server("--pace", "real")
        try:
            # At 1.6x real time, each context needs about 1.6 * seconds of audio to stream throughout.
            lags, chunks, elapsed = await phase(window, live, url, args.contexts, 6, args.seconds)
        finally:
            server.terminate()
            server.wait(timeout=30)
        live_p99 = p(lags, 0.99)
        print(
            f"real pace:    lag p50 {p(lags, 0.5):5.1f} ms  p99 {live_p99:5.1f} ms  "
            f"{chunks / elapsed:6.0f} chunks/s over {elapsed:.0f} s, {args.contexts} contexts"
        )

        server, url = start_server("--pace", "instant")
        try:
            lags, chunks, elapsed = await phase(window, live, url, args.contexts, 3, None)
        finally:
            server.terminate()
            server.wait(timeout=30)
        sent = chunks_logged(server)
        burst_p99 = p(lags, 0.99)
        print(
            f"burst:        lag p50 {p(lags, 0.5):5.1f} ms  p99 {burst_p99:5.1f} ms  "
            f"{chunks / elapsed:6.0f} chunks/s, {chunks} of {sent} chunks received"
        )
        print(
            f"lag p99: idle {p(idle, 0.99):.1f} ms, real pace {live_p99:.1f} ms (target < 50), "
            f"burst {burst_p99:.1f} ms (target < 100), frames lost {sent - chunks}"
        )
    finally:
        await window.aclose()
        window.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contexts", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    app = QApplication(sys.argv[:1])
    apply_theme(app, Theme.SYSTEM)  # the style the app draws with, its focus ring included
    qasync.run(main(parser.parse_args()))
