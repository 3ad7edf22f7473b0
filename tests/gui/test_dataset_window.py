"""The Calls window on datasets built from captures: its summary and table, reading off the loop with a busy
state, errors in words; and a call opened from it in the main window with its problems selected."""

from __future__ import annotations

import html
import os
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QTextDocument
from PySide6.QtWidgets import QFileDialog, QLabel, QTableView
from pytestqt.qtbot import QtBot

from command_line import run_flushscope
from dataset_support import DAY1, DAY2, write_call
from flushscope.cli.exit_codes import EXIT_OK, EXIT_USAGE
from flushscope.core.frames import Direction, meta_text
from flushscope.core.model.anomalies import Severity
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.dataset.build import build_dataset
from flushscope.dataset.calls import CallRow
from flushscope.dataset.store import table_files
from flushscope.dataset.summary import summary as dataset_summary
from flushscope.ui.tables import ANOMALY_ROLE, ITEM_ROLE
from flushscope.ui.tables.calls import CallsModel
from flushscope.ui.widgets.dataset_summary import ROWS, DatasetSummary
from flushscope.ui.window import MainWindow
from flushscope.ui.windows import dataset as dataset_window
from flushscope.ui.windows.dataset import DatasetWindow
from session_wire import RecordedWire
from window_support import WAIT_MS

URL = "ws://127.0.0.1:1/tts/websocket"


def write_calls(path: Path, *calls: tuple[str | None, list[str], bool]) -> Path:
    """A capture of one connection per call, one after the other: ``(client, texts, skip)``, each text
    sent and flushed in one context, the server numbering its segments 1, 3, 5 when ``skip``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with CaptureWriter(path, URL, started=DAY1) as writer:
        wire = RecordedWire(writer)
        for conn, (client, texts, skip) in enumerate(calls, 1):
            wire.conn = conn
            wire.add(Direction.META, meta_text("connect", url=URL, client=client, port=5000 + conn))
            ctx = f"ctx{conn}"
            for text in texts:
                wire.send(ctx, text)
                wire.flush(ctx)
            wire.end(ctx)
            for ordinal in range(len(texts)):
                flush_id = 2 * ordinal + 1 if skip else ordinal + 1
                wire.chunk(ctx, flush_id)
                wire.chunk(ctx, flush_id)
                wire.flush_done(ctx, flush_id)
            wire.done(ctx)
            wire.close()
    return path


def plain(label: QLabel) -> str:
    """A label's rich text as a reader sees it."""
    document = QTextDocument()
    document.setHtml(label.text())
    return document.toPlainText()


