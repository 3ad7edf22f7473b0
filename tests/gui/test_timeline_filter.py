"""The timeline narrowed to one connection's contexts (offscreen): lanes, hit tests, playhead, selection,
fitting and markers follow the lanes shown; clearing the filter brings every lane back."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QPalette
from pytestqt.qtbot import QtBot

from flushscope.core.model.records import Context
from flushscope.core.model.session import Session
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.timeline import AxisMode, TimelineView
from session_wire import Wire
from window_support import shown_timeline

Setup = tuple[TimelineView, SessionBridge, Selection, Session]


def two_connections() -> Session:
    """Contexts a (connection 1), b (2), c (1), d (2), one after the other; connection 1's last context
    goes on well after connection 2's."""
    one = Wire(conn=1)
    two = Wire(one.session, conn=2)
    one.connect()
    two.connect()
    for wire, name, texts in (
        (one, "a", ["One. ", "Two. "]),
        (two, "b", ["Three. "]),
        (one, "c", ["Four. "]),
    ):
        wire.t = max(one.t, two.t) + 0.2
        wire.turn(name, texts, chunks=3)
    two.t = one.t + 0.2
    two.turn("d", ["Five. ", "Six. "], chunks=3)
    one.t = two.t + 5.0
    one.turn("e", ["Seven. "], chunks=2)
    return one.session


@pytest.fixture
def setup(qtbot: QtBot) -> Iterator[Setup]:
    session = two_connections()
    yield (*shown_timeline(qtbot, session), session)


def context(session: Session, name: str) -> Context:
    found = session.context(name)
    assert found is not None
    return found


def centre(view: TimelineView, row: int) -> QPoint:
    rect = view.chunk_rect(row)
    assert rect is not None
    return rect.center().toPoint()


def test_a_filter_shows_that_connections_lanes_stacked_without_gaps(qtbot: QtBot, setup: Setup) -> None:
    view, _, _, session = setup
    b, d = context(session, "b"), context(session, "d")
    assert view.lane_count() == 5

    with qtbot.waitSignal(view.connectionFilterChanged) as blocker:
        view.set_connection_filter(2)

    assert blocker.args == [2]
    assert view.connection_filter() == 2
    assert view.lane_count() == 2
    assert [view.lane_context(i) for i in range(2)] == [b, d]
    assert [view.lane_index(ctx) for ctx in session.contexts] == [None, 0, None, 1, None]
    upper, lower = view.lane_rect(0), view.lane_rect(1)
    assert lower.top() == upper.bottom() + 1 and upper.height() == lower.height()
    assert view.rect().contains(upper) and view.rect().contains(lower)
    # The chunks of hidden lanes are nowhere; the shown ones sit in their new rows.
    assert view.chunk_rect(context(session, "a").segments[0].chunk_rows[0]) is None
    rect = view.chunk_rect(d.segments[1].chunk_rows[0])
    assert rect is not None and view.block_rect(1).contains(rect.center().toPoint())


def test_setting_the_same_filter_again_changes_nothing(qtbot: QtBot, setup: Setup) -> None:
    view, _, _, _ = setup
    view.set_connection_filter(1)
    with qtbot.assertNotEmitted(view.connectionFilterChanged):
        view.set_connection_filter(1)
    assert view.lane_count() == 3


def test_hit_tests_hover_and_clicks_follow_the_rows(qtbot: QtBot, setup: Setup) -> None:
    view, _, selection, session = setup
    view.set_connection_filter(2)
    view.fit_all()
    d = context(session, "d")
    target = d.segments[1]
    point = centre(view, target.chunk_rows[1])
    assert view.lane_rect(1).contains(point)

    assert view.segment_at(point) is target
    text = view.describe_at(point)
    assert text is not None and text.startswith("context #4 d · flush_id 2")
    with qtbot.waitSignal(selection.selectionChanged):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point)
    assert selection.segment is target
    # A click on the empty part of the first row selects its context: b, not a.
    empty = QPoint(view.lane_rect(0).right() - 2, view.block_rect(0).center().y())
    assert view.segment_at(empty) is None
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=empty)
    assert selection.context is context(session, "b")


def test_markers_are_found_on_the_rows_shown(setup: Setup) -> None:
    view, _, _, session = setup
    view.set_connection_filter(2)
    d = context(session, "d")
    sent = d.segments[0].transcripts[0]
    view.set_visible_range(sent.t - 0.01, sent.t + 0.01)
    text = view.describe_at(QPoint(round(view.x_for(sent.t)), view.lane_rect(1).top() + 6))
    assert text is not None and text.startswith("transcript sent") and "Five." in text
    # Nothing of connection 1 is drawn in the first row at that time (it had no context then).
    assert view.describe_at(QPoint(round(view.x_for(sent.t)), view.lane_rect(0).top() + 6)) is None


