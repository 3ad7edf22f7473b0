"""Opening a big dataset in the Calls window: how long until its calls are shown, and how late the event loop
was meanwhile.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/dataset_window.py [--segments 1000000] [--cache DIR]

The dataset is bench/dataset.py's summary dataset (calls of 200 segments, rows made with numpy; written once
and cached under ``--cache``). The window reads it as File > Open dataset… does: DuckDB answers the summary
and the calls on a worker thread while the loop runs. A probe wakes every 10 ms and records how late each
wake-up was. The baseline is the same read done on the loop's own thread (what the window would do without
the worker): the loop is then blocked for the whole read. Target: the loop's longest wait well under 100 ms.
Last line: the time to show the calls, the loop's longest wait with the worker and without it, and their
ratio.
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
from PySide6.QtWidgets import QApplication

from dataset import big_dataset
from flushscope.ui.windows.dataset import DatasetWindow, read_dataset
from live_window import LagProbe, p


def cached(cache: Path, segments: int) -> Path:
    out = cache / f"summary-{segments}"
    if not (out / "_flushscope_dataset.json").exists():
        print(f"writing a dataset of {segments:,} segments to {out} (once)…")
        big_dataset(out, segments)
    return out


async def main(args: argparse.Namespace) -> None:
    dataset = cached(Path(args.cache), args.segments)
    window = DatasetWindow()
    window.resize(1600, 1000)
    window.show()
    probe = LagProbe()
    try:
        # Once, so that both runs find DuckDB imported and the files in the page cache.
        await asyncio.get_running_loop().run_in_executor(None, read_dataset, dataset)

        probe.start()
        start = time.perf_counter()
        assert await window.open(dataset)
        shown = time.perf_counter() - start
        lags = await probe.stop()
        calls = window.model.rowCount()

        probe.start()
        await asyncio.sleep(0.05)
        start = time.perf_counter()
        read_dataset(dataset)  # the baseline: on the loop's thread
        blocked_read = time.perf_counter() - start
        await asyncio.sleep(0.05)
        blocked = await probe.stop()

        worst, worst_blocked = max(lags) * 1000, max(blocked) * 1000
        print(f"{calls:,} calls of {args.segments:,} segments shown in {shown:.2f} s")
        print(
            f"worker thread: loop lag p50 {p(lags, 0.5):.1f} ms, p99 {p(lags, 0.99):.1f} ms, max {worst:.1f} ms"
        )
        print(f"on the loop:   read {blocked_read:.2f} s, loop lag max {worst_blocked:.1f} ms")
        print(
            f"shown in {shown:.2f} s; loop's longest wait {worst:.1f} ms with the worker (target < 100), "
            f"{worst_blocked:.1f} ms without; ratio {worst / worst_blocked:.3f}"
        )
    finally:
        await window.aclose()
        window.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "flushscope-bench-dataset"))
    app = QApplication(sys.argv[:1])
    qasync.run(main(parser.parse_args()))
