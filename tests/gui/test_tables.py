"""The inspector's table models and panels, fed realistic frames through the bridge."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QAbstractSlider, QApplication
from pytestqt.qtbot import QtBot

from flushscope.core.frames import Direction
from flushscope.core.model.anomalies import AnomalyKind
from flushscope.core.model.session import Session
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.panels import AnomaliesPanel, FramesPanel, TranscriptsPanel, pretty_frame_text
from flushscope.ui.tables import (
    ANOMALY_ROLE,
    FRAME_INDEX_ROLE,
    SEGMENT_ROLE,
    AnomaliesModel,
    FramesFilterProxy,
    FramesModel,
    SortProxy,
    TranscriptsModel,
    frame_descriptions,
)
from session_wire import AUDIO, Wire

pytestmark = [
    pytest.mark.gui,
    # The offscreen platform says so whenever a shown window's layout sets its minimum size.
    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints"),
]


def inserts(model: QAbstractItemModel) -> list[tuple[int, int]]:
    seen: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: seen.append((first, last)))
    return seen


def column(model: QAbstractItemModel, col: int, role: int = Qt.ItemDataRole.DisplayRole) -> list[Any]:
    return [model.index(row, col).data(role) for row in range(model.rowCount())]


def two_contexts(wire: Wire) -> None:
    """Context a: two flushed segments with audio. Context b: one segment whose flush_done never comes and
    a chunk with no flush_id (an anomaly)."""
    wire.connect()
    wire.send("a", "Hello there. ")
    wire.flush("a")
    wire.send("b", "Other voice.")
    wire.send("a", "How are you?")
    wire.flush("a")
    wire.flush("b")
    wire.chunk("a", 1)
    wire.chunk("b", None)
    wire.chunk("a", 1)
    wire.words("a", 1, ["Hello", "there."])
    wire.flush_done("a", 1)
    wire.chunk("a", 2)
    wire.flush_done("a", 2)
    wire.end("a")
    wire.done("a")


# --- models -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_class", [TranscriptsModel, FramesModel, AnomaliesModel])
def test_models_pass_the_model_tester_empty_filled_and_while_growing(
    qtmodeltester: Any, bridge: SessionBridge, wire: Wire, model_class: type[QAbstractItemModel]
) -> None:
    model = model_class(bridge)  # type: ignore[call-arg]
    qtmodeltester.check(model)
    two_contexts(wire)
    bridge.flush()
    assert model.rowCount() > 0
    wire.chunk("b", None)
    wire.send("a", "reused after done")
    wire.chunk("a", 3)
    bridge.flush()
    qtmodeltester.check(model, force_py=True)
    for row in range(model.rowCount()):
        for col in range(model.columnCount()):
            assert isinstance(model.index(row, col).data(), str)


def test_transcripts_rows_appear_in_order_with_inclusive_inserts(bridge: SessionBridge, wire: Wire) -> None:
    model = TranscriptsModel(bridge)
    seen = inserts(model)
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, _roles: changed.append((top.row(), bottom.row())))
    wire.send("a", "one ")
    wire.send("b", "two ")
    bridge.flush()
    assert seen == [(0, 1)]
    assert column(model, TranscriptsModel.TEXT) == ["one ", "two "]
    wire.send("a", "more")
    wire.flush("a")  # opens a third, empty segment in a: not worth a row
    bridge.flush()
    assert seen == [(0, 1)]
    assert changed == [(0, 0)]
    assert model.rowCount() == 2
    wire.send("a", "three")
    wire.chunk("a", 1)
    bridge.flush()
    assert seen == [(0, 1), (2, 2)]
    segment = model.index(2, TranscriptsModel.PLAY).data(SEGMENT_ROLE)
    assert segment is wire.session.contexts[0].segments[1]
    assert model.row_for_segment(segment) == 2
    assert model.row_for_segment(wire.session.contexts[0].segments[0]) == 0
    assert [model.index(0, c).data(SEGMENT_ROLE) for c in range(model.columnCount())] == [
        wire.session.contexts[0].segments[0]
    ] * model.columnCount()
    assert model.index(0, TranscriptsModel.CONTEXT).data() == "1 · a"
    assert model.index(0, TranscriptsModel.FLUSH_ID).data() == "1"
    assert model.index(0, TranscriptsModel.TEXT).data(Qt.ItemDataRole.ToolTipRole) == "one \nmore"
    assert model.index(0, TranscriptsModel.CHUNKS).data() == "1"


def test_transcripts_columns_show_timings(bridge: SessionBridge, wire: Wire) -> None:
    model = TranscriptsModel(bridge)
    wire.t = 1.0
    wire.send("a", "Hello.")  # t = 1.01
    wire.flush("a")  # 1.02
    wire.chunk("a", 1, dt=0.25)  # 1.27
    wire.flush_done("a", 1)  # 1.28
    bridge.flush()
    assert model.index(0, TranscriptsModel.SENT).data() == "1.010 s"
    assert model.index(0, TranscriptsModel.FIRST_AUDIO).data() == "260 ms"
    assert model.index(0, TranscriptsModel.FLUSH_DONE).data() == "260 ms"
    assert model.index(0, TranscriptsModel.SECONDS).data() == "0.10"
    assert model.index(0, TranscriptsModel.STATE).data() == "closed"
    assert model.index(0, TranscriptsModel.PLAY).data() == "▶"
    assert model.index(0, TranscriptsModel.FIRST_AUDIO).data(Qt.ItemDataRole.TextAlignmentRole)


def test_sorting_by_time_to_first_audio_keeps_segments_without_audio_last(
    bridge: SessionBridge, wire: Wire
) -> None:
    for name, delay in (("slow", 0.5), ("silent", None), ("fast", 0.1), ("mid", 0.3)):
        wire.send(name, f"{name}.")
        if delay is not None:
            wire.chunk(name, 1, dt=delay)
    bridge.flush()
    model = TranscriptsModel(bridge)
    proxy = SortProxy()
    proxy.setSourceModel(model)
    proxy.sort(TranscriptsModel.FIRST_AUDIO, Qt.SortOrder.AscendingOrder)
    assert column(proxy, TranscriptsModel.TEXT) == ["fast.", "mid.", "slow.", "silent."]
    proxy.sort(TranscriptsModel.FIRST_AUDIO, Qt.SortOrder.DescendingOrder)
    assert column(proxy, TranscriptsModel.TEXT) == ["slow.", "mid.", "fast.", "silent."]
    proxy.sort(TranscriptsModel.CHUNKS, Qt.SortOrder.AscendingOrder)
    assert column(proxy, TranscriptsModel.TEXT)[0] == "silent."
    proxy.sort(-1)
    assert column(proxy, TranscriptsModel.TEXT) == ["slow.", "silent.", "fast.", "mid."]


def test_frames_rows_describe_each_frame(bridge: SessionBridge, wire: Wire) -> None:
    model = FramesModel(bridge)
    seen = inserts(model)
    two_contexts(wire)
    wire.cancel("b")
    wire.error("b", "boom")
    wire.close(1006, "gone")
    bridge.flush()
    frames = wire.session.frames
    assert seen == [(0, len(frames) - 1)]
    assert column(model, 0, FRAME_INDEX_ROLE) == list(range(len(frames)))
    types = column(model, FramesModel.TYPE)
    assert types == [
        "connect", "transcript", "flush", "transcript", "transcript", "flush", "flush", "chunk", "chunk",
        "chunk", "timestamps", "flush_done", "chunk", "flush_done", "end", "done", "cancel", "error", "close",
    ]  # fmt: skip
    assert column(model, FramesModel.DIRECTION)[:2] == ["• meta", "→ send"]
    assert column(model, FramesModel.DIRECTION)[7] == "← recv"
    assert column(model, FramesModel.CONTEXT)[1:4] == ["1 · a", "1 · a", "2 · b"]
    # Server frames show the flush_id they carried; sent frames the segment they went into.
    assert column(model, FramesModel.FLUSH_ID)[7:14] == ["1", "", "1", "1", "1", "2", "2"]
    assert column(model, FramesModel.FLUSH_ID)[1:7] == ["1", "1", "~1", "2", "2", "~1"]
    summaries = column(model, FramesModel.SUMMARY)
    assert summaries[1] == '"Hello there. "'
    assert summaries[2] == "flush"
    assert summaries[7] == "4800 bytes audio (100 ms)"
    assert summaries[10] == "words: Hello there."
    assert summaries[17] == "400 Invalid request: boom"
    assert summaries[18] == "close 1006 gone"
    # Sizes are those of the frames as they went over the wire, base64 included.
    sizes = column(model, FramesModel.SIZE)
    chunk_text = wire.session.frame_text(7, elide_audio=False)
    assert sizes[7] == str(len(chunk_text))
    assert chunk_text == frames[7].text and len(chunk_text) > len(AUDIO) * 4 // 3
    assert sizes[1] == str(len(frames[1].text))
    assert set(model.types()) == set(types)


def test_frames_inserts_follow_the_bridge_batches(bridge: SessionBridge, wire: Wire) -> None:
    wire.send("a", "before the model")
    model = FramesModel(bridge)
    seen = inserts(model)
    assert model.rowCount() == 1
    bridge.flush()  # announces frame 0, which the model already read
    assert seen == []
    wire.send("a", "x")
    wire.chunk("a", 1)
    wire.chunk("a", 1)
    bridge.flush()
    wire.flush_done("a", 1)
    bridge.flush()
    assert seen == [(1, 3), (4, 4)]
    assert model.rowCount() == 5


def filtered(proxy: FramesFilterProxy) -> list[int]:
    return [proxy.index(row, 0).data(FRAME_INDEX_ROLE) for row in range(proxy.rowCount())]


def expected_rows(session: Session, keep: Callable[[int, dict[str, Any]], bool]) -> list[int]:
    return [f.index for f in session.frames if keep(f.index, json.loads(session.frame_text(f.index)))]


def test_frames_filter_by_context_type_direction_and_flush_id(bridge: SessionBridge, wire: Wire) -> None:
    model = FramesModel(bridge)
    proxy = FramesFilterProxy(model)
    two_contexts(wire)
    bridge.flush()
    session = wire.session
    a, b = session.contexts
    assert filtered(proxy) == list(range(len(session.frames)))

    proxy.set_filter(context=b.number)
    assert filtered(proxy) == b.frames
    proxy.set_filter(types={"chunk"})
    assert filtered(proxy) == expected_rows(session, lambda _i, o: o.get("type") == "chunk")
    proxy.set_filter(direction=Direction.SEND)
    assert filtered(proxy) == [f.index for f in session.frames if f.dir is Direction.SEND]
    proxy.set_filter(context=a.number, types={"chunk", "flush_done"})
    assert filtered(proxy) == [7, 9, 11, 12, 13]
    # flush_id 2: the server frames carrying it, and the inputs sent into a's second segment.
    proxy.set_filter(flush_id=2)
    assert filtered(proxy) == [4, 5, 12, 13]
    proxy.set_filter(flush_id=2, direction=Direction.RECV)
    assert filtered(proxy) == [12, 13]

    # Rows appended while a filter is on are checked one by one, with the same answer.
    proxy.set_filter(context=a.number, direction=Direction.RECV)
    before = len(session.frames)
    wire.chunk("a", 3)
    wire.chunk("b", None)
    wire.words("a", 3, ["late"])
    bridge.flush()
    assert filtered(proxy)[-2:] == [before, before + 2]
    proxy.set_filter()
    proxy.set_filter(context=a.number, direction=Direction.RECV)
    assert filtered(proxy)[-2:] == [before, before + 2]
    for row in range(len(session.frames)):
        assert model.accepts(row, proxy.filter) == bool(model.filter_mask(proxy.filter)[row])


def test_anomalies_model_appends_and_refreshes_counts(bridge: SessionBridge, wire: Wire) -> None:
    model = AnomaliesModel(bridge)
    seen = inserts(model)
    counts: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, _roles: counts.append((top.column(), bottom.column())))
    two_contexts(wire)
    bridge.flush()
    assert seen == [(0, 0)]
    anomaly = model.index(0, 0).data(ANOMALY_ROLE)
    assert anomaly.kind is AnomalyKind.MISSING_FLUSH_ID
    assert model.index(0, AnomaliesModel.COUNT).data() == "1"
    assert not model.index(0, AnomaliesModel.SEVERITY).data(Qt.ItemDataRole.DecorationRole).isNull()
    wire.chunk("b", None)
    bridge.flush()
    assert counts == [(AnomaliesModel.COUNT, AnomaliesModel.COUNT)]
    assert model.index(0, AnomaliesModel.COUNT).data() == "2"
    wire.error("b", "boom")
    wire.add(Direction.RECV, {"type": "mystery", "context_id": "a"})
    bridge.flush()
    assert seen == [(0, 0), (1, len(wire.session.anomalies) - 1)]
    assert len(wire.session.anomalies) >= 3


def test_models_reset_only_when_the_session_is_replaced(bridge: SessionBridge, wire: Wire) -> None:
    two_contexts(wire)
    bridge.flush()
    models = [TranscriptsModel(bridge), FramesModel(bridge), AnomaliesModel(bridge)]
    resets = [0]
    for model in models:
        model.modelReset.connect(lambda: resets.__setitem__(0, resets[0] + 1))
    wire.chunk("a", 2)
    bridge.flush()
    assert resets == [0]
    other = Wire()
    other.send("z", "elsewhere")
    bridge.set_session(other.session)
    assert resets == [3]
    assert [m.rowCount() for m in models] == [1, 1, 0]


# --- panels -------------------------------------------------------------------------------------------


@pytest.fixture
def selection(qapp: QApplication) -> Iterator[Selection]:
    selection = Selection()
    yield selection
    selection.deleteLater()


def click(qtbot: QtBot, view: QAbstractItemView, index: QModelIndex) -> None:
    view.scrollTo(index)
    center = view.visualRect(index).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=center)


def shown(qtbot: QtBot, widget: Any) -> Any:
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_selecting_a_transcript_row_selects_its_segment(
    qtbot: QtBot, bridge: SessionBridge, wire: Wire, selection: Selection
) -> None:
    two_contexts(wire)
    bridge.flush()
    panel = shown(qtbot, TranscriptsPanel(bridge, selection))
    second = wire.session.contexts[0].segments[1]
    index = panel.proxy.mapFromSource(panel.model.index(panel.model.row_for_segment(second), 0))
    with qtbot.waitSignal(selection.selectionChanged):
        click(qtbot, panel.view, index)
    assert selection.segment is second
    assert selection.context is second.context


def test_selection_made_elsewhere_is_shown_without_echo(
    qtbot: QtBot, bridge: SessionBridge, wire: Wire, selection: Selection
) -> None:
    two_contexts(wire)
    bridge.flush()
    panel = shown(qtbot, TranscriptsPanel(bridge, selection))
    panel.view.sortByColumn(TranscriptsModel.TEXT, Qt.SortOrder.DescendingOrder)
    changes: list[int] = []
    selection.selectionChanged.connect(lambda: changes.append(1))
    target = wire.session.contexts[1].segments[0]
    selection.select_segment(target)
    assert changes == [1]
    assert panel.selected_segment() is target
    # A segment that gets its row later is selected when the row appears.
    later = wire.session.contexts[0].segments[2]
    selection.select_segment(later)
    assert panel.selected_segment() is None
    wire.chunk("a", 3)  # late audio (after done) for that segment
    bridge.flush()
    assert panel.selected_segment() is later
    assert changes == [1, 1]


def test_play_is_requested_from_the_play_cell_and_enter(
    qtbot: QtBot, bridge: SessionBridge, wire: Wire, selection: Selection
) -> None:
    two_contexts(wire)
    bridge.flush()
    panel = shown(qtbot, TranscriptsPanel(bridge, selection))
    played: list[object] = []
    panel.playRequested.connect(played.append)
    first = wire.session.contexts[0].segments[0]
    play = panel.proxy.mapFromSource(
        panel.model.index(panel.model.row_for_segment(first), TranscriptsModel.PLAY)
    )
    click(qtbot, panel.view, play)
    assert played == [first]
    selection.select_segment(wire.session.contexts[0].segments[1])
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_Return)
    assert played == [first, wire.session.contexts[0].segments[1]]


def test_clicking_an_anomaly_selects_its_segment_and_highlights_its_frames(
    qtbot: QtBot, bridge: SessionBridge, wire: Wire, selection: Selection
) -> None:
    two_contexts(wire)
    wire.chunk("a", 2)  # after flush_done 2 and after done: two more anomalies for segment 2 of a
    bridge.flush()
    anomalies = shown(qtbot, AnomaliesPanel(bridge, selection))
    frames_panel = shown(qtbot, FramesPanel(bridge, selection))
    session = wire.session
    row = next(i for i, a in enumerate(session.anomalies) if a.kind is AnomalyKind.CHUNK_AFTER_FLUSH_DONE)
    anomaly = session.anomalies[row]
    with qtbot.waitSignal(selection.framesHighlighted) as blocker:
        click(qtbot, anomalies.view, anomalies.proxy.index(row, AnomaliesModel.MESSAGE))
    assert blocker.args == [anomaly.frames]
    assert selection.segment is session.contexts[0].segments[1]
    assert frames_panel.selected_frames() == anomaly.frames
    assert not frames_panel.follow_check.isChecked()
    # Clicking the same row again goes there again; so does moving to a row with the keyboard.
    with qtbot.waitSignal(selection.framesHighlighted):
        click(qtbot, anomalies.view, anomalies.proxy.index(row, AnomaliesModel.KIND))
    missing = 0
    assert session.anomalies[missing].kind is AnomalyKind.MISSING_FLUSH_ID
    with qtbot.waitSignal(selection.framesHighlighted) as blocker:
        anomalies.view.setCurrentIndex(anomalies.proxy.index(missing, 0))
    # No flush_id on the anomaly: its segment is found from its frame.
    assert selection.segment is session.contexts[1].segments[0]


def test_frame_detail_shows_audio_as_its_byte_count_and_copies(
    qtbot: QtBot, bridge: SessionBridge, wire: Wire, selection: Selection
) -> None:
    two_contexts(wire)
    bridge.flush()
    panel = shown(qtbot, FramesPanel(bridge, selection))
    chunk = wire.session.chunk_frames(wire.session.contexts[0].segments[0])[0]
    panel.highlight_frames([chunk])
    text = panel.detail.toPlainText()
    assert '"data": "<4800 bytes>"' in text
    assert base64.b64encode(AUDIO).decode()[:40] not in text
    assert json.loads(text)["flush_id"] == 1
    assert f"frame {chunk}" in panel.detail_label.text()
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == text
    assert pretty_frame_text("not json") == "not json"


def test_frames_panel_filters_follow_and_segment_selection(
    qtbot: QtBot, bridge: SessionBridge, wire: Wire, selection: Selection
) -> None:
    two_contexts(wire)
    bridge.flush()
    panel = shown(qtbot, FramesPanel(bridge, selection))
    assert [panel.context_combo.itemText(i) for i in range(panel.context_combo.count())] == [
        "all contexts",
        "1 · a",
        "2 · b",
    ]
    assert "flush_done" in [panel.type_combo.itemText(i) for i in range(panel.type_combo.count())]
    panel.context_combo.setCurrentIndex(2)
    assert filtered(panel.proxy) == wire.session.contexts[1].frames
    panel.context_combo.setCurrentIndex(0)
    panel.type_combo.setCurrentIndex(panel.type_combo.findData("chunk"))
    panel.flush_spin.setValue(1)
    panel.direction_combo.setCurrentIndex(panel.direction_combo.findData("recv"))
    assert filtered(panel.proxy) == [7, 9]
    panel.clear_filters()
    assert panel.proxy.rowCount() == len(wire.session.frames)

    # Following the live end: new frames scroll into view.
    for i in range(60):
        wire.send("c", f"line {i}")
    bridge.flush()
    last = panel.proxy.index(panel.proxy.rowCount() - 1, 0)
    assert panel.view.viewport().rect().intersects(panel.view.visualRect(last))
    assert panel.context_combo.count() == 4
    panel.view.verticalScrollBar().triggerAction(QAbstractSlider.SliderAction.SliderPageStepSub)
    assert not panel.follow_check.isChecked()
    panel.follow_check.setChecked(True)
    assert panel.view.verticalScrollBar().value() == panel.view.verticalScrollBar().maximum()
    wire.send("d", "new context, new item")
    bridge.flush()
    assert panel.context_combo.count() == 5

    # Selecting a segment elsewhere goes to its first chunk.
    segment = wire.session.contexts[0].segments[1]
    selection.select_segment(segment)
    first_chunk = wire.session.chunk_frames(segment)[0]
    assert panel.selected_frames() == [first_chunk]
    first = panel.proxy.index(panel.proxy.proxy_row(first_chunk), 0)
    assert panel.view.viewport().rect().intersects(panel.view.visualRect(first))


def test_panels_start_over_when_a_capture_is_opened(
    qtbot: QtBot, bridge: SessionBridge, wire: Wire, selection: Selection
) -> None:
    two_contexts(wire)
    bridge.flush()
    frames_panel = shown(qtbot, FramesPanel(bridge, selection))
    transcripts = shown(qtbot, TranscriptsPanel(bridge, selection))
    anomalies = shown(qtbot, AnomaliesPanel(bridge, selection))
    frames_panel.context_combo.setCurrentIndex(2)
    frames_panel.highlight_frames([frames_panel.proxy.source_row(0)])
    assert frames_panel.detail.toPlainText()
    other = Wire()
    other.turn("x", ["Only this."])
    bridge.set_session(other.session)
    assert frames_panel.context_combo.count() == 2
    assert frames_panel.context_combo.currentIndex() == 0
    assert frames_panel.proxy.rowCount() == len(other.session.frames)
    assert frames_panel.detail.toPlainText() == ""
    assert transcripts.proxy.rowCount() == 1
    assert anomalies.proxy.rowCount() == 0
    other.send("y", "live again")
    bridge.flush()
    assert frames_panel.context_combo.count() == 3
    assert transcripts.proxy.rowCount() == 2


def test_a_large_session_is_parsed_once(
    qtbot: QtBot, bridge: SessionBridge, selection: Selection, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real_load = frame_descriptions._load

    def counting_load(text: str) -> dict[str, Any] | None:
        parsed.append(text)
        return real_load(text)

    monkeypatch.setattr(frame_descriptions, "_load", counting_load)
    panel = shown(qtbot, FramesPanel(bridge, selection))
    wire = Wire(bridge.session)
    contexts = 0
    while len(wire.session.frames) < 50_000:
        # A batch as one tick would see it: a few contexts of ten segments, mostly audio.
        for _ in range(5):
            name = f"ctx{contexts}"
            contexts += 1
            wire.turn(name, [f"Sentence {i}." for i in range(10)], chunks=8)
        bridge.flush()
    session = wire.session
    chunk_frames = session.chunks.size
    assert len(parsed) == len(session.frames) - chunk_frames

    panel.direction_combo.setCurrentIndex(panel.direction_combo.findData("recv"))
    panel.type_combo.setCurrentIndex(panel.type_combo.findData("flush_done"))
    assert panel.proxy.rowCount() == contexts * 10
    panel.clear_filters()
    panel.flush_spin.setValue(3)
    assert panel.proxy.rowCount() == contexts * 11  # 8 chunks, flush_done, and the send and flush
    panel.clear_filters()
    view = panel.view
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        bar = view.verticalScrollBar()
        bar.setValue(int(bar.maximum() * fraction))
        view.viewport().grab()
    assert len(parsed) == len(session.frames) - chunk_frames


def test_the_bridge_keeps_ticking_when_its_rate_is_asked_for_over_and_over(
    qtbot: QtBot, bridge: SessionBridge
) -> None:
    # A capture being opened asks for the rate on every step, faster than a tick.
    ticks: list[None] = []
    bridge.ticked.connect(lambda: ticks.append(None))
    asker = QTimer()
    asker.setInterval(5)
    asker.timeout.connect(lambda: bridge.set_rate(20.0))
    asker.start()
    try:
        qtbot.waitUntil(lambda: len(ticks) >= 3, timeout=5000)
    finally:
        asker.stop()