def test_the_playhead_is_drawn_in_its_contexts_row_or_not_at_all(setup: Setup) -> None:
    view, _, _, session = setup
    view.set_connection_filter(2)
    d = context(session, "d")
    view.set_playhead(d, 0.15)
    line = view._playhead_line()
    assert line is not None
    row = view.lane_rect(1)
    assert row.top() <= line.y1() < line.y2() <= row.bottom() + 1
    found = view.audio_position_at(QPoint(round(line.x1()), view.block_rect(1).center().y()))
    assert found is not None and found[0] is d

    view.set_playhead(context(session, "a"), 0.15)
    assert view._playhead_line() is None


def test_fit_all_fits_the_lanes_shown(setup: Setup) -> None:
    view, _, _, session = setup
    everything = view.visible_range()
    view.set_connection_filter(2)
    view.fit_all()
    v0, v1 = view.visible_range()
    b, d = context(session, "b"), context(session, "d")
    assert v0 < b.first_t and v0 > everything[0]
    done = d.done_t
    assert done is not None and v1 > done
    assert v1 < everything[1] - 4.0  # connection 1's last context, five seconds later, is left out
    view.set_axis_mode(AxisMode.AUDIO)
    view.fit_all()
    assert view.visible_range()[1] == pytest.approx(0.6 * 1.02, abs=0.01)  # d's six chunks of 0.1 s


def test_the_selection_is_outlined_in_its_row_and_scrolled_to(setup: Setup) -> None:
    view, _, selection, session = setup
    d = context(session, "d")
    target = d.segments[0]
    view.set_connection_filter(2)
    view.fit_all()
    selection.select_segment(target)
    rect = view.chunk_rect(target.chunk_rows[0])
    assert rect is not None
    image = view.grab().toImage()
    outline = image.pixelColor(round(rect.center().x()), view.block_rect(1).top() - 2)
    assert outline == view.palette().color(QPalette.ColorRole.Text)
    # A selection on a hidden lane draws nothing: the picture is as with no selection.
    selection.clear()
    plain = view.grab().toImage()
    selection.select_segment(context(session, "a").segments[0])
    assert view.grab().toImage() == plain


def test_the_gutter_labels_follow_the_rows(setup: Setup) -> None:
    view, _, _, _ = setup
    gutter = view.lane_rect(0).left() - 1
    d_before = view.grab().toImage().copy(0, view.lane_rect(3).top(), gutter, view.lane_rect(3).height())
    view.set_connection_filter(2)
    d_after = view.grab().toImage().copy(0, view.lane_rect(1).top(), gutter, view.lane_rect(1).height())
    b_after = view.grab().toImage().copy(0, view.lane_rect(0).top(), gutter, view.lane_rect(0).height())
    # Both odd rows: the same label, drawn at its new row; the first row's is another one.
    assert d_before.size() == d_after.size()
    assert d_after == d_before
    assert b_after != d_after


def test_new_contexts_join_their_connections_rows_only(setup: Setup) -> None:
    view, bridge, _, session = setup
    view.set_connection_filter(2)
    later = Wire(session, conn=1)
    later.t = session.duration + 0.5
    later.turn("f", ["Eight. "], chunks=1)
    bridge.flush()
    assert view.lane_count() == 2
    other = Wire(session, conn=2)
    other.t = session.duration + 0.5
    other.turn("g", ["Nine. "], chunks=1)
    bridge.flush()
    assert view.lane_count() == 3
    assert view.lane_context(2) is context(session, "g")


def test_a_filter_with_no_context_draws_an_empty_timeline_that_says_why(qtbot: QtBot, setup: Setup) -> None:
    view, _, _, _ = setup
    view.set_connection_filter(3)
    assert view.lane_count() == 0
    assert view.empty_text() == "No context on connection 3 yet."
    image = view.grab().toImage()
    plot = view.lane_rect(0)
    colours = {
        image.pixelColor(x, plot.top() + plot.height() // 2 + dy).name()
        for x, dy in itertools.product(range(plot.left(), plot.right(), 2), range(-8, 9, 2))
    }
    assert len(colours) > 1  # the sentence, on the plot's background


def test_clearing_the_filter_brings_every_lane_back(qtbot: QtBot, setup: Setup) -> None:
    view, _, _, session = setup
    rows_before = [view.lane_rect(i) for i in range(5)]
    view.set_connection_filter(1)
    assert [view.lane_context(i).context_id for i in range(view.lane_count())] == ["a", "c", "e"]
    with qtbot.waitSignal(view.connectionFilterChanged) as blocker:
        view.set_connection_filter(None)
    assert blocker.args == [None]
    assert view.lane_count() == 5
    assert [view.lane_index(ctx) for ctx in session.contexts] == [0, 1, 2, 3, 4]
    assert [view.lane_rect(i) for i in range(5)] == rows_before
    a_chunk = context(session, "a").segments[0].chunk_rows[0]
    assert view.chunk_rect(a_chunk) is not None


def test_bad_filters_and_rows_say_what_is_wrong(setup: Setup) -> None:
    view, _, _, _ = setup
    with pytest.raises(TypeError, match="connection number or None, not '2'"):
        view.set_connection_filter("2")  # type: ignore[arg-type]
    assert view.connection_filter() is None and view.lane_count() == 5
    view.set_connection_filter(2)
    with pytest.raises(IndexError, match="no lane is shown at row 2: rows go from 0 to 1"):
        view.lane_context(2)
