"""Looking across many calls as the README tells it: the proxy as a sidecar (a process of its own), two apps
on the official SDK pointed at it, stopped with SIGTERM; ``flushscope dataset build`` and ``summary`` as a
user runs them; the dataset opened in the window, and the worst call double-clicked into the timeline.

The upstream is the embedded emulator numbering segments 1, 3, 5 (``--fault-skip-flush-id``): the app that
flushes once never sees it, the app that flushes twice does, so exactly one call has problems.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cartesia import Cartesia
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from command_line import run_flushscope
from flushscope.core.model.anomalies import AnomalyKind
from flushscope.ui.tables import ANOMALY_ROLE
from flushscope.ui.tables.calls import CallsModel
from flushscope.ui.window import MainWindow
from window_support import WAIT_MS

#: A safety net for each process and socket; never the thing the test measures.
TIMEOUT = 60.0
CONTEXT: dict[str, Any] = {
    "model_id": "sonic-3",
    "voice": {"mode": "id", "id": "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"},
    "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
    "language": "en",
    "timeout": TIMEOUT,
}


def app_speaks(url: str, context_id: str, texts: list[str]) -> list[str]:
    """An app on the official SDK: one context, each text flushed, then ended; the events it got."""
    with Cartesia(api_key="x", websocket_base_url=url) as client, client.tts.websocket_connect() as conn:
        ctx = conn.context(context_id=context_id, **CONTEXT)
        for text in texts:
            ctx.push(text)
            ctx.push("", flush=True)
        ctx.no_more_inputs()
        return [event.type for event in ctx.receive()]


def test_the_readme_flow_from_a_sidecar_to_a_call_in_the_timeline(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    captures, dataset = tmp_path / "captures", tmp_path / "calls-dataset"
    # 1. The sidecar: its URL is the first line it prints.
    sidecar = subprocess.Popen(
        [sys.executable, "-m", "flushscope", "proxy", "--capture-dir", str(captures), "--upstream", "embedded",
         "--listen", "127.0.0.1:0", "--pace", "instant", "--fault-skip-flush-id"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert sidecar.stdout is not None
        url = sidecar.stdout.readline().strip()
        assert url.startswith("ws://127.0.0.1:"), url
        # 2. Two apps, one after the other: one flush, then two.
        first = app_speaks(url, "one", ["Hello there, this is the first call. "])
        second = app_speaks(url, "two", ["Hello again. ", "This call is flushed twice. "])
        assert first.count("flush_done") == 1 and second.count("flush_done") == 2
        assert first[-1] == second[-1] == "done"
        # 3. Stopped as systemd stops it.
        sidecar.send_signal(signal.SIGTERM)
        _, log = sidecar.communicate(timeout=TIMEOUT)
    finally:
        if sidecar.poll() is None:
            sidecar.kill()
            sidecar.communicate()
    assert sidecar.returncode == 0, log
    assert "2 connections recorded, 0 refused; 2 captures finished" in log
    files = sorted(captures.iterdir())
    assert [f.name.endswith("-cartesia-python-4.2.0-c1.jsonl") for f in files] == [True, False]
    assert files[1].name.endswith("-cartesia-python-4.2.0-c2.jsonl")

    # 4. The dataset, built as a user builds it.
    build = run_flushscope("dataset", "build", str(captures), "--out", str(dataset))
    assert build.returncode == 0, build.stderr
    assert build.stdout.splitlines()[-1] == f"dataset {dataset}: 2 added, 0 replaced, 0 unchanged, 0 failed"

    # 5. Its summary: two calls; the first app's one segment, the second's two, and the one the server
    # numbered 3 that the second app never made.
    summary = run_flushscope("dataset", "summary", str(dataset))
    assert summary.returncode == 0, summary.stderr
    lines = summary.stdout.splitlines()
    assert lines[0].startswith("2 captures, 2 calls, 2 contexts, 4 segments, ")
    assert lines[1].startswith("calls with problems (warning or error anomalies): 1 (50.0%)")
    assert any(line.split()[:2] == ["flush_id_skipped", "error"] for line in lines)

    # 6. The dataset in the window: the call with problems first.
    window = make_window()
    opening = window.datasets.open(dataset)
    qtbot.waitUntil(opening.done, timeout=WAIT_MS)
    assert opening.result()
    calls = window.datasets.view
    assert calls is not None and calls.isVisible() and calls.model.rowCount() == 2
    worst = calls.proxy.call(0)
    assert (Path(worst.capture_path), worst.client, worst.segments) == (files[1], "cartesia-python/4.2.0", 3)
    assert worst.problems > 0 and calls.proxy.call(1).problems == 0

    # 7. A double-click on it: the timeline shows that capture's context, its first problem selected.
    at = calls.view.visualRect(calls.proxy.index(0, CallsModel.CLIENT)).center()
    qtbot.mouseClick(calls.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.mouseDClick(calls.view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is window.anomalies, timeout=WAIT_MS)
    assert window.captures.viewing == files[1]
    assert [window.timeline.lane_context(i).context_id for i in range(window.timeline.lane_count())] == [
        "two"
    ]
    anomaly = window.anomalies.view.currentIndex().data(ANOMALY_ROLE)
    assert (anomaly.context_id, anomaly.kind) == ("two", AnomalyKind.FLUSH_ID_SKIPPED)
    assert window.selection.segment is not None and window.selection.segment.context.context_id == "two"
