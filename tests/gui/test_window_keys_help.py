"""The window from the keyboard and its help: Tab between panes and arrows inside a table, the tab-stepping
keys, the focus ring in both themes, the shortcut list, frame numbers in findings that go to the frame,
About and the captures folder, what an empty timeline says, and where the analysis windows open."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QRect, Qt, QUrl
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QTableView, QWidget
from pytestqt.qtbot import QtBot

import flushscope
from conftest import WindowFactory
from flushscope.core.frames import Frame
from flushscope.core.model.session import Session
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.net.live import ConnectionState, LiveSession
from flushscope.ui.controllers.analysis_windows import PLACES
from flushscope.ui.look.focus import focus_colour
from flushscope.ui.look.themes import apply_theme
from flushscope.ui.options import Theme
from flushscope.ui.preferences.geometry import available_area
from flushscope.ui.preferences.secret import KeyStore
from flushscope.ui.preferences.store import Preferences
from flushscope.ui.tables import ANOMALY_ROLE
from flushscope.ui.timeline.keys import TIMELINE_KEYS
from flushscope.ui.window import MainWindow
from flushscope.ui.windows.about import LICENCE, PROTOCOL_URL, AboutDialog
from flushscope.ui.windows.compare import EMPTY_TEXT
from flushscope.ui.windows.shortcuts import ShortcutsDialog
from live_support import closed_port
from session_wire import Wire
from window_support import WAIT_MS, run, shown_timeline

SIZE_HINTS = "does not support propagateSizeHints"
RAISE = "does not support raise"
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(SIZE_HINTS, RAISE)]

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def findings_capture(path: Path, *, contexts: bool = True) -> Path:
    """A capture whose context ``a`` runs two inputs together (a lint citing frames 2 and 3) and whose
    context ``b`` got an error (an anomaly citing its frame); ``contexts=False``: the connection alone."""
    wire = Wire()
    wire.connect()
    if contexts:
        wire.send("a", "Hello there, my", max_buffer_delay_ms=3000)
        wire.send("a", "friend, how are you? ")
        wire.flush("a")
        wire.end("a")
        tone = ((np.arange(4800) * 3) % 20000 - 10000).astype("<i2").tobytes()
        wire.chunk("a", 1, tone)
        wire.flush_done("a", 1)
        wire.done("a")
        wire.turn("b", ["One, and a few more words, ", "two, and a few more words."])
        wire.error("b", "something went wrong")
    session = wire.session
    with CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket") as writer:
        for f in session.frames:
            writer.write(Frame(f.index, f.t, f.conn, f.dir, session.frame_text(f.index, elide_audio=False)))
    return path


def opened(qtbot: QtBot, window: MainWindow, path: Path) -> Session:
    with qtbot.waitSignal(window.captures.captureOpened, timeout=WAIT_MS):
        assert window.captures.open(path)
    qtbot.waitUntil(lambda: window.analysis.current, timeout=WAIT_MS)
    return window.bridge.session


def activate(qtbot: QtBot, window: QWidget) -> None:
    """Keys go to the active window only."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)


def focus(qtbot: QtBot, widget: QWidget, reason: Qt.FocusReason = Qt.FocusReason.TabFocusReason) -> None:
    widget.setFocus(reason)
    qtbot.waitUntil(widget.hasFocus, timeout=WAIT_MS)


class UrlRecorder:
    """Stands in for the desktop: the URLs it was asked to open."""

    def __init__(self, opens: bool = True) -> None:
        self.urls: list[QUrl] = []
        self._opens = opens

    def __call__(self, url: QUrl) -> bool:
        self.urls.append(url)
        return self._opens


# --- the keyboard --------------------------------------------------------------------------------


