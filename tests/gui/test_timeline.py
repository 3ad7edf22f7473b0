"""The timeline view, offscreen: lanes, mapping and hit-testing, axis modes, follow-live, rendering, LOD."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QContextMenuEvent, QHelpEvent, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from flushscope.core.model.records import Segment
from flushscope.core.model.session import Session
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.look.palette import flush_colour, is_dark
from flushscope.ui.timeline import AxisMode, TimelineView
from session_wire import Wire
from window_support import shown_timeline

TEXTS = ["Hello there. ", "How are you? ", "Fine, thanks."]


def three_contexts(wire: Wire) -> None:
    """Three contexts one after the other, three flushed transcripts each, three chunks per segment."""
    for name in ("alpha", "bravo", "charlie"):
        wire.turn(name, TEXTS, chunks=3)
        wire.t += 0.2


@pytest.fixture
def setup(qtbot: QtBot) -> Iterator[tuple[TimelineView, SessionBridge, Selection, Wire]]:
    wire = Wire()
    wire.connect()
    three_contexts(wire)
    yield (*shown_timeline(qtbot, wire.session), wire)


def rows_of(segment: Segment) -> list[int]:
    return list(segment.chunk_rows)


def centre(view: TimelineView, row: int) -> QPoint:
    rect = view.chunk_rect(row)
    assert rect is not None
    return rect.center().toPoint()


def plot_span(view: TimelineView) -> tuple[int, int]:
    lane = view.lane_rect(0)
    return lane.left(), lane.left() + lane.width()


def test_one_lane_per_context_stacked_without_overlap(
    setup: tuple[TimelineView, SessionBridge, Selection, Wire],
) -> None:
    view, _, _, _ = setup
    assert view.lane_count() == 3
    rects = [view.lane_rect(i) for i in range(3)]
    for upper, lower in itertools.pairwise(rects):
        assert upper.bottom() < lower.top()
    assert all(view.rect().contains(r.center()) for r in rects)
    for i in range(3):
        assert view.lane_rect(i).contains(view.block_rect(i))


def test_new_context_adds_a_lane_on_the_next_tick(
    setup: tuple[TimelineView, SessionBridge, Selection, Wire],
) -> None:
    view, bridge, _, wire = setup
    wire.turn("delta", ["More."], chunks=2)
    bridge.flush()
    assert view.lane_count() == 4


def test_fit_all_shows_every_chunk(setup: tuple[TimelineView, SessionBridge, Selection, Wire]) -> None:
    view, _, _, wire = setup
    view.set_visible_range(100.0, 101.0)
    view.fit_all()
    left, right = plot_span(view)
    for row in range(wire.session.chunks.size):
        rect = view.chunk_rect(row)
        assert rect is not None
        assert left <= rect.left() and rect.right() <= right, row


def test_click_on_a_chunk_selects_its_segment(
    qtbot: QtBot, setup: tuple[TimelineView, SessionBridge, Selection, Wire]
) -> None:
    view, _, selection, wire = setup
    target = wire.session.contexts[1].segments[2]
    point = centre(view, rows_of(target)[1])
    assert view.segment_at(point) is target
    with qtbot.waitSignal(selection.selectionChanged):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point)
    assert selection.segment is target
    assert selection.context is target.context


def test_click_on_an_empty_part_of_a_lane_selects_its_context(
    qtbot: QtBot, setup: tuple[TimelineView, SessionBridge, Selection, Wire]
) -> None:
    view, _, selection, wire = setup
    lane = view.block_rect(2)
    point = QPoint(lane.left() + 2, lane.center().y())  # charlie has no audio at the far left
    assert view.segment_at(point) is None
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=point)
    assert selection.segment is None
    assert selection.context is wire.session.contexts[2]


def test_hover_text_describes_the_chunk(setup: tuple[TimelineView, SessionBridge, Selection, Wire]) -> None:
    view, _, _, wire = setup
    segment = wire.session.contexts[0].segments[1]
    row = rows_of(segment)[0]
    text = view.describe_at(centre(view, row))
    assert text is not None
    t = float(wire.session.chunks.column("t")[row])
    for expected in (
        "#1 alpha",
        "flush_id 2",
        f"arrived {t:.3f} s",
        "4800 bytes",
        "2400 samples",
        "100.0 ms",
    ):
        assert expected in text
    assert "step_time 1" in text
    assert TEXTS[1].strip() in text
    below = view.rect().bottom() - 2
    assert view.describe_at(QPoint(view.rect().center().x(), below)) is None


def test_hover_text_over_markers(setup: tuple[TimelineView, SessionBridge, Selection, Wire]) -> None:
    view, _, _, wire = setup
    ctx = wire.session.contexts[0]
    segment = ctx.segments[0]
    marker_y = view.lane_rect(0).top() + 6
    view.set_visible_range(segment.transcripts[0].t - 0.005, segment.transcripts[0].t + 0.005)
    text = view.describe_at(QPoint(round(view.x_for(segment.transcripts[0].t)), marker_y))
    assert text is not None and text.startswith("transcript sent") and TEXTS[0].strip() in text
    assert segment.flush_done_t is not None
    view.set_visible_range(segment.flush_done_t - 0.005, segment.flush_done_t + 0.005)
    text = view.describe_at(QPoint(round(view.x_for(segment.flush_done_t)), marker_y))
    assert text is not None and text.startswith("flush_done 1")


def test_error_frames_get_a_marker(qtbot: QtBot) -> None:
    wire = Wire()
    wire.send("x", "Hi.")
    wire.flush("x")
    error = wire.error("x", "the transcript is empty or contains only punctuation")
    bridge = SessionBridge(wire.session)
    view = TimelineView(bridge, Selection())
    qtbot.addWidget(view)
    view.resize(800, 300)
    bridge.flush()
    view.set_visible_range(error.t - 0.01, error.t + 0.01)
    text = view.describe_at(QPoint(round(view.x_for(error.t)), view.lane_rect(0).top() + 6))
    assert text is not None and text.startswith("error:") and "punctuation" in text


def test_axis_switch_moves_blocks_to_their_audio_position(
    qtbot: QtBot, setup: tuple[TimelineView, SessionBridge, Selection, Wire]
) -> None:
    view, _, _, wire = setup
    first = [rows_of(ctx.segments[0])[0] for ctx in wire.session.contexts]
    arrival = [view.chunk_rect(row) for row in first]
    assert arrival[0] is not None and arrival[1] is not None
    assert arrival[0].left() < arrival[1].left()  # bravo started later
    with qtbot.waitSignal(view.axisModeChanged) as blocker:
        view.set_axis_mode(AxisMode.AUDIO)
    assert blocker.args == [AxisMode.AUDIO]
    view.fit_all()
    audio = [view.chunk_rect(row) for row in first]
    assert audio[0] is not None and audio[1] is not None
    assert audio[0].left() == audio[1].left()  # every context's audio starts at 0
    # Block width is the chunk's duration: 0.1 s each, back to back.
    second = rows_of(wire.session.contexts[0].segments[0])[1]
    rect = view.chunk_rect(second)
    assert rect is not None
    assert rect.left() == pytest.approx(view.x_for(0.1))
    assert rect.width() == pytest.approx(view.x_for(0.2) - view.x_for(0.1))
    view.set_axis_mode(AxisMode.ARRIVAL)
    assert view.chunk_rect(first[1]) == arrival[1]


def test_follow_live_keeps_the_newest_chunk_in_view(
    qtbot: QtBot, setup: tuple[TimelineView, SessionBridge, Selection, Wire]
) -> None:
    view, bridge, _, wire = setup
    view.set_follow(True)
    view.set_visible_range(0.0, 0.3)
    wire.t += 2.0
    wire.turn("echo", ["Later on."], chunks=5)
    bridge.flush()
    newest = view.chunk_rect(wire.session.chunks.size - 1)
    left, right = plot_span(view)
    assert newest is not None and left <= newest.left() and newest.right() <= right
    v0, v1 = view.visible_range()
    assert v1 - v0 == pytest.approx(0.3)
    with qtbot.waitSignal(view.followChanged) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_Left)
    assert blocker.args == [False]
    assert not view.is_following()


def test_keys_zoom_pan_and_fit(
    qtbot: QtBot, setup: tuple[TimelineView, SessionBridge, Selection, Wire]
) -> None:
    view, _, _, _ = setup
    fitted = view.visible_range()
    qtbot.keyClick(view, Qt.Key.Key_Plus)
    zoomed = view.visible_range()
    assert zoomed[1] - zoomed[0] < fitted[1] - fitted[0]
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.visible_range()[0] > zoomed[0]
    qtbot.keyClick(view, Qt.Key.Key_F)
    assert view.visible_range() == pytest.approx(fitted)
    qtbot.keyClick(view, Qt.Key.Key_Minus)
    assert view.visible_range()[1] - view.visible_range()[0] > fitted[1] - fitted[0]


def test_selection_from_elsewhere_is_outlined_and_scrolled_into_view(
    setup: tuple[TimelineView, SessionBridge, Selection, Wire],
) -> None:
    view, _, selection, wire = setup
    view.set_follow(False)
    view.set_visible_range(0.0, 0.05)
    target = wire.session.contexts[2].segments[2]
    selection.select_segment(target)
    left, right = plot_span(view)
    rect = view.chunk_rect(rows_of(target)[0])
    assert rect is not None and left <= rect.center().x() <= right
    # The outline runs just above the segment's blocks, in the text colour.
    image = view.grab().toImage()
    band = view.block_rect(2)
    outline = image.pixelColor(round(rect.center().x()), band.top() - 2)
    assert outline == view.palette().color(QPalette.ColorRole.Text)


def test_right_click_asks_for_the_segment_menu(
    qtbot: QtBot, setup: tuple[TimelineView, SessionBridge, Selection, Wire]
) -> None:
    view, _, _, wire = setup
    target = wire.session.contexts[0].segments[0]
    point = centre(view, rows_of(target)[0])
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, view.mapToGlobal(point))
    with qtbot.waitSignal(view.segmentContextMenuRequested) as blocker:
        QApplication.sendEvent(view, event)
    assert blocker.args[0] is target
    assert blocker.args[1] == view.mapToGlobal(point)


def test_rendered_blocks_have_their_flush_id_colour(
    setup: tuple[TimelineView, SessionBridge, Selection, Wire],
) -> None:
    view, _, _, wire = setup
    image = view.grab().toImage()
    dark = is_dark(view.palette())
    for ctx in wire.session.contexts:
        for segment in ctx.segments[:3]:
            assert segment.flush_id is not None
            point = centre(view, rows_of(segment)[1])
            assert image.pixelColor(point) == flush_colour(segment.flush_id, dark), segment.label


def test_dark_palette_is_followed(
    qtbot: QtBot, setup: tuple[TimelineView, SessionBridge, Selection, Wire]
) -> None:
    view, _, _, wire = setup
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#2b2b2b"),
        (QPalette.ColorRole.WindowText, "#e6e6e6"),
        (QPalette.ColorRole.Base, "#1e1e1e"),
        (QPalette.ColorRole.Text, "#e6e6e6"),
    ):
        palette.setColor(role, QColor(colour))
    view.setPalette(palette)
    image = view.grab().toImage()
    segment = wire.session.contexts[0].segments[0]
    assert segment.flush_id is not None
    assert image.pixelColor(centre(view, rows_of(segment)[1])) == flush_colour(segment.flush_id, True)
    lane = view.block_rect(0)
    assert image.pixelColor(lane.right() - 6, lane.center().y()).lightnessF() < 0.2


def test_export_png(tmp_path: object, setup: tuple[TimelineView, SessionBridge, Selection, Wire]) -> None:
    view, _, _, _ = setup
    path = f"{tmp_path}/timeline.png"
    assert view.export_png(path)
    with open(path, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_tooltip_event_away_from_data_is_ignored(
    setup: tuple[TimelineView, SessionBridge, Selection, Wire],
) -> None:
    # Showing a real tooltip needs a platform that can raise windows (offscreen cannot); the text shown
    # is describe_at's, tested above.
    view, _, _, _ = setup
    point = QPoint(view.lane_rect(0).left() + 3, view.rect().bottom() - 3)
    event = QHelpEvent(QEvent.Type.ToolTip, point, view.mapToGlobal(point))
    assert QApplication.sendEvent(view, event)
    assert not event.isAccepted()


def big_session(chunks: int = 100_000, contexts: int = 20, segments: int = 50) -> Session:
    """Contexts and segments made of real frames; the 100k chunk rows appended to the columns directly (the
    view paints from the columns; feeding 100k frames would take longer than the test should)."""
    wire = Wire()
    for c in range(contexts):
        for k in range(segments):
            wire.send(f"c{c}", f"Text {k}. ")
            wire.flush(f"c{c}")
        wire.chunk(f"c{c}", 1)
    session = wire.session
    per = chunks // contexts - 1
    rng = np.random.default_rng(1)
    times = np.sort(rng.uniform(wire.t + 0.1, wire.t + 120.0, size=per * contexts))
    lane = rng.integers(0, contexts, size=len(times))
    written = np.zeros(contexts, dtype=np.int64)
    for t, c in zip(times.tolist(), lane.tolist(), strict=True):
        n = int(written[c])
        written[c] += 1
        session.chunks.append(
            t, c, min(segments - 1, n * segments // per), 1 + n * segments // per, n * 0.04, 0.04, 1920, 0
        )
    return session


def test_a_hundred_thousand_chunks_paint_with_level_of_detail(qtbot: QtBot) -> None:
    session = big_session()
    bridge = SessionBridge(session)
    view = TimelineView(bridge, Selection())
    qtbot.addWidget(view)
    view.resize(1600, 900)
    view.fit_all()
    assert session.chunks.size >= 99_000
    image = view.grab().toImage()
    band = view.block_rect(5)
    blocks = {image.pixelColor(x, band.center().y()).name() for x in range(band.left(), band.right(), 7)}
    assert len(blocks & {flush_colour(f, is_dark(view.palette())).name() for f in range(8)}) >= 4
    # Deep zoom on the same data: a handful of chunks, each hoverable.
    t = session.chunks.column("t")
    middle = float(t[len(t) // 2])
    view.set_visible_range(middle - 0.05, middle + 0.05)
    view.grab()
    text = view.describe_at(centre(view, len(t) // 2))
    assert text is not None and "flush_id" in text


def test_minimum_size(setup: tuple[TimelineView, SessionBridge, Selection, Wire]) -> None:
    view, _, _, _ = setup
    assert view.minimumSize().width() >= 400 and view.minimumSize().height() >= 200
    assert view.sizeHint().width() > 400
