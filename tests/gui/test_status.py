"""The status bar's figures: chunks per second over the last second, anomalies counted by severity; each
set again when it changed, a few times a second at most."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from flushscope.ui.bridge import SessionBridge
from flushscope.ui.pacing import Paced
from flushscope.ui.widgets.status_bar import StatusBar, anomaly_counts, chunk_rate
from session_wire import Wire
from window_support import WAIT_MS


def test_chunk_rate_counts_the_last_second() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    last = 0.0
    for _ in range(10):
        last = wire.chunk("a", 1, dt=0.3).t
    assert chunk_rate(wire.session, last) == 4  # chunks at last-0.9, -0.6, -0.3 and last
    assert chunk_rate(wire.session, last + 5) == 0


def test_anomaly_counts_separate_information() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.chunk("a", None)  # missing flush_id before any flush: information
    wire.chunk("zzz", 1)  # unknown context: an error
    assert anomaly_counts(wire.session) == (1, 1)


def test_paced_requests_are_merged_into_one_run(qtbot: QtBot) -> None:
    paced = Paced(50)
    runs: list[int] = []
    paced.due.connect(lambda: runs.append(len(runs)))
    assert not paced.pending
    with qtbot.waitSignal(paced.due):
        paced.request()
        paced.request()
    assert runs == [0] and not paced.pending
    with qtbot.waitSignal(paced.due):
        for _ in range(5):
            paced.request()
        assert paced.pending
    assert runs == [0, 1] and not paced.pending


def test_the_status_bar_sets_what_changed_and_nothing_while_nothing_does(qtbot: QtBot) -> None:
    wire = Wire()
    bridge = SessionBridge(wire.session)
    status = StatusBar(bridge, lambda: wire.t)
    qtbot.addWidget(status)
    assert status.frames_label.text() == "Frames: 0" and status.rate_label.text() == "Chunks/s: 0"
    wire.send("a", "Hello. ")
    for _ in range(3):
        wire.chunk("a", 1, dt=0.1)
    bridge.flush()
    assert status.paced.pending
    qtbot.waitUntil(lambda: status.frames_label.text() == "Frames: 4", timeout=WAIT_MS)
    assert status.rate_label.text() == "Chunks/s: 3" and status.anomalies_label.text() == "Anomalies: 0"
    # The live session's rate falls with time alone: followed until it is zero, then left alone.
    wire.t += 5
    qtbot.waitUntil(lambda: status.rate_label.text() == "Chunks/s: 0", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not status.paced.pending, timeout=WAIT_MS)
    bridge.flush()  # a tick with nothing new
    assert not status.paced.pending