def test_tab_leaves_a_table_for_the_next_pane_and_the_arrows_move_inside_it(
    qtbot: QtBot, make_window: WindowFactory, tmp_path: Path
) -> None:
    window = make_window()
    opened(qtbot, window, findings_capture(tmp_path / "f.fscap.jsonl"))
    activate(qtbot, window)
    for view in (window.transcripts.view, window.frames.view, window.lints.view):
        assert not view.tabKeyNavigation()
    table = window.transcripts.view
    assert table.model().rowCount() >= 3
    table.setCurrentIndex(table.model().index(0, 0))
    focus(qtbot, table)
    QTest.keyClick(table, Qt.Key.Key_Down)
    QTest.keyClick(table, Qt.Key.Key_Down)
    assert table.currentIndex().row() == 2 and table.hasFocus()
    QTest.keyClick(table, Qt.Key.Key_Up)
    assert table.currentIndex().row() == 1 and table.hasFocus()
    assert window.selection.segment is window.transcripts.model.segment(table.currentIndex().row())

    # Tab: out of the table, to the next pane (not to the next cell); Shift+Tab comes back.
    QTest.keyClick(table, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: not table.hasFocus(), timeout=WAIT_MS)
    assert table.currentIndex().row() == 1
    after = QApplication.focusWidget()
    assert after is not None and after is not table and not table.isAncestorOf(after)
    QTest.keyClick(after, Qt.Key.Key_Backtab, SHIFT)
    qtbot.waitUntil(table.hasFocus, timeout=WAIT_MS)
    assert table.currentIndex().row() == 1


def test_ctrl_tab_and_ctrl_page_keys_step_through_the_tabs(
    qtbot: QtBot, make_window: WindowFactory, tmp_path: Path
) -> None:
    window = make_window()
    opened(qtbot, window, findings_capture(tmp_path / "f.fscap.jsonl"))
    activate(qtbot, window)
    tabs = window.tabs
    tabs.setCurrentIndex(0)
    focus(qtbot, window.transcripts.view)
    steps = [
        (Qt.Key.Key_Tab, CTRL, 1),
        (Qt.Key.Key_PageDown, CTRL, 2),
        (Qt.Key.Key_PageDown, CTRL, 3),
        (Qt.Key.Key_PageUp, CTRL, 2),
        (Qt.Key.Key_Backtab, CTRL | SHIFT, 1),
        (Qt.Key.Key_Backtab, CTRL | SHIFT, 0),
        (Qt.Key.Key_Backtab, CTRL | SHIFT, 4),  # round the start
        (Qt.Key.Key_Tab, CTRL, 0),  # and round the end
    ]
    for key, modifiers, index in steps:
        target = QApplication.focusWidget() or window
        QTest.keyClick(target, key, modifiers)
        assert tabs.currentIndex() == index, (QKeySequence(key | modifiers).toString(), tabs.currentIndex())
    # From the timeline too, which has keys of its own.
    focus(qtbot, window.timeline)
    QTest.keyClick(window.timeline, Qt.Key.Key_Tab, CTRL)
    assert tabs.currentIndex() == 1