def cells(label: QLabel) -> list[list[str]]:
    """The rows of the table in a label's rich text, each as the texts of its cells."""
    return [
        [html.unescape(re.sub("<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", label.text())
    ]


def built(folder: Path, out: Path) -> Path:
    build_dataset([folder], out)
    return out


@pytest.fixture
def calls_window(qtbot: QtBot, loop: qasync.QEventLoop) -> DatasetWindow:
    window = DatasetWindow()
    qtbot.addWidget(window)
    window.show()
    return window


def read(qtbot: QtBot, window: DatasetWindow, path: Path) -> bool:
    task = window.open(path)
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    return task.result()


def double_click(qtbot: QtBot, view: QTableView, row: int) -> None:
    """A user's double-click: a click, then the second press that makes it double."""
    at = view.visualRect(view.model().index(row, CallsModel.CLIENT)).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)


def shown_calls(window: DatasetWindow) -> list[CallRow]:
    return [window.proxy.call(row) for row in range(window.proxy.rowCount())]


# --- the Calls window alone --------------------------------------------------------------------------


def test_a_dataset_shows_its_calls_worst_first_under_its_summary(
    qtbot: QtBot, calls_window: DatasetWindow, tmp_path: Path
) -> None:
    captures = tmp_path / "captures"
    write_call(captures / "clean.jsonl", DAY1, client="pipecat-ai/1.14")
    write_call(captures / "skipped.jsonl", DAY2, client="LiveKit Agents", skip_flush_id=True)
    write_call(captures / "cut.jsonl", DAY2, client="pipecat-ai/1.14", cut_word=True)
    dataset = built(captures, tmp_path / "ds")
    with qtbot.waitSignals([calls_window.busyChanged, calls_window.busyChanged, calls_window.status]):
        assert read(qtbot, calls_window, dataset)
    window = calls_window
    assert not window.busy and window.view.isEnabled()
    assert window.windowTitle() == "Calls in ds — flushscope"
    names = [Path(call.capture_path).name for call in shown_calls(window)]
    assert names == ["skipped.jsonl", "cut.jsonl", "clean.jsonl"]
    assert window.count_label.text() == "3 calls, worst first · double-click one to open it"
    # The summary: totals, rates of each kind, time to first audio by model and voice and by client.
    # (The skipped flush_id makes a segment the server numbered and the app never made: 2 + 2 + 3.)
    summary = window.summary
    totals = plain(summary.totals).splitlines()
    assert totals[0].startswith("3 calls in 3 captures · 3 contexts · 7 segments · 1.2 s of audio · started ")
    assert totals[1].startswith(
        "Calls with problems: 1 (33%) · with a cut word: 1 (33%) · time to first audio"
    )
    kinds = cells(summary.kinds)
    assert kinds[0] == ["kind", "", "calls", "found"]
    assert ["flush id skipped", "error", "1 (33%)", "1"] in kinds and [
        "word cut",
        "flag",
        "1 (33%)",
        "1",
    ] in kinds
    # The same figures the dataset's summary gives, shortened and rounded as the window shows them.
    period = dataset_summary(dataset).period
    assert cells(summary.by_model_voice)[1:] == [
        ["sonic-3 · v", str(r.segments), f"{r.p50_ms:.0f}", f"{r.p95_ms:.0f}", f"{r.p99_ms:.0f}"]
        for r in period.by_model_voice
    ]
    assert [row[0] for row in cells(summary.by_client)[1:]] == ["pipecat-ai/1.14", "LiveKit Agents"]
    assert [r.group for r in period.by_client] == [("pipecat-ai/1.14",), ("LiveKit Agents",)]

    # Filtering: a text over client and capture path, and the problems alone.
    qtbot.keyClicks(window.filter_edit, "PIPECAT")
    assert [Path(c.capture_path).name for c in shown_calls(window)] == ["cut.jsonl", "clean.jsonl"]
    assert window.count_label.text() == "2 of 3 calls, worst first · double-click one to open it"
    window.problems_check.click()
    assert [Path(c.capture_path).name for c in shown_calls(window)] == ["cut.jsonl"]
    window.filter_edit.clear()
    assert [Path(c.capture_path).name for c in shown_calls(window)] == ["skipped.jsonl", "cut.jsonl"]
    window.problems_check.click()

    # A click on a header sorts by it; a third returns to the ranking.
    header = window.view.horizontalHeader()
    at = QPoint(header.sectionViewportPosition(CallsModel.STARTED) + 8, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert [c.started for c in shown_calls(window)] == sorted(c.started for c in shown_calls(window))
    assert Path(shown_calls(window)[0].capture_path).name == "clean.jsonl"
    assert window.count_label.text() == "3 calls · double-click one to open it"
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert [Path(c.capture_path).name for c in shown_calls(window)] == [
        "skipped.jsonl",
        "cut.jsonl",
        "clean.jsonl",
    ]

    # A double-click asks for the call.
    with qtbot.waitSignal(window.callRequested) as requested:
        double_click(qtbot, window.view, 1)
    assert requested.args == [shown_calls(window)[1]]


def test_the_loop_runs_while_the_dataset_is_read_and_the_window_says_it_is_busy(
    qtbot: QtBot,
    calls_window: DatasetWindow,
    tmp_path: Path,
    loop: qasync.QEventLoop,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dataset = built(write_call(tmp_path / "in" / "one.jsonl").parent, tmp_path / "ds")
    release = threading.Event()
    loop_thread = threading.get_ident()
    threads: list[int] = []
    real = dataset_window.read_dataset

    def held(root: Path) -> object:
        threads.append(threading.get_ident())
        # Released by a callback of the loop: if the read held the loop, that callback could never run.
        if not release.wait(WAIT_MS / 1000):
            raise AssertionError("the loop did not run while the dataset was read")
        return real(root)

    monkeypatch.setattr(dataset_window, "read_dataset", held)
    task = calls_window.open(dataset)
    loop.call_soon(release.set)
    assert calls_window.busy is False  # the task has not started yet
    qtbot.waitUntil(lambda: calls_window.busy, timeout=WAIT_MS)
    assert calls_window.busy_bar.isVisible() and not calls_window.view.isEnabled()
    assert calls_window.count_label.text() == "Reading the dataset…"
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    assert task.result() and threads and threads[0] != loop_thread
    assert not calls_window.busy_bar.isVisible() and calls_window.view.isEnabled()
    assert calls_window.model.rowCount() == 1


def test_what_is_not_a_dataset_or_cannot_be_read_is_said_in_words(
    qtbot: QtBot, calls_window: DatasetWindow, tmp_path: Path
) -> None:
    errors: list[str] = []
    calls_window.error.connect(errors.append)
    assert not read(qtbot, calls_window, tmp_path / "missing")
    assert errors[-1] == f"Cannot open the dataset: {tmp_path / 'missing'}: no such folder"
    assert not read(qtbot, calls_window, tmp_path)
    assert errors[-1].startswith(f"Cannot open the dataset: {tmp_path} is not a flushscope dataset")
    assert calls_window.message_label.text() == errors[-1] and calls_window.message_label.isVisible()
    assert calls_window.summary.totals.text() == "Nothing to show."

    dataset = built(write_call(tmp_path / "in" / "one.jsonl").parent, tmp_path / "ds")
    assert read(qtbot, calls_window, dataset)
    assert not calls_window.message_label.isVisible() and calls_window.model.rowCount() == 1
    # A table file that is not Parquet (a disk that lost it, a copy cut short).
    (broken,) = table_files(dataset, "connections")
    broken.write_bytes(b"not parquet at all")
    assert not read(qtbot, calls_window, dataset)
    assert errors[-1].startswith(f"Cannot open the dataset: {dataset} cannot be read: ")
    assert "\n" not in errors[-1]
    assert calls_window.model.rowCount() == 0 and not calls_window.busy


def test_a_dataset_of_no_calls_says_so(qtbot: QtBot, calls_window: DatasetWindow, tmp_path: Path) -> None:
    dataset = built(write_call(tmp_path / "in" / "one.jsonl").parent, tmp_path / "ds")
    for table in ("captures", "connections"):
        for file in table_files(dataset, table):
            file.unlink()
    assert read(qtbot, calls_window, dataset)
    assert calls_window.summary.totals.text().startswith("This dataset holds no calls yet")
    assert not calls_window.summary.kinds.isVisible()
    assert calls_window.count_label.text() == ""


def test_the_summary_keeps_a_few_rows_each_says_the_rest_and_shows_what_apps_sent_as_text(
    qtbot: QtBot, tmp_path: Path
) -> None:
    captures = tmp_path / "captures"
    clients = [f"app-{n}/1.0" for n in range(6)] + ["<b>bold</b> & <i>co</i>"]
    for n, client in enumerate(clients):
        write_call(captures / f"call-{n}.jsonl", DAY1, client=client)
    period = dataset_summary(built(captures, tmp_path / "ds")).period
    summary = DatasetSummary()
    qtbot.addWidget(summary)
    summary.show_period(period)
    rows = cells(summary.by_client)
    assert len(rows) == 1 + ROWS + 1
    assert rows[-1] == ["… and 2 more (hover to see them all)"]
    # The tooltip lists every client; a User-Agent that looks like markup is shown as the text it is.
    listed = QLabel(summary.by_client.toolTip())
    assert sorted(row[0] for row in cells(listed)[1:]) == sorted(clients)
    assert "<b>bold</b>" not in summary.by_client.toolTip()
    # Nothing found is said, not left blank.
    assert plain(summary.kinds) == "none found"


# --- a call opened in the main window ----------------------------------------------------------------


def open_dataset(
    qtbot: QtBot, window: MainWindow, dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> DatasetWindow:
    """Open ``dataset`` as a user does: File > Open dataset…, the folder chosen in the dialog."""
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_args, **_kw: str(dataset))
    window.action_set.open_dataset.trigger()
    view = window.datasets.view
    assert view is not None and view.isVisible()
    qtbot.waitUntil(lambda: not view.busy and view.model.rowCount() > 0, timeout=WAIT_MS)
    return view


def test_a_call_double_clicked_opens_in_the_timeline_narrowed_with_its_first_problem_selected(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    captures = tmp_path / "captures"
    both = write_calls(
        captures / "both.jsonl",
        ("clean-app/1.0", ["Hello there. ", "How are you? "], False),
        ("faulty-app/2.0", ["Good morning. ", "Nice to see you. "], True),
    )
    write_call(captures / "other.jsonl", DAY2)
    view = open_dataset(qtbot, window, built(captures, tmp_path / "ds"), monkeypatch)
    worst = shown_calls(view)[0]
    assert (Path(worst.capture_path).name, worst.conn) == ("both.jsonl", 2)
    assert view.model.index(0, CallsModel.CAPTURE).data() == "both.jsonl · connection 2"

    double_click(qtbot, view.view, 0)
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is window.anomalies, timeout=WAIT_MS)
    assert window.captures.viewing == both
    # Narrowed to the call's connection: its context alone in the timeline and the tables.
    assert window.connections.chosen() == 2
    assert window.timeline.lane_count() == 1
    assert window.timeline.lane_context(0).context_id == "ctx2"
    # Its first problem is selected, and with it the segment it is about.
    panel = window.anomalies
    current = panel.view.currentIndex()
    anomaly = current.data(ANOMALY_ROLE)
    assert current.row() == 0 and anomaly.conn == 2 and anomaly.severity is not Severity.INFO
    assert window.selection.segment is not None and window.selection.segment.context.context_id == "ctx2"
    found = sum(1 for a in window.bridge.session.anomalies if a.conn == 2)
    assert (
        view.message_label.text()
        == f"Showing both.jsonl, connection 2: {found} anomalies, the first selected"
    )

    # The other call of the same capture: the capture stays open, the views follow the connection.
    row = next(r for r, c in enumerate(shown_calls(view)) if c.conn == 1)
    view.view.setCurrentIndex(view.proxy.index(row, 0))
    qtbot.keyClick(view.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.connections.chosen() == 1, timeout=WAIT_MS)
    assert window.captures.viewing == both
    assert view.message_label.text() == "Showing both.jsonl, connection 1: no anomaly and no lint"


def test_a_call_without_anomalies_opens_on_its_first_lint(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    # One word alone in its segment: advice (short-segment), no anomaly.
    capture = write_calls(
        tmp_path / "captures" / "short.jsonl", ("app/1.0", ["Hello", "How are you today? "], False)
    )
    view = open_dataset(qtbot, window, built(capture.parent, tmp_path / "ds"), monkeypatch)
    (call,) = shown_calls(view)
    assert (call.anomalies, call.lints) == (0, 1)
    double_click(qtbot, view.view, 0)
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is window.lints, timeout=WAIT_MS)
    lint = window.lints.view.currentIndex().data(ITEM_ROLE)
    assert lint is not None and lint.conn == 1 and lint.id.value == "short-segment"
    assert window.connections.chosen() is None  # one connection: nothing to narrow
    assert (
        view.message_label.text()
        == "Showing short.jsonl, connection 1: no anomaly; 1 lint, the first selected"
    )


def test_a_call_whose_capture_moved_says_so_and_leaves_the_window_as_it_was(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    capture = write_call(tmp_path / "captures" / "gone.jsonl", skip_flush_id=True)
    view = open_dataset(qtbot, window, built(capture.parent, tmp_path / "ds"), monkeypatch)
    shutil.move(capture, tmp_path / "elsewhere.jsonl")
    with qtbot.waitSignal(window.datasets.error) as said:
        double_click(qtbot, view.view, 0)
    assert said.args == [
        f"The capture of this call is not at {capture} any more: it was moved or deleted since the dataset "
        "was built. Build the dataset again from where the captures are now."
    ]
    assert view.message_label.text() == said.args[0]
    assert window.captures.viewing is None  # the live session is still shown
    assert window.status.currentMessage() == said.args[0]


def test_a_call_whose_capture_changed_since_the_build_is_said_so(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    capture = write_calls(
        tmp_path / "captures" / "both.jsonl", ("a/1", ["Hello. "], False), ("b/1", ["Hi. ", "Bye. "], True)
    )
    view = open_dataset(qtbot, window, built(capture.parent, tmp_path / "ds"), monkeypatch)
    assert shown_calls(view)[0].conn == 2
    capture.unlink()
    write_calls(capture, ("a/1", ["Hello. "], False))  # the same name, one connection now
    with qtbot.waitSignal(window.datasets.error, timeout=WAIT_MS) as said:
        double_click(qtbot, view.view, 0)
    assert said.args == ["both.jsonl has no connection 2: the file changed since the dataset was built"]
    assert window.captures.viewing == capture  # what the file holds now is shown


# --- flushscope --dataset DIR ------------------------------------------------------------------------


def test_the_window_opens_a_dataset_from_its_command_line_and_pictures_its_calls(tmp_path: Path) -> None:
    dataset = built(write_call(tmp_path / "in" / "one.jsonl", skip_flush_id=True).parent, tmp_path / "ds")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(tmp_path / "data")}
    png = tmp_path / "calls.png"
    args = ["--no-connect", "--dataset", str(dataset), "--screenshot", str(png), "--exit-when-done"]
    result = run_flushscope(*args, env=env)
    assert result.returncode == EXIT_OK, result.stderr
    image = QImage(str(png))
    # The Calls window (fitted to the screen), not the main window behind it (1440x900).
    assert 0 < image.width() <= 1400 and 0 < image.height() <= 860
    assert png.stat().st_size > 10_000

    # A dataset that cannot be read is unusable input, said in words.
    (broken,) = table_files(dataset, "segments")
    broken.write_bytes(b"not parquet")
    result = run_flushscope("--no-connect", "--dataset", str(dataset), "--exit-when-done", env=env)
    assert result.returncode == EXIT_USAGE
    assert result.stderr.startswith(f"flushscope: Cannot open the dataset: {dataset} cannot be read: ")
