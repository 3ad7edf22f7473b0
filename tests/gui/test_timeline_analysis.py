"""The timeline's "since first send" axis, and the analysis on it: boundary and advice markers."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from flushscope.core.analysis.boundaries import session_boundaries
from flushscope.core.analysis.lint_cache import lint_session
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.look.palette import is_dark, warning_colour
from flushscope.ui.timeline import AxisMode, TimelineView
from flushscope.ui.widgets.timeline_controls import TimelineControls
from session_wire import Wire
from window_support import shown_timeline

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]

TEXTS = ["Hello there. ", "How are you? ", "Fine, thanks."]


@pytest.fixture
def setup(qtbot: QtBot) -> Iterator[tuple[TimelineView, SessionBridge, Selection, Wire]]:
    """Three contexts with the same timings, started 0.2 s, 1.0 s and 3.0 s after the previous one ended."""
    wire = Wire()
    wire.connect()
    for name, pause in (("alpha", 0.2), ("bravo", 1.0), ("charlie", 3.0)):
        wire.t += pause
        wire.turn(name, TEXTS, chunks=3)
    yield (*shown_timeline(qtbot, wire.session), wire)


def first_rows(wire: Wire) -> list[int]:
    return [ctx.segments[0].chunk_rows[0] for ctx in wire.session.contexts]


def marker_point(view: TimelineView, lane: int, value: float) -> QPoint:
    return QPoint(round(view.x_for(value)), view.lane_rect(lane).top() + 6)


def test_since_first_send_lines_up_contexts_started_at_different_times(
    qtbot: QtBot, setup: tuple[TimelineView, SessionBridge, Selection, Wire]
) -> None:
    view, _, _, wire = setup
    rows = first_rows(wire)
    arrival = [view.chunk_rect(row) for row in rows]
    assert all(r is not None for r in arrival)
    assert arrival[0].left() < arrival[1].left() < arrival[2].left()  # type: ignore[union-attr]
    with qtbot.waitSignal(view.axisModeChanged) as blocker:
        view.set_axis_mode(AxisMode.SINCE_SEND)
    assert blocker.args == [AxisMode.SINCE_SEND]
    view.fit_all()
    v0, v1 = view.visible_range()
    contexts = wire.session.contexts
    assert v0 < 0.0 < v1
    # The same timings from each context's first send: the blocks line up, at their offset from it.
    since = [view.chunk_rect(row) for row in rows]
    offset = float(wire.session.chunks.column("t")[rows[0]]) - contexts[0].first_t
    for rect in since:
        assert rect is not None
        assert rect.left() == pytest.approx(view.x_for(offset))
        assert rect.width() == pytest.approx(since[0].width())  # type: ignore[union-attr]
    last = contexts[2].segments[2].chunk_rows[-1]
    end = view.chunk_rect(last)
    assert end is not None and end.right() <= view.lane_rect(2).right()
    # Markers move with their lane: each context's first transcript is at 0.
    for lane in range(3):
        view.set_visible_range(-0.02, 0.02)
        text = view.describe_at(marker_point(view, lane, 0.0))
        assert text is not None and text.startswith(f"transcript sent at {contexts[lane].first_t:.3f} s")
    # The playhead and "play from here" read the same axis.
    view.fit_all()
    seconds = contexts[1].segments[1].start_sample / 24000 + 0.05  # type: ignore[operator]
    view.set_playhead(contexts[1], seconds)
    line = view._playhead_line()
    assert line is not None
    found = view.audio_position_at(QPoint(round(line.x1()), view.block_rect(1).center().y()))
    per_pixel = (v1 - v0) / view.lane_rect(1).width()
    assert found is not None and found[0] is contexts[1]
    # A block shows 0.1 s of audio in the 0.01 s until the next chunk: a pixel is ten times that in audio.
    assert found[1] == pytest.approx(seconds, abs=2 * per_pixel * 0.1 / 0.01)
    view.set_axis_mode(AxisMode.ARRIVAL)
    assert view.chunk_rect(rows[2]) == arrival[2]


def test_the_axis_controls_and_the_a_key_go_through_all_three_modes(
    qtbot: QtBot, setup: tuple[TimelineView, SessionBridge, Selection, Wire]
) -> None:
    view, _, _, _ = setup
    follow = QAction("Follow", view)
    follow.setCheckable(True)
    controls = TimelineControls(view, QAction("Fit", view), follow, QWidget())
    qtbot.addWidget(controls)
    controls.show()
    assert controls.arrival_button.isChecked()
    controls.since_button.click()
    assert view.axis_mode() is AxisMode.SINCE_SEND
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_A)
    assert view.axis_mode() is AxisMode.ARRIVAL and controls.arrival_button.isChecked()
    QTest.keyClick(view, Qt.Key.Key_A)
    assert view.axis_mode() is AxisMode.AUDIO and controls.audio_button.isChecked()
    QTest.keyClick(view, Qt.Key.Key_A)
    assert view.axis_mode() is AxisMode.SINCE_SEND and controls.since_button.isChecked()
    assert [b.text() for b in (controls.arrival_button, controls.audio_button, controls.since_button)] == [
        "Arrival time",
        "Audio position",
        "Since first send",
    ]


# --- the analysis on the timeline -------------------------------------------------------------------


def tone(step: int) -> bytes:
    return ((np.arange(2400) * step) % 20000 - 10000).astype("<i2").tobytes()


@pytest.fixture
def analysed(qtbot: QtBot) -> Iterator[tuple[TimelineView, Selection, Wire]]:
    """One context: "Hello there, my" and "friend. " run together; three segments, the second silent (so
    both its boundaries are outliers); then a context with one plain boundary."""
    wire = Wire()
    wire.send("a", "Hello there, my", max_buffer_delay_ms=3000)
    wire.send("a", "friend, how are you? ")
    wire.flush("a")
    wire.send("a", "Then more words. ")
    wire.flush("a")
    wire.send("a", "And the end.")
    wire.flush("a")
    wire.end("a")
    wire.chunk("a", 1, tone(3))
    wire.chunk("a", 2, bytes(4800))
    wire.chunk("a", 3, tone(5))
    wire.t += 0.5
    wire.turn("b", ["Loud one, ", "loud two."])
    bridge = SessionBridge(wire.session)
    selection = Selection()
    view = TimelineView(bridge, selection)
    qtbot.addWidget(view)
    view.resize(1000, 400)
    view.show()
    bridge.flush()
    view.set_analysis(lint_session(wire.session), session_boundaries(wire.session))
    yield view, selection, wire


def test_boundaries_are_marked_where_the_next_segment_starts_on_both_axes(
    qtbot: QtBot, analysed: tuple[TimelineView, Selection, Wire]
) -> None:
    view, selection, wire = analysed
    a, b = wire.session.contexts
    plain = b.segments[1]
    t = wire.session.frames[wire.session.chunk_frames(plain)[0]].t
    view.set_visible_range(t - 0.05, t + 0.05)
    text = view.describe_at(marker_point(view, 1, t))
    assert text is not None and text.startswith("flush boundary 1 → 2 of context #2 b")
    assert "arrival gap" in text and "outlier" not in text
    image = view.grab().toImage()
    x, top = round(view.x_for(t)), view.lane_rect(1).top()
    assert image.pixelColor(x, top + 6).lightnessF() < 0.8  # the I-beam's stem, in the faint ink
    # Clicking the marker selects the segment after the boundary.
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=marker_point(view, 1, t))
    assert selection.segment is plain

    # In audio mode the marker sits at the boundary's own position in the audio.
    view.set_axis_mode(AxisMode.AUDIO)
    at = a.segments[1].start_sample / 24000  # type: ignore[operator]
    view.set_visible_range(at - 0.02, at + 0.02)
    text = view.describe_at(marker_point(view, 0, at))
    assert text is not None and text.startswith("flush boundary 1 → 2 of context #1 a")
    assert "outlier:" in text and "silent" in text
    image = view.grab().toImage()
    colour = image.pixelColor(round(view.x_for(at)), view.lane_rect(0).top() + 2)
    assert colour == warning_colour(is_dark(view.palette()))


def test_advice_is_marked_at_its_first_frame(analysed: tuple[TimelineView, Selection, Wire]) -> None:
    view, _, wire = analysed
    lint = lint_session(wire.session)[0]
    t = wire.session.frames[lint.frames[0]].t
    view.set_visible_range(t - 0.003, t + 0.003)
    text = view.describe_at(marker_point(view, 0, t))
    assert text is not None and text.startswith("advice [continuation-no-space]")
    assert "What to do:" in text
    image = view.grab().toImage()
    disc = image.pixelColor(round(view.x_for(t)) + 1, view.lane_rect(0).top() + 7)
    assert disc == view.palette().highlight().color()
    # Findings replaced by none: the markers go.
    view.set_analysis([], [])
    text = view.describe_at(marker_point(view, 0, t))
    assert text is None or not text.startswith("advice")
    assert (
        QColor(view.grab().toImage().pixelColor(round(view.x_for(t)) + 1, view.lane_rect(0).top() + 7))
        != disc
    )