@pytest.fixture(params=[Theme.LIGHT, Theme.DARK], ids=lambda theme: theme.value)
def theme(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[Theme]:
    """The application in a theme for one test, back to the platform's look after it."""
    apply_theme(qapp, request.param)
    try:
        yield request.param
    finally:
        apply_theme(qapp, Theme.SYSTEM)


def _border(widget: QWidget) -> list[QColor]:
    """The colours of a few pixels on the edges of a picture of ``widget``."""
    picture = widget.grab().toImage()
    w, h = picture.width(), picture.height()
    points = [(w // 2, 0), (w // 2, h - 1), (0, h // 2), (w - 1, h // 2), (w // 3, 0), (0, h // 3)]
    return [picture.pixelColor(x, y) for x, y in points]


def test_the_focus_ring_shows_in_both_themes(qtbot: QtBot, theme: Theme) -> None:
    ring = focus_colour(QApplication.palette())
    assert (ring.lightness() > 128) == (theme is Theme.DARK)  # light on dark, dark on light
    view, bridge, _selection = shown_timeline(qtbot, Wire().session)
    table = QTableView()
    qtbot.addWidget(table)
    table.resize(300, 200)
    table.show()
    for widget in (view, table):
        activate(qtbot, widget)
        widget.clearFocus()
        qtbot.waitUntil(lambda w=widget: not w.hasFocus(), timeout=WAIT_MS)
        assert ring not in _border(widget), type(widget).__name__
        focus(qtbot, widget)
        assert _border(widget) == [ring] * 6, type(widget).__name__
    bridge.deleteLater()


def test_the_shortcut_list_holds_every_shortcut_of_the_window(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window()
    window.action_set.shortcuts_help.trigger()
    dialog = window.findChild(ShortcutsDialog)
    assert isinstance(dialog, ShortcutsDialog) and dialog.isVisible()
    listed = {(what, keys) for _section, keys, what in dialog.rows()}
    actions = [value for value in vars(window.action_set).values() if isinstance(value, QAction)]
    with_keys = [action for action in actions if action.shortcuts()]
    assert len(with_keys) >= 15
    native = QKeySequence.SequenceFormat.NativeText
    for action in with_keys:
        keys = ", ".join(k.toString(native) for k in action.shortcuts())
        what = action.text().replace("&", "").rstrip("…")
        assert (what, keys) in listed, (what, keys)
    for binding in TIMELINE_KEYS:
        assert (binding.description, binding.shown) in listed
    assert ("Next tab", "Ctrl+Tab, Ctrl+PgDown") in listed
    assert dialog.testAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.close()


def test_a_frame_number_in_a_finding_goes_to_that_frame(
    qtbot: QtBot, make_window: WindowFactory, tmp_path: Path
) -> None:
    window = make_window()
    session = opened(qtbot, window, findings_capture(tmp_path / "f.fscap.jsonl"))
    activate(qtbot, window)

    # The lint: its advice cites two frames; in the text, Tab reaches the first, Enter follows it.
    window.tabs.setCurrentWidget(window.lints)
    window.lints.view.setCurrentIndex(window.lints.proxy.index(0, 0))
    first, second = window.analysis.lints[0].frames
    advice = window.lints.advice
    assert f"frames {first} and {second}" in advice.plain_text()
    window.frames.view.clearSelection()
    focus(qtbot, advice)
    QTest.keyClick(advice, Qt.Key.Key_Tab)
    assert advice.hasFocus()  # on the link, not the next pane
    QTest.keyClick(advice, Qt.Key.Key_Return)
    assert window.tabs.currentWidget() is window.frames
    assert window.frames.selected_frames() == [first]

    # An anomaly: its text ends with the frames involved, each a link too.
    window.tabs.setCurrentWidget(window.anomalies)
    window.anomalies.view.setCurrentIndex(window.anomalies.proxy.index(0, 0))
    anomaly = window.anomalies.proxy.index(0, 0).data(ANOMALY_ROLE)
    detail = window.anomalies.detail
    linked = [int(n) for n in re.findall(r'href="frame:(\d+)"', detail.text())]
    assert linked[-len(anomaly.frames) :] == list(anomaly.frames)
    focus(qtbot, detail)
    QTest.keyClick(detail, Qt.Key.Key_Tab)
    with qtbot.waitSignal(window.anomalies.frameLinkActivated) as heard:
        QTest.keyClick(detail, Qt.Key.Key_Return)
    assert heard.args == [linked[0]]
    assert window.tabs.currentWidget() is window.frames
    assert window.frames.selected_frames() == [linked[0]] and len(session.frames) > linked[0]

    # A frame the session does not have: said, and nothing moves.
    window.tabs.setCurrentWidget(window.lints)
    window.lints.advice.linkActivated.emit("frame:99999")
    assert window.tabs.currentWidget() is window.lints
    assert window.status.currentMessage() == "Frame 99999 is not in the session shown"


# --- About and the captures folder ------------------------------------------------------------------


def test_about_gives_the_version_licence_protocol_and_opens_the_captures_folder(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window()
    desktop = window.help.open_url = UrlRecorder()
    folder = window.live.capture_folder.path
    window.action_set.about.trigger()
    about = window.findChild(AboutDialog)
    assert isinstance(about, AboutDialog) and about.isVisible()
    text = about.text.text()
    assert f"flushscope {flushscope.__version__}" in text and f"Licence: {LICENCE}." in text
    assert f'href="{PROTOCOL_URL}"' in text
    assert about.folder_label.text() == str(folder)
    QTest.mouseClick(about.open_button, Qt.MouseButton.LeftButton)
    assert desktop.urls == [QUrl.fromLocalFile(str(folder))] and folder.is_dir()
    about.close()


def test_show_captures_folder_asks_the_desktop_and_says_when_it_cannot(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window()
    folder = window.live.capture_folder.path
    desktop = window.help.open_url = UrlRecorder()
    window.action_set.show_captures_folder.trigger()
    assert desktop.urls == [QUrl.fromLocalFile(str(folder))] and folder.is_dir()
    assert not window.status.currentMessage().startswith("The desktop could not open")
    window.help.open_url = UrlRecorder(opens=False)
    window.action_set.show_captures_folder.trigger()
    assert window.status.currentMessage() == f"The desktop could not open {folder}"


# --- what an empty timeline says --------------------------------------------------------------------


def test_an_empty_timeline_says_why_in_each_state(
    qtbot: QtBot, make_window: WindowFactory, tmp_path: Path
) -> None:
    window = make_window()
    timeline, bar = window.timeline, window.connection_bar

    def says(state: ConnectionState, text: str) -> None:
        qtbot.waitUntil(lambda: window.live.status.state is state, timeout=WAIT_MS)
        assert timeline.lane_count() == 0 and timeline.empty_text() == text

    says(ConnectionState.DISCONNECTED, "Not connected: connect to a target, then send a transcript.")

    # A server that takes the connection and never answers: connecting.
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = run(qtbot, window, asyncio.start_server(silent, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    bar.set_target("custom", f"ws://127.0.0.1:{port}/tts/websocket")
    QTest.mouseClick(bar.connect_button, Qt.MouseButton.LeftButton)
    says(ConnectionState.CONNECTING, "Connecting…")
    QTest.mouseClick(bar.connect_button, Qt.MouseButton.LeftButton)  # give up
    says(ConnectionState.DISCONNECTED, "Not connected: connect to a target, then send a transcript.")
    server.close()

    bar.set_target("custom", f"ws://127.0.0.1:{closed_port()}/tts/websocket")
    QTest.mouseClick(bar.connect_button, Qt.MouseButton.LeftButton)
    says(ConnectionState.FAILED, "Not connected: the connection failed (see the reason at the top).")

    bar.set_target("emulator")
    QTest.mouseClick(bar.connect_button, Qt.MouseButton.LeftButton)
    says(ConnectionState.CONNECTED, "No contexts yet: send a transcript to start one.")

    opened(qtbot, window, findings_capture(tmp_path / "empty.fscap.jsonl", contexts=False))
    assert timeline.lane_count() == 0 and timeline.empty_text() == "This capture has no contexts."
    window.action_set.show_live.trigger()
    assert timeline.empty_text() == "No contexts yet: send a transcript to start one."


def test_the_comparison_says_what_to_do_before_its_first_run(
    qtbot: QtBot, make_window: WindowFactory
) -> None:
    window = make_window()
    compare = window.analysis_views.open_compare()
    assert compare.timeline.lane_count() == 0
    assert compare.timeline.empty_text() == EMPTY_TEXT
    assert "Run" in EMPTY_TEXT and "strateg" in EMPTY_TEXT
    compare.close()


# --- where the analysis windows open ------------------------------------------------------------------


def test_the_analysis_windows_open_inside_the_screen_and_where_they_were(
    qtbot: QtBot, make_window: WindowFactory, tmp_path: Path
) -> None:
    prefs = Preferences.at(tmp_path / "settings.ini")
    window = MainWindow(LiveSession(capture_dir=tmp_path / "captures"), preferences=prefs, keys=KeyStore())
    window.show()
    make_window.windows.append(window)
    screen = available_area()
    # Kept on a larger screen than this one, far off to the side: shrunk and moved in.
    prefs.set_geometry("compare", QRect(screen.right() + 500, 40, screen.width() + 900, 300), False)
    views = window.analysis_views
    compare = views.open_compare()
    assert screen.contains(compare.frameGeometry()) and compare.frameGeometry().width() == screen.width()
    place = QRect(screen.left() + 30, screen.top() + 20, screen.width() - 60, screen.height() - 80)
    compare.setGeometry(place)
    compare.close()
    assert prefs.geometry("compare") == (place, False)
    assert views.open_compare().geometry() == place
    compare.close()

    # The diff, the first time: its size, or the screen's where that is smaller, inside the screen.
    capture = findings_capture(tmp_path / "other.fscap.jsonl")
    diff = views.diff_with(capture)
    assert diff is not None and screen.contains(diff.frameGeometry())
    assert diff.frameGeometry().width() == min(PLACES["diff"].width(), screen.width())
    diff.setGeometry(place.translated(10, 10))
    # Kept when the main window closes with it open.
    window.close()
    qtbot.waitUntil(lambda: window.is_closed, timeout=WAIT_MS)
    assert Preferences.at(tmp_path / "settings.ini").geometry("diff") == (place.translated(10, 10), False)
