"""The analysis in the window, driven as a user would: the Lints and Boundaries tabs, the diff with another
capture, label tracks beside exported WAVs, and the strategy comparison on the real emulator."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QFileDialog
from pytestqt.qtbot import QtBot

from audio_sink import assert_played, decoded
from flushscope.audio.player import Player, PlayerState
from flushscope.core.analysis.lint_ids import LintId
from flushscope.core.analysis.report import reported_segments
from flushscope.core.analysis.sentence_spans import sentences
from flushscope.core.formats.audacity_labels import parse_labels
from flushscope.core.frames import Frame
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.net.live import ConnectionState
from flushscope.ui.tables import ITEM_ROLE, BoundariesModel, CompareModel, DiffModel, LintsModel
from flushscope.ui.timeline import AxisMode
from flushscope.ui.window import MainWindow
from flushscope.ui.windows.compare import CompareView
from session_wire import Wire
from window_support import WAIT_MS, run

SIZE_HINTS = "does not support propagateSizeHints"
# The offscreen platform cannot raise a window (the analysis windows are raised when shown) and says so.
RAISE = "does not support raise"
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(SIZE_HINTS, RAISE)]

TEXT = "Hello there, my friend. How are you today? I hope that all is well."


def tone(step: int, samples: int = 4800) -> bytes:
    return ((np.arange(samples) * step) % 20000 - 10000).astype("<i2").tobytes()


def analysed_wire(second: str = "Then more words. ") -> Wire:
    """Context a: two inputs that run together in the service's buffer, three segments, the second silent
    (two outlier boundaries). Context b: two loud segments (one plain boundary)."""
    wire = Wire()
    wire.connect()
    wire.send("a", "Hello there, my", max_buffer_delay_ms=3000)
    wire.send("a", "friend, how are you? ")
    wire.flush("a")
    wire.send("a", second)
    wire.flush("a")
    wire.send("a", "And the end.")
    wire.flush("a")
    wire.end("a")
    for n, audio in enumerate((tone(3), bytes(4800), tone(5)), start=1):
        wire.chunk("a", n, audio)
        wire.flush_done("a", n)
    wire.done("a")
    wire.turn("b", ["Loud one, and a few more words, ", "loud two, and a few more words."])
    return wire


def write(wire: Wire, path: Path) -> Path:
    session = wire.session
    with CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket") as writer:
        for f in session.frames:
            writer.write(Frame(f.index, f.t, f.conn, f.dir, session.frame_text(f.index, elide_audio=False)))
    return path


def click(qtbot: QtBot, view: QAbstractItemView, index: QModelIndex) -> None:
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center())


def tab_titles(window: MainWindow) -> list[str]:
    return [window.tabs.tabText(i) for i in range(window.tabs.count())]


# --- the tabs -------------------------------------------------------------------------------------


def test_a_capture_opened_is_analysed_at_once_in_its_tabs_and_on_the_timeline(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    assert tab_titles(window)[3:] == ["Lints (0)", "Boundaries (0)"]
    window.captures.open(write(analysed_wire(), tmp_path / "a.fscap.jsonl"))
    qtbot.waitUntil(lambda: window.analysis.current, timeout=WAIT_MS)
    assert tab_titles(window)[3:] == ["Lints (1)", "Boundaries (3, 2 flagged)"]
    session = window.bridge.session
    assert [lint.id for lint in window.analysis.lints] == [LintId.CONTINUATION_NO_SPACE]

    # The Lints tab: the advice under the table, a click goes to the segment and its frames.
    window.tabs.setCurrentWidget(window.lints)
    panel = window.lints
    lint = window.analysis.lints[0]
    click(qtbot, panel.view, panel.proxy.index(0, LintsModel.MESSAGE))
    assert window.selection.segment is session.contexts[0].segments[0]
    assert window.frames.selected_frames() == list(lint.frames)
    assert panel.advice.plain_text().endswith(f"What to do: {lint.advice}")

    # The Boundaries tab: outliers sort first; a click selects the segment after the boundary.
    window.tabs.setCurrentWidget(window.boundaries)
    view = window.boundaries.view
    view.sortByColumn(BoundariesModel.OUTLIER, Qt.SortOrder.DescendingOrder)
    proxy = window.boundaries.proxy
    flags = [proxy.index(r, BoundariesModel.FLAGS).data() for r in range(proxy.rowCount())]
    assert flags == ["silent segment", "silent segment", ""]
    click(qtbot, view, proxy.index(2, BoundariesModel.FLUSH_IDS))
    assert window.selection.segment is session.contexts[1].segments[1]
    assert proxy.index(2, 0).data(ITEM_ROLE).context_id == "b"

    # The timeline marks them: the plain boundary where b's second segment starts, in audio mode too.
    timeline = window.timeline
    timeline.set_axis_mode(AxisMode.AUDIO)
    at = session.contexts[1].segments[1].start_sample / 24000  # type: ignore[operator]
    timeline.set_visible_range(at - 0.02, at + 0.02)
    point = QPoint(round(timeline.x_for(at)), timeline.lane_rect(1).top() + 6)
    text = timeline.describe_at(point)
    assert text is not None and text.startswith("flush boundary 1 → 2 of context #2 b")

    # Back to the live session: nothing there yet, and the tabs say so.
    window.action_set.show_live.trigger()
    qtbot.waitUntil(lambda: window.analysis.current, timeout=WAIT_MS)
    assert tab_titles(window)[3:] == ["Lints (0)", "Boundaries (0)"]


def test_the_live_session_is_analysed_when_its_tab_is_opened(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    window.analysis.follow = False  # only opening the tab brings it up to date
    QTest.mouseClick(window.connection_bar.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.live.status.state is ConnectionState.CONNECTED, timeout=WAIT_MS)
    composer = window.composer
    # The service buffers the text, so the two inputs meet in its buffer.
    composer.settings_form.buffer_delay.setValue(3000)
    for text in ("Hello there, my", "friend, how are you?"):
        composer.text_edit.setPlainText(text)
        QTest.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: composer.text() == "", timeout=WAIT_MS)
    QTest.mouseClick(composer.flush_button, Qt.MouseButton.LeftButton)
    session = window.live.session
    qtbot.waitUntil(
        lambda: session.contexts and session.contexts[0].segments[0].chunk_count > 0, timeout=WAIT_MS
    )
    window.bridge.flush()
    assert window.analysis.lints == []  # it does not follow the session
    window.tabs.setCurrentWidget(window.lints)
    assert window.analysis.current
    assert [lint.id for lint in window.analysis.lints] == [LintId.CONTINUATION_NO_SPACE]
    assert window.tabs.tabText(window.tabs.indexOf(window.lints)) == "Lints (1)"
    # A live context not ended yet is not advice: it may still end.
    assert LintId.CONTEXT_NEVER_ENDED not in {lint.id for lint in window.analysis.lints}


# --- the diff -------------------------------------------------------------------------------------


def test_the_session_shown_is_compared_with_a_capture_chosen_in_the_file_menu(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window()
    shown = write(analysed_wire(), tmp_path / "shown.fscap.jsonl")
    same = write(analysed_wire(), tmp_path / "same.fscap.jsonl")
    other = write(analysed_wire(second="Then other words. "), tmp_path / "other.fscap.jsonl")
    window.captures.open(shown)
    chosen = [str(same)]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_args, **_kw: (chosen.pop(), ""))
    assert window.action_set.compare_capture.isEnabled()
    window.action_set.compare_capture.trigger()
    view = window.analysis_views.diff
    assert view is not None and view.isVisible()
    assert view.verdict_label.text() == "Same structure"
    assert window.status.currentMessage() == "Compared with same.fscap.jsonl: Same structure"

    view = window.analysis_views.diff_with(other)
    assert view is not None
    assert view.verdict_label.text() == "1 difference"
    model = view.model
    rows = [[model.index(r, c).data() for c in range(4)] for r in range(model.rowCount())]
    assert ["transcripts", "context 1 segment 2", '"Then more words. "', '"Then other words. "'] in rows
    row = next(r for r in range(model.rowCount()) if model.index(r, DiffModel.KIND).data() == "transcripts")
    assert model.index(row, DiffModel.COUNTED).data() == "counted"
    click(qtbot, view.view, view.proxy.mapFromSource(model.index(row, DiffModel.WHERE)))
    session = window.bridge.session
    assert window.selection.segment is reported_segments(session.contexts[0])[1]
    assert view.message_label.text() == "Selected context 1 segment 2"

    # Another session shown since: a click says so instead of selecting in it.
    window.action_set.show_live.trigger()
    click(qtbot, view.view, view.proxy.mapFromSource(model.index(row, DiffModel.KIND)))
    assert view.message_label.text().startswith("The main window shows another session now")


def test_a_file_that_is_not_a_capture_is_refused_in_words(
    make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    bad = tmp_path / "bad.fscap.jsonl"
    bad.write_text("not a capture\n")
    assert window.analysis_views.diff_with(bad) is None
    assert window.analysis_views.diff is None


@pytest.mark.parametrize("model_class", [DiffModel, CompareModel])
def test_result_models_pass_the_model_tester(
    qtmodeltester: Any, qtbot: QtBot, model_class: type[Any]
) -> None:
    from flushscope.core.analysis.compare import CompareResult, StrategyResult
    from flushscope.core.analysis.diff import diff_sessions

    model = model_class()
    qtmodeltester.check(model)
    if model_class is DiffModel:
        model.set_diff(diff_sessions(analysed_wire().session, analysed_wire("Other. ").session))
    else:
        model.set_result(
            CompareResult(TEXT, (StrategyResult("one", (TEXT,), None, "not run", complete=False),))
        )
    assert model.rowCount() > 0
    qtmodeltester.check(model, force_py=True)
    for row in range(model.rowCount()):
        assert all(isinstance(model.index(row, c).data(), str) for c in range(model.columnCount()))


# --- label tracks ---------------------------------------------------------------------------------


def test_every_segment_exported_with_its_label_track(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    assert not window.action_set.export_all_labels.isEnabled()
    wire = analysed_wire()
    wire.words("b", 1, ["Loud", "one,"])
    window.captures.open(write(wire, tmp_path / "a.fscap.jsonl"))
    assert window.action_set.export_all_labels.isEnabled()
    out = tmp_path / "out"
    paths = run(qtbot, window, window.exports.save_all_wav(out, labels=True))
    assert paths is not None
    wavs = sorted(p for p in paths if p.suffix == ".wav")
    tracks = sorted(p for p in paths if p.suffix == ".txt")
    assert len(wavs) == 5 and [t.with_suffix(".wav") for t in tracks] == wavs
    b1 = next(t for t in tracks if t.name.startswith("2-b-flush1"))
    title, *words = parse_labels(b1.read_text(encoding="utf-8"))
    assert title.text == "flush_id 1: Loud one, and a few more words,"
    assert [w.text for w in words] == ["Loud", "one,"]
    assert window.status.currentMessage() == f"Saved 5 WAV files with their label tracks to {out}"
    # Without labels: WAVs only.
    plain = run(qtbot, window, window.exports.save_all_wav(tmp_path / "plain"))
    assert plain is not None and all(p.suffix == ".wav" for p in plain) and len(plain) == 5


# --- the strategy comparison ----------------------------------------------------------------------


def test_strategies_compared_on_the_live_target_play_whole_and_by_sentence(
    qtbot: QtBot, make_window: Callable[..., MainWindow], alsa_file: Path
) -> None:
    window = make_window(Player())
    QTest.mouseClick(window.connection_bar.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.live.status.state is ConnectionState.CONNECTED, timeout=WAIT_MS)
    window.action_set.compare_strategies.trigger()
    view = window.analysis_views.compare
    assert isinstance(view, CompareView) and view.isVisible()
    assert view.target_label.text().startswith(f"Runs on {window.live.status.url}")
    view.text_edit.setPlainText(TEXT)
    view.punctuation_check.setChecked(False)
    view.words_check.setChecked(False)
    view.one_check.setChecked(True)
    assert view.strategies() == ["sentence", "one"]

    with qtbot.waitSignal(view.finished, timeout=WAIT_MS) as blocker:
        QTest.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result is not None and result.complete
    assert window.live.session.contexts == []  # a connection and a session of its own
    sentence, one = result.strategies
    assert [s.text for s in sentence.segments] == [
        s.text + (" " if s.end < len(TEXT) else "") for s in sentences(TEXT)
    ]
    assert len(one.segments) == 1
    assert sentence.context_id.startswith("sentence-") and one.context_id.startswith("one-")

    # One row each, with its figures.
    model = view.model
    assert [model.index(r, CompareModel.STRATEGY).data() for r in range(2)] == ["sentence", "one"]
    assert [model.index(r, CompareModel.SEGMENTS).data() for r in range(2)] == ["3", "1"]
    assert model.index(0, CompareModel.FIRST_AUDIO).data() == f"{sentence.ttfa_ms:.0f} ms"
    assert model.index(1, CompareModel.TOTAL).data() == f"{one.total_ms:.0f} ms"
    assert model.index(0, CompareModel.OUTLIERS).data() == str(sum(b.outlier for b in sentence.boundaries))

    # One lane each, from its first send: both start at 0.
    timeline = view.timeline
    assert timeline.axis_mode() is AxisMode.SINCE_SEND and timeline.lane_count() == 2
    for lane, strategy in enumerate(result.strategies):
        ctx = view.context_of(strategy)
        assert ctx is not None
        timeline.set_visible_range(-0.01, 0.01)
        marker = QPoint(round(timeline.x_for(0.0)), timeline.lane_rect(lane).top() + 6)
        text = timeline.describe_at(marker)
        assert text is not None and text.startswith(f"transcript sent at {ctx.first_t:.3f} s")
        timeline.fit_all()
        row = ctx.segments[0].chunk_rows[0]
        rect = timeline.chunk_rect(row)
        first_chunk = float(view.session.chunks.column("t")[row]) - ctx.first_t
        assert rect is not None and rect.left() == pytest.approx(timeline.x_for(first_chunk))

    # Play "one" whole, then the second sentence as "sentence" spoke it.
    playback = window.playback
    whole, part = view.play_buttons["one"]
    ctx_one = view.context_of(one)
    assert ctx_one is not None and ctx_one.format is not None
    with qtbot.waitSignal(
        playback.stateChanged, timeout=WAIT_MS, check_params_cb=lambda s: s is PlayerState.STOPPED
    ):
        QTest.mouseClick(whole, Qt.MouseButton.LeftButton)
    assert_played(alsa_file, ctx_one.format, decoded(view.session.audio.context(ctx_one), ctx_one.format))

    view.sentence_combo.setCurrentIndex(1)
    ctx_sentence = view.context_of(sentence)
    assert ctx_sentence is not None and ctx_sentence.format is not None
    span = view.sentence_span(sentence)
    assert span is not None
    # The second sentence is the second segment of the "sentence" strategy: its words, its audio.
    second = ctx_sentence.segments[1]
    words = second.words
    assert span == pytest.approx((words[0].start, max(w.end for w in words)))
    rate = ctx_sentence.format.sample_rate
    _, part = view.play_buttons["sentence"]
    with qtbot.waitSignal(
        playback.stateChanged, timeout=WAIT_MS, check_params_cb=lambda s: s is PlayerState.STOPPED
    ):
        QTest.mouseClick(part, Qt.MouseButton.LeftButton)
    expected = decoded(view.session.audio.context(ctx_sentence), ctx_sentence.format)[
        round(span[0] * rate) : round(span[1] * rate)
    ]
    assert_played(alsa_file, ctx_sentence.format, expected)


def test_a_comparison_refuses_unusable_input_and_runs_on_an_emulator_of_its_own(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    view = window.analysis_views.open_compare()
    assert (
        view.target_label.text()
        == "Runs on an embedded emulator started for the run, on a connection of its own"
    )
    for check in (view.sentence_check, view.punctuation_check, view.words_check):
        check.setChecked(False)
    view.one_check.setChecked(True)
    with qtbot.waitSignal(view.finished, timeout=WAIT_MS) as blocker:
        view.start()
    assert blocker.args == [None]
    assert view.state_label.text() == "Tick two or more strategies to compare"
    view.custom_check.setChecked(True)
    view.custom_edit.setText("Hello there|my friend")
    with qtbot.waitSignal(view.finished, timeout=WAIT_MS):
        view.start()
    assert view.state_label.text().startswith(
        "The custom split 'Hello there|my friend' does not spell the text"
    )

    view.text_edit.setPlainText("Hello there. My friend.")
    view.custom_edit.setText("Hello there.|My friend.")
    with qtbot.waitSignal(view.finished, timeout=WAIT_MS) as blocker:
        view.start()
    result = blocker.args[0]
    assert result is not None and result.complete
    assert [s.name for s in result.strategies] == ["one", "Hello there.|My friend."]
    assert [len(s.segments) for s in result.strategies] == [1, 2]
    assert window.live.emulator is None and not window.live.connected  # its own emulator, closed again
    assert view.state_label.text() == "Done: 2 versions of the text, aligned at each first send."
