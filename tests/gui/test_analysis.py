"""The analysis in the window's terms: the model that follows the session, the lints and boundaries tables and
panels."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication
from pytestqt.qtbot import QtBot

from flushscope.core.analysis.boundaries import FlagKind, session_boundaries
from flushscope.core.analysis.lint_cache import lint_session
from flushscope.core.analysis.lint_ids import LintId
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.controllers.analysis import AnalysisModel
from flushscope.ui.panels import BoundariesPanel, FramesPanel, LintsPanel
from flushscope.ui.tables import ITEM_ROLE, BoundariesModel, LintsModel, SortProxy
from session_wire import Wire

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")]

SILENCE = bytes(4800)


def tone(step: int) -> bytes:
    return ((np.arange(2400) * step) % 20000 - 10000).astype("<i2").tobytes()


@pytest.fixture
def analysis(bridge: SessionBridge) -> Iterator[AnalysisModel]:
    """The analysis of a live session that is never recomputed on its own (tests call refresh_now)."""
    model = AnalysisModel(bridge, bridge.session, follow=False)
    yield model
    model.deleteLater()


def two_contexts(wire: Wire) -> None:
    """Context a: "Hello there, my" then "friend. How are you?" run together in the service's buffer, then
    three flushed segments with audio, the second silent. Context b: one segment, still open."""
    wire.connect()
    wire.send("a", "Hello there, my", max_buffer_delay_ms=3000)
    wire.send("a", "friend. How are you? ")
    wire.flush("a")
    wire.send("a", "Then more words. ")
    wire.flush("a")
    wire.send("a", "And the end.")
    wire.flush("a")
    wire.send("b", "Another voice,", max_buffer_delay_ms=3000)
    wire.chunk("a", 1, tone(3))
    wire.chunk("a", 2, SILENCE)
    wire.words("a", 1, ["Hello", "world."])
    wire.chunk("a", 3, tone(5))
    wire.chunk("b", 1, tone(7))


def ids(model: QAbstractItemModel, column: int) -> list[Any]:
    return [model.index(row, column).data() for row in range(model.rowCount())]


# --- the model --------------------------------------------------------------------------------------


def test_the_live_session_is_analysed_as_not_over_and_a_capture_as_over(
    qtbot: QtBot, bridge: SessionBridge, wire: Wire
) -> None:
    two_contexts(wire)
    analysis = AnalysisModel(bridge, bridge.session)
    with qtbot.waitSignal(analysis.resultsChanged):
        pass  # analysed once the loop runs, not in the constructor
    assert analysis.current and not analysis.session_over
    assert analysis.lints == lint_session(wire.session, session_over=False)
    assert [lint.id for lint in analysis.lints] == [LintId.CONTINUATION_NO_SPACE]
    assert analysis.boundaries == session_boundaries(wire.session)
    assert [(b.from_flush_id, b.to_flush_id) for b in analysis.boundaries] == [(1, 2), (2, 3)]
    assert analysis.flagged == 2 and all(b.has(FlagKind.SILENT_SEGMENT) for b in analysis.boundaries)

    # The same frames as a capture: the contexts never ended are over now, and say so.
    capture = Wire()
    two_contexts(capture)
    with qtbot.waitSignal(analysis.resultsChanged):
        bridge.set_session(capture.session)
    assert analysis.lints == [] and analysis.boundaries == []  # nothing known until it has run
    with qtbot.waitSignal(analysis.resultsChanged):
        pass
    assert analysis.session_over and analysis.current
    assert analysis.lints == lint_session(capture.session)
    assert {lint.id for lint in analysis.lints} == {LintId.CONTINUATION_NO_SPACE, LintId.CONTEXT_NEVER_ENDED}
    analysis.deleteLater()


def test_a_model_that_does_not_follow_is_brought_up_to_date_only_when_asked(
    qtbot: QtBot, bridge: SessionBridge, wire: Wire, analysis: AnalysisModel
) -> None:
    analysis.refresh_now()
    assert analysis.current and analysis.lints == []
    ran: list[int] = []
    analysis.resultsChanged.connect(lambda: ran.append(1))
    two_contexts(wire)
    for _ in range(3):
        with qtbot.waitSignal(bridge.ticked):
            pass
    assert ran == [] and analysis.lints == [] and not analysis.current
    analysis.refresh_now()
    assert ran == [1] and analysis.current
    assert [lint.id for lint in analysis.lints] == [LintId.CONTINUATION_NO_SPACE]
    analysis.refresh_now()  # nothing changed since: nothing to do
    assert ran == [1]


def test_the_analysis_of_a_growing_session_is_the_analysis_of_it_read_at_once(
    qtbot: QtBot, bridge: SessionBridge, wire: Wire
) -> None:
    analysis = AnalysisModel(bridge, bridge.session, publish_ms=0)
    wire.connect()
    segments = 0
    for n in range(40):
        # Every third input waits in the service's buffer, no flush after it, and runs into the next; every
        # fifth segment is silent.
        wire.send("a", f"Part {n}" + ("" if n % 3 == 0 else ", "), max_buffer_delay_ms=3000)
        if n % 3:
            segments += 1
            wire.flush("a")
            wire.chunk("a", segments, SILENCE if segments % 5 == 0 else tone(segments))
            wire.flush_done("a", segments)
        if n % 8 == 7:
            qtbot.waitUntil(lambda: analysis.current)
            assert analysis.lints == lint_session(wire.session, session_over=False)
            assert analysis.boundaries == session_boundaries(wire.session)
    # "Part 0" then "Part 1, ", ...: run together, and segments of two words with no sentence end.
    assert {lint.id for lint in analysis.lints} == {LintId.CONTINUATION_NO_SPACE, LintId.SHORT_SEGMENT}
    assert analysis.flagged > 0
    analysis.deleteLater()


def test_the_views_hear_of_a_new_result_at_most_every_publish_interval(
    qtbot: QtBot, bridge: SessionBridge, wire: Wire
) -> None:
    analysis = AnalysisModel(bridge, bridge.session, publish_ms=3_600_000)
    qtbot.waitUntil(lambda: analysis.current)  # the empty session, told at once
    told: list[int] = []
    analysis.resultsChanged.connect(lambda: told.append(len(analysis.lints)))
    two_contexts(wire)
    for _ in range(3):
        with qtbot.waitSignal(bridge.ticked):
            pass
    # Analysed on the ticks, but less than an hour has passed since the last result was told.
    assert told == [] and not analysis.current
    analysis.refresh_now()
    assert told == [1] and analysis.current
    assert analysis.lints == lint_session(wire.session, session_over=False)
    analysis.deleteLater()


# --- the tables -------------------------------------------------------------------------------------


@pytest.mark.parametrize("model_class", [LintsModel, BoundariesModel])
def test_models_pass_the_model_tester_empty_filled_and_while_growing(
    qtmodeltester: Any, wire: Wire, analysis: AnalysisModel, model_class: type[QAbstractItemModel]
) -> None:
    model = model_class(analysis)  # type: ignore[call-arg]
    qtmodeltester.check(model)
    two_contexts(wire)
    analysis.refresh_now()
    assert model.rowCount() > 0
    qtmodeltester.check(model, force_py=True)
    wire.send("b", "and more words here")  # after "Another voice,", buffered: no space
    wire.flush("b")
    wire.chunk("b", 2, tone(9))
    wire.chunk("a", 3, tone(11))
    analysis.refresh_now()
    qtmodeltester.check(model, force_py=True)
    for row in range(model.rowCount()):
        for col in range(model.columnCount()):
            assert isinstance(model.index(row, col).data(), str)


def test_lints_rows_follow_the_analysis_with_targeted_changes(wire: Wire, analysis: AnalysisModel) -> None:
    model = LintsModel(analysis)
    inserted: list[tuple[int, int]] = []
    removed: list[tuple[int, int]] = []
    resets: list[int] = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    model.rowsRemoved.connect(lambda _p, first, last: removed.append((first, last)))
    model.modelReset.connect(lambda: resets.append(1))
    two_contexts(wire)
    analysis.refresh_now()
    assert inserted == [(0, 0)]
    assert ids(model, LintsModel.ID) == ["continuation-no-space"]
    assert ids(model, LintsModel.CONTEXT) == ["1 · a"]
    assert ids(model, LintsModel.FLUSH_ID) == ["1"]
    lint = model.index(0, 0).data(ITEM_ROLE)
    assert lint is analysis.lints[0]
    assert "What to do: End each transcript with a space" in model.index(0, LintsModel.MESSAGE).data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert "appends every input to it verbatim" in model.index(0, LintsModel.ID).data(
        Qt.ItemDataRole.ToolTipRole
    )
    # Two more lints after the first: two rows inserted after it, nothing else touched.
    wire.send("b", "and more words here")
    wire.send("c", "!")
    analysis.refresh_now()
    assert inserted == [(0, 0), (1, 2)]
    assert ids(model, LintsModel.ID) == [
        "continuation-no-space",
        "continuation-no-space",
        "punctuation-only-first-input",
    ]
    # Another session shown (a capture: over): the rows go, the model resets once, the new lints come.
    other = Wire()
    other.send("z", "Fine. ")
    analysis.bridge.set_session(other.session)
    assert resets == [1] and removed == [(0, 2)] and model.rowCount() == 0
    analysis.refresh_now()
    assert ids(model, LintsModel.ID) == ["context-never-ended"] and inserted[-1] == (0, 0)


def test_boundaries_rows_show_the_figures_and_sort_outliers_first(
    wire: Wire, analysis: AnalysisModel
) -> None:
    model = BoundariesModel(analysis)
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, _roles: changed.append((top.row(), bottom.row())))
    wire.turn("a", ["One, ", "two, ", "three, ", "four."], chunks=2)
    wire.turn("b", ["Five, ", "six."], chunks=1)
    analysis.refresh_now()
    assert model.rowCount() == 4 and changed == []
    assert ids(model, BoundariesModel.FLUSH_IDS) == ["1 → 2", "2 → 3", "3 → 4", "1 → 2"]
    assert ids(model, BoundariesModel.CONTEXT) == ["1 · a"] * 3 + ["2 · b"]
    b = analysis.boundaries[0]
    assert model.index(0, BoundariesModel.TRAILING).data() == f"{b.trailing_silence_ms:.0f} ms"
    assert model.index(0, BoundariesModel.GAP).data() == f"{b.arrival_gap_ms:.0f} ms"
    assert model.index(0, BoundariesModel.STEP).data().endswith(" dB")
    assert model.index(0, BoundariesModel.OUTLIER).data() == ""
    tip = model.index(0, BoundariesModel.LAST_WORD).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("flush boundary 1 → 2 of context #1 a") and "arrival gap" in tip

    # Three late seconds of silence in a's segment 3: the boundary after it changes in place (the one
    # before it is measured again and found the same) and has a long pause.
    wire.chunk("a", 3, SILENCE * 30)
    analysis.refresh_now()
    assert changed == [(2, 2)]
    assert ids(model, BoundariesModel.OUTLIER) == ["", "", "outlier", ""]
    assert model.index(2, BoundariesModel.FLAGS).data() == "long pause"
    wire.chunk("b", 2, SILENCE)  # b's last segment: quiet only at its end
    wire.turn("c", ["Quiet. ", "Loud."], chunks=0)
    wire.chunk("c", 1, SILENCE)
    wire.chunk("c", 2, tone(3))
    analysis.refresh_now()
    assert model.rowCount() == 5
    flagged = model.index(4, BoundariesModel.OUTLIER)
    assert flagged.data() == "outlier"
    assert not flagged.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert model.index(4, BoundariesModel.FLAGS).data() == "silent segment"
    proxy = SortProxy()
    proxy.setSourceModel(model)
    proxy.sort(BoundariesModel.OUTLIER, Qt.SortOrder.DescendingOrder)
    assert [proxy.index(r, BoundariesModel.OUTLIER).data() for r in range(5)] == ["outlier"] * 2 + [""] * 3
    proxy.sort(BoundariesModel.GAP, Qt.SortOrder.AscendingOrder)
    gaps = [proxy.index(r, 0).data(ITEM_ROLE).arrival_gap_ms for r in range(proxy.rowCount())]
    assert gaps == sorted(gaps)


# --- the panels -------------------------------------------------------------------------------------


@pytest.fixture
def selection(qapp: QApplication) -> Iterator[Selection]:
    selection = Selection()
    yield selection
    selection.deleteLater()


def shown(qtbot: QtBot, widget: Any) -> Any:
    qtbot.addWidget(widget)
    widget.resize(900, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def click(qtbot: QtBot, view: QAbstractItemView, index: QModelIndex) -> None:
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center())


def test_clicking_a_lint_selects_its_segment_shows_the_advice_and_highlights_its_frames(
    qtbot: QtBot, bridge: SessionBridge, wire: Wire, analysis: AnalysisModel, selection: Selection
) -> None:
    two_contexts(wire)
    analysis.refresh_now()
    panel = shown(qtbot, LintsPanel(analysis, selection))
    frames = shown(qtbot, FramesPanel(bridge, selection))
    assert panel.advice.text() == "Pick a lint to see what to do about it."
    lint = analysis.lints[0]
    with qtbot.waitSignal(selection.framesHighlighted) as blocker:
        click(qtbot, panel.view, panel.proxy.index(0, LintsModel.MESSAGE))
    assert blocker.args == [list(lint.frames)]
    assert selection.segment is wire.session.contexts[0].segments[0]
    assert frames.selected_frames() == list(lint.frames)
    assert panel.advice.plain_text() == f"{lint.message}\nWhat to do: {lint.advice}"
    # The same row again goes there again.
    selection.select_context(wire.session.contexts[1])
    with qtbot.waitSignal(selection.framesHighlighted):
        click(qtbot, panel.view, panel.proxy.index(0, LintsModel.ID))
    assert selection.segment is wire.session.contexts[0].segments[0]


def test_a_lint_without_a_segment_selects_its_context(
    qtbot: QtBot, bridge: SessionBridge, analysis: AnalysisModel, selection: Selection
) -> None:
    wire = Wire(bridge.session)
    wire.send("p", "...")
    analysis.refresh_now()
    panel = shown(qtbot, LintsPanel(analysis, selection))
    assert panel.model.index(0, LintsModel.ID).data() == "punctuation-only-first-input"
    assert panel.model.index(0, LintsModel.FLUSH_ID).data() == ""
    click(qtbot, panel.view, panel.proxy.index(0, 0))
    assert selection.context is wire.session.contexts[0]


def test_clicking_a_boundary_selects_the_segment_after_it(
    qtbot: QtBot, bridge: SessionBridge, wire: Wire, analysis: AnalysisModel, selection: Selection
) -> None:
    wire.turn("a", ["One, ", "two, ", "three."])
    analysis.refresh_now()
    panel = shown(qtbot, BoundariesPanel(analysis, selection))
    frames = shown(qtbot, FramesPanel(bridge, selection))
    boundary = analysis.boundaries[1]
    with qtbot.waitSignal(selection.framesHighlighted) as blocker:
        click(qtbot, panel.view, panel.proxy.index(1, BoundariesModel.FLUSH_IDS))
    assert blocker.args == [list(boundary.frames)]
    ctx = wire.session.contexts[0]
    assert selection.segment is ctx.segments[2]
    chunk_frames = wire.session.chunk_frames
    assert boundary.frames == (chunk_frames(ctx.segments[1])[-1], chunk_frames(ctx.segments[2])[0])
    assert frames.selected_frames() == list(boundary.frames)
