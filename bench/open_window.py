"""Opening a big capture in the window: time to the first paint, the event loop's lag while the file is
indexed, and the time until it is all shown.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/open_window.py [--chunks 200000] [--dir DIR]

Writes a capture as bench/capture_load.py does (50 contexts, 4 KiB chunks), then opens it in a window
(1600x1000, offscreen) through the File menu's path (``CaptureController.open``): the session is shown at
once and indexed in steps on the loop. A probe asks the loop to wake every 10 ms and records how late each
wake-up was (the baseline is the idle window); the first paint is the window's first paint event after the
open request. Two probes: an asyncio task that sleeps 10 ms (as bench/live_window.py measures the loop, what
the live session's sockets see) and a Qt timer of 10 ms (what input and paints see). The analysis (lints,
boundaries) waits until the capture is open, and is timed apart. Targets: first paint within 2 s, the loop
never blocked for more than about 100 ms while the file is indexed. Last line: first paint, the lag of both
probes while indexing, and the indexing time against a bare json.loads loop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import qasync
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from capture_load import bare_loop, write_capture
from flushscope.net.live import LiveSession
from flushscope.ui.look.themes import apply_theme
from flushscope.ui.options import Theme
from flushscope.ui.window import MainWindow
from live_window import LagProbe, p


class QtProbe:
    """A Qt timer of ``period`` ms: how late each timeout came (what input and paints wait)."""

    def __init__(self, period_ms: int = 10) -> None:
        self.lags: list[float] = []
        self._period = period_ms / 1000
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setInterval(period_ms)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lags.append(max(0.0, now - self._last - self._period))
        self._last = now

    def start(self) -> None:
        self.lags, self._last = [], time.perf_counter()
        self._timer.start()

    def stop(self) -> list[float]:
        self._timer.stop()
        return self.lags


class FirstPaint(QObject):
    """Notes when a watched widget is first painted after :meth:`arm`."""

    def __init__(self) -> None:
        super().__init__()
        self.at: float | None = None
        self._armed = False

    def arm(self) -> None:
        self.at, self._armed = None, True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._armed and self.at is None and event.type() == QEvent.Type.Paint:
            self.at = time.perf_counter()
        return False


async def main(args: argparse.Namespace) -> None:
    folder = Path(args.dir or tempfile.gettempdir())
    path = folder / f"flushscope-open-{os.getpid()}.fscap.jsonl"
    live = LiveSession(capture_dir=folder)
    window = MainWindow(live)
    window.resize(1600, 1000)
    window.show()
    try:
        frames, chunks = write_capture(path, args.chunks, 50, 4096)
        bare, _, _ = bare_loop(path)
        print(
            f"capture: {frames:,} frames, {chunks:,} chunks, {path.stat().st_size / 1e9:.2f} GB; bare loop {bare:.2f} s"
        )
        probe = LagProbe()
        probe.start()
        await asyncio.sleep(2)
        idle = await probe.stop()

        painted = FirstPaint()
        for widget in (window, window.timeline, window.frames.view.viewport()):
            widget.installEventFilter(painted)
        opened = asyncio.Event()
        window.captures.openFinished.connect(lambda _path: opened.set())
        qt_probe = QtProbe()
        probe.start()
        qt_probe.start()
        painted.arm()
        start = time.perf_counter()
        assert window.captures.open(path)
        returned = time.perf_counter() - start
        await opened.wait()
        indexed = time.perf_counter() - start
        lags = await probe.stop()
        qt_lags = qt_probe.stop()
        first_paint = (painted.at - start) if painted.at is not None else float("nan")
        print(f"idle window:      lag p50 {p(idle, 0.5):6.1f} ms, p99 {p(idle, 0.99):6.1f} ms")
        print(
            f"while indexing:   asyncio lag p50 {p(lags, 0.5):6.1f} ms, p99 {p(lags, 0.99):6.1f} ms, "
            f"max {max(lags) * 1000:6.1f} ms; Qt timer lag p50 {p(qt_lags, 0.5):6.1f} ms, "
            f"p99 {p(qt_lags, 0.99):6.1f} ms, max {max(qt_lags) * 1000:6.1f} ms; over {indexed:.1f} s"
        )
        print(
            f"open() returned after {returned * 1000:.0f} ms; first paint after {first_paint * 1000:.0f} ms"
        )
        analysis_start = time.perf_counter()
        window.analysis.refresh_now()
        analysis = time.perf_counter() - analysis_start
        print(
            f"indexed in {indexed:.1f} s ({indexed / bare:.2f} x the bare loop), then the analysis in "
            f"{analysis:.1f} s ({len(window.analysis.boundaries):,} boundaries, {len(window.analysis.lints)} lints)"
        )
        print(
            f"first paint {first_paint * 1000:.0f} ms (target < 2000); lag while indexing: Qt timer p99 "
            f"{p(qt_lags, 0.99):.1f} ms, max {max(qt_lags) * 1000:.1f} ms, asyncio p99 {p(lags, 0.99):.1f} "
            f"ms (target ~100); indexed in {indexed:.1f} s, ratio to the bare loop {indexed / bare:.2f}"
        )
    finally:
        await window.aclose()
        window.close()
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=200_000)
    parser.add_argument("--dir", help="where to write the capture (default: the system's temporary folder)")
    app = QApplication(sys.argv[:1])
    apply_theme(app, Theme.SYSTEM)  # the style the app draws with, its focus ring included
    qasync.run(main(parser.parse_args()))
