"""The window says of a capture what ``flushscope report`` says: the same anomalies, a recording that ends
while waits go on included (a row in the anomalies table and a marker at the end of its lane); and slow
first audio is flagged by the threshold chosen in Edit > Connection settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from command_line import run_flushscope
from flushscope import cli
from flushscope.core.model.anomalies import Anomaly, AnomalyKind
from flushscope.ui.tables.anomalies import AnomaliesModel
from flushscope.ui.timeline.model.lane_cache import LaneCache
from flushscope.ui.timeline.model.lanes import MarkerKind
from flushscope.ui.window import MainWindow
from flushscope.ui.windows.keepalive_settings import KeepaliveDialog
from window_support import WAIT_MS

SIZE_HINTS = "does not support propagateSizeHints"
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(SIZE_HINTS)]

SCRIPT = """
context a id=wa
send Hello there, and welcome.
flush
context b id=wb
send A second context at the same time.
flush
context a
send And a second segment.
flush
end
context b
end
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run whose server skips flush ids and sends chunks after flush_done (and repeats them)."""
    folder = tmp_path_factory.mktemp("recorded")
    (folder / "s.txt").write_text(SCRIPT)
    capture = folder / "faults.fscap.jsonl"
    done = run_flushscope(
        "run", "s.txt", "--pace", "instant", "--capture", str(capture), "--fault-skip-flush-id",
        "--fault-late-chunk", cwd=folder,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    return capture


def cut(recorded: Path, folder: Path, *, unfinished: bool) -> Path:
    """The recording as if its recorder had been killed in the middle: its first half of lines (no close),
    with half of the next line after them when ``unfinished``."""
    lines = recorded.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    path = folder / f"cut-{unfinished}.fscap.jsonl"
    path.write_bytes(b"".join(lines[:half]) + (lines[half][: len(lines[half]) // 2] if unfinished else b""))
    return path


def reported(path: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    cli.main(["report", str(path), "--json"])
    anomalies: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["anomalies"]
    return anomalies


def shown(anomaly: Anomaly) -> dict[str, Any]:
    """An anomaly of the window's session as ``report --json`` writes it."""
    return {
        "kind": anomaly.kind.value,
        "severity": anomaly.severity.value,
        "context_id": anomaly.context_id,
        "flush_id": anomaly.flush_id,
        "message": anomaly.message,
        "frames": anomaly.frames[:50].tolist(),
        "count": len(anomaly.frames),
    }


@pytest.mark.parametrize("which", ["whole", "cut", "cut-unfinished"])
def test_the_window_shows_the_findings_report_prints(
    which: str,
    recorded: Path,
    tmp_path: Path,
    qtbot: QtBot,
    make_window: Callable[..., MainWindow],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = recorded if which == "whole" else cut(recorded, tmp_path, unfinished=which == "cut-unfinished")
    expected = reported(path, capsys)
    window = make_window()
    with qtbot.waitSignal(window.captures.openFinished, timeout=WAIT_MS):
        assert window.captures.open(path)
    session = window.bridge.session
    assert [shown(a) for a in session.anomalies] == expected
    kinds = {a["kind"] for a in expected}
    if which == "whole":
        assert {"flush_id_skipped", "chunk_after_flush_done"} <= kinds and "recording_ends" not in kinds
        return
    # Cut in the middle: the waits were not over, so they end there; nothing timed out.
    assert "recording_ends" in kinds and not kinds & {"flush_done_timeout", "done_timeout"}
    model = window.anomalies.model
    assert isinstance(model, AnomaliesModel)
    rows = [model.anomaly(r) for r in range(model.rowCount())]
    ends = [a for a in rows if a.kind is AnomalyKind.RECORDING_ENDS]
    assert ends and all(a.message.startswith("the recording ends here (") for a in ends)
    # Each lane it ends in has the marker (the timeline's lanes, as it builds them), where its frames stop.
    lanes = LaneCache(session)
    lanes.sync()
    for anomaly in ends:
        assert anomaly.context_number is not None
        markers = lanes.markers(lanes.lanes[anomaly.context_number - 1])
        (at,) = markers.times[MarkerKind.END]
        assert at == session.frames.time(anomaly.frames[0])
        assert markers.refs[MarkerKind.END] == [anomaly]


def test_slow_first_audio_follows_the_connection_settings(
    tmp_path: Path, qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    (tmp_path / "s.txt").write_text("context a id=slow\nsend Hello there.\nflush\nend\n")
    capture = tmp_path / "slow.fscap.jsonl"
    done = run_flushscope(
        "run",
        "s.txt",
        "--pace",
        "instant",
        "--capture",
        str(capture),
        "--fault-delay-ms",
        "600",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr  # 600 ms is not slow by default
    window = make_window()
    window.action_set.connection_settings.trigger()
    dialog = next(
        w for w in QApplication.topLevelWidgets() if isinstance(w, KeepaliveDialog) and w.isVisible()
    )
    assert dialog.slow_first_audio.value() == 2000.0
    dialog.slow_first_audio.setValue(300.0)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert window.live.session.thresholds.slow_first_audio_s == 0.3
    with qtbot.waitSignal(window.captures.openFinished, timeout=WAIT_MS):
        assert window.captures.open(capture)
    (slow,) = window.bridge.session.anomalies
    assert slow.kind is AnomalyKind.SLOW_FIRST_AUDIO and slow.message.endswith("over 300 ms")
