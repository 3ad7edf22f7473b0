"""The window driven as a user would: connect, type, click Send / Flush / End / Cancel, open captures, run a
script. Against the real embedded emulator (instant pacing) on 127.0.0.1, on a qasync loop."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMenu, QMessageBox
from pytestqt.qtbot import QtBot

from audio_sink import assert_played, decoded
from command_line import run_flushscope
from flushscope import cli
from flushscope.audio.player import Player, PlayerState
from flushscope.core.analysis.report import reported_segments
from flushscope.core.frames import Direction, Frame, meta_text
from flushscope.core.inputs.scenario import load_scenario
from flushscope.core.model.records import ContextState, SegmentState
from flushscope.core.model.session import rebuild
from flushscope.core.store.capture_reader import read_capture
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.emulator.config import EmulatorConfig, Pacing
from flushscope.net.client import ClientError
from flushscope.net.keepalive import Keepalive
from flushscope.net.live import ConnectionState, ConnectionStatus, LiveSession, timestamped_capture_name
from flushscope.resources import resource_path
from flushscope.ui.errors import ErrorReporter
from flushscope.ui.tables import TranscriptsModel
from flushscope.ui.window import MainWindow
from flushscope.ui.windows.keepalive_settings import KeepaliveDialog
from live_support import FreezingServer, closed_port
from window_support import WAIT_MS, close, run

# The offscreen platform cannot size top-level windows and says so whenever a window's limits change.
SIZE_HINTS = "does not support propagateSizeHints"
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(SIZE_HINTS)]

REPO = Path(__file__).resolve().parents[2]


# --- fixtures --------------------------------------------------------------------------------------


def connect(qtbot: QtBot, window: MainWindow) -> None:
    """Connect to the embedded emulator with the Connect button."""
    assert window.connection_bar.target_kind() == "emulator"
    QTest.mouseClick(window.connection_bar.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.live.status.state is ConnectionState.CONNECTED, timeout=WAIT_MS)


def type_text(window: MainWindow, text: str) -> None:
    window.composer.text_edit.setFocus()
    QTest.keyClicks(window.composer.text_edit, text)


def click(button: Any) -> None:
    assert button.isEnabled(), f"{button.text()} is disabled"
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def shows_live(window: MainWindow) -> bool:
    return window.bridge.session is window.live.session and window.captures.viewing is None


# --- typing and clicking ---------------------------------------------------------------------------


def test_send_flush_send_flush_end_agrees_everywhere(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    composer = window.composer
    assert not composer.send_button.isEnabled()
    connect(qtbot, window)
    assert "Connected to ws://127.0.0.1:" in window.connection_bar.reason()
    assert window.connection_bar.light.state is ConnectionState.CONNECTED
    assert window.connection_bar.url().endswith("/tts/websocket")

    # Send with no context starts one.
    assert not composer.send_button.isEnabled()
    type_text(window, "Hello there.")
    click(composer.send_button)
    session = window.live.session
    qtbot.waitUntil(lambda: len(session.contexts) == 1 and composer.text() == "", timeout=WAIT_MS)
    ctx = session.contexts[0]
    assert composer.current_context() == ctx.context_id
    assert composer.context_combo.currentText().startswith("1 · ")

    click(composer.flush_button)
    qtbot.waitUntil(lambda: ctx.segments[0].state is SegmentState.CLOSED, timeout=WAIT_MS)

    type_text(window, "How are you?")
    click(composer.send_flush_button)
    qtbot.waitUntil(
        lambda: len(ctx.segments) > 1 and ctx.segments[1].state is SegmentState.CLOSED, timeout=WAIT_MS
    )
    click(composer.end_button)
    qtbot.waitUntil(lambda: ctx.state is ContextState.DONE, timeout=WAIT_MS)
    window.bridge.flush()

    segments = reported_segments(ctx)
    assert [s.flush_id for s in segments] == [1, 2]
    assert [s.text for s in segments] == ["Hello there.", "How are you?"]
    assert all(s.chunk_count > 0 for s in segments)
    # The tables and the timeline show the same model.
    assert window.transcripts.model.rowCount() == len(segments)
    assert window.frames.model.rowCount() == len(session.frames)
    assert window.timeline.lane_count() == 1
    assert session.chunks.size == sum(s.chunk_count for s in ctx.segments)
    flush_ids = set(session.chunks.column("flush_id").tolist())
    assert flush_ids == {1, 2}
    assert session.counted_anomalies() == []
    # The ended context left the picker; what needs a context is off again.
    assert composer.current_context() is None
    assert not composer.flush_button.isEnabled()
    assert not composer.end_button.isEnabled()
    qtbot.waitUntil(
        lambda: window.tabs.tabText(0) == "Transcripts (2)", timeout=WAIT_MS
    )  # paced: 4 Hz at most

    # Clicking a transcript row selects that segment everywhere.
    view = window.transcripts.view
    view.selectRow(1)
    assert window.selection.segment is segments[1]

    capture = window.live.capture_path
    assert capture is not None and capture.parent.name == "captures"
    close(qtbot, window)
    loaded = read_capture(capture)
    assert len(loaded.frames) == len(session.frames)
    assert [s.flush_id for s in reported_segments(rebuild(loaded.frames).contexts[0])] == [1, 2]


def test_cancel_and_new_context(qtbot: QtBot, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    composer = window.composer
    connect(qtbot, window)
    assert composer.new_button.isEnabled()
    assert not composer.cancel_button.isEnabled()

    click(composer.new_button)
    qtbot.waitUntil(lambda: composer.current_context() is not None, timeout=WAIT_MS)
    first = composer.current_context()
    assert composer.context_combo.currentText().startswith("new · ")
    assert composer.flush_button.isEnabled() and composer.cancel_button.isEnabled()
    assert not composer.send_button.isEnabled()  # no text yet

    composer.auto_flush.setChecked(True)
    type_text(window, "A rather long sentence, so that there is audio to cancel.")
    click(composer.send_button)  # auto-flush: sent and flushed
    session = window.live.session
    qtbot.waitUntil(
        lambda: len(session.contexts) == 1 and session.contexts[0].flushes_sent == 1, timeout=WAIT_MS
    )
    assert session.contexts[0].context_id == first

    click(composer.cancel_button)
    qtbot.waitUntil(lambda: session.contexts[0].state is ContextState.CANCELLED, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: composer.current_context() is None, timeout=WAIT_MS)
    assert not composer.cancel_button.isEnabled()

    # A second context while the first is done: the newest is the one selected.
    click(composer.new_button)
    click(composer.new_button)
    qtbot.waitUntil(lambda: composer.context_combo.count() == 2, timeout=WAIT_MS)
    assert composer.current_context() == window.live.open_contexts()[-1]


def test_keyboard_shortcuts_send_flush_and_end(qtbot: QtBot, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    acts, composer = window.action_set, window.composer
    # The composer's commands and their shortcuts, as the README lists them; Enter on the keypad too.
    commands = (
        acts.new_context,
        acts.send,
        acts.flush,
        acts.send_flush,
        acts.end_context,
        acts.cancel_context,
    )
    assert [(a.text(), [k.toString() for k in a.shortcuts()]) for a in commands] == [
        ("New context", ["Ctrl+N"]),
        ("Send", ["Ctrl+Return", "Ctrl+Enter"]),
        ("Flush", ["Ctrl+Shift+F"]),
        ("Send + Flush", ["Ctrl+Shift+Return"]),
        ("End context", ["Ctrl+E"]),
        ("Cancel", ["Ctrl+Shift+X"]),
    ]
    connect(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)
    type_text(window, "Shortcut. ")
    ctrl = Qt.KeyboardModifier.ControlModifier
    QTest.keyClick(composer.text_edit, Qt.Key.Key_Return, ctrl)
    session = window.live.session
    qtbot.waitUntil(lambda: len(session.contexts) == 1, timeout=WAIT_MS)
    assert session.contexts[0].segments[0].text == "Shortcut. "
    type_text(window, "Keypad.")
    QTest.keyClick(composer.text_edit, Qt.Key.Key_Enter, ctrl | Qt.KeyboardModifier.KeypadModifier)
    qtbot.waitUntil(lambda: len(session.contexts[0].segments[0].transcripts) == 2, timeout=WAIT_MS)
    QTest.keyClick(composer.text_edit, Qt.Key.Key_F, ctrl | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: session.contexts[0].flushes_sent == 1, timeout=WAIT_MS)
    QTest.keyClick(composer.text_edit, Qt.Key.Key_E, ctrl)
    qtbot.waitUntil(lambda: session.contexts[0].state is ContextState.DONE, timeout=WAIT_MS)
    assert session.contexts[0].segments[0].text == "Shortcut. Keypad."
    for button in (composer.send_button, composer.end_button):
        assert "(Ctrl+" in button.toolTip()


def test_bad_settings_are_reported_not_raised(qtbot: QtBot, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    connect(qtbot, window)
    window.composer.settings_form.voice.setText("has spaces")
    assert not window.composer.settings_section.is_expanded()
    click(window.composer.new_button)
    qtbot.waitUntil(lambda: "voice" in window.status.currentMessage(), timeout=WAIT_MS)
    assert window.composer.settings_section.is_expanded()
    assert window.live.open_contexts() == []


# --- connection failures ---------------------------------------------------------------------------


def test_refused_connection_shows_the_reason_and_stays_usable(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    bar = window.connection_bar
    port = closed_port()
    bar.set_target("custom")
    assert not bar.url_edit.isReadOnly()
    bar.url_edit.clear()
    QTest.keyClicks(bar.url_edit, f"ws://127.0.0.1:{port}")
    click(bar.connect_button)
    qtbot.waitUntil(lambda: bar.light.state is ConnectionState.FAILED, timeout=WAIT_MS)
    assert f"127.0.0.1:{port}" in bar.reason()
    assert "cannot reach" in bar.reason()
    assert bar.connect_button.text() == "Connect"
    assert not window.composer.send_button.isEnabled()
    assert window.live.emulator is None  # nothing started for a custom URL

    # Still usable: the emulator connects.
    bar.set_target("emulator")
    assert bar.url_edit.isReadOnly()
    connect(qtbot, window)
    assert bar.light.state is ConnectionState.CONNECTED
    type_text(window, "Back in business.")
    assert window.composer.send_button.isEnabled()

    # Disconnect: grey light, the buttons off.
    click(bar.connect_button)
    qtbot.waitUntil(lambda: bar.light.state is ConnectionState.DISCONNECTED, timeout=WAIT_MS)
    assert not window.composer.send_button.isEnabled()


def test_live_session_without_a_window(tmp_path: Path) -> None:
    async def scenario() -> None:
        live = LiveSession(
            capture_path=tmp_path / "x.fscap.jsonl", emulator_config=EmulatorConfig(pacing=Pacing.instant())
        )
        seen: list[ConnectionState] = []

        def heard(status: ConnectionStatus) -> None:
            # The URL shown while connecting may be filled in by a second report of the same state.
            if seen[-1:] != [status.state]:
                seen.append(status.state)

        live.add_listener(heard)
        with pytest.raises(ClientError, match="enter a URL"):
            await live.connect("custom", "")
        with pytest.raises(ClientError, match="not connected"):
            live.new_context(window_settings())
        await live.connect("emulator")
        context_id = live.new_context(window_settings())
        assert live.open_contexts() == [context_id]
        await live.send_flush(context_id, "Hi.")
        await live.end(context_id)
        assert live.open_contexts() == []
        await live.aclose()
        await live.aclose()
        assert seen == [
            ConnectionState.CONNECTING,
            ConnectionState.FAILED,
            ConnectionState.CONNECTING,
            ConnectionState.CONNECTED,
            ConnectionState.DISCONNECTED,
        ]

    asyncio.run(scenario())
    frames = read_capture(tmp_path / "x.fscap.jsonl").frames
    assert any('"transcript":"Hi."' in f.text for f in frames)
    assert timestamped_capture_name().startswith("flushscope-")


def window_settings() -> Any:
    from flushscope.core.inputs.generation_settings import GenerationSettings

    return GenerationSettings()


# --- captures --------------------------------------------------------------------------------------


def _request(ctx: str, transcript: str, *, cont: bool = True, flush: bool = False) -> str:
    obj: dict[str, Any] = {
        "context_id": ctx,
        "model_id": "sonic-3",
        "transcript": transcript,
        "voice": {"mode": "id", "id": "v"},
        "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
        "continue": cont,
        "max_buffer_delay_ms": 0,
    }
    if flush:
        obj["flush"] = True
    return json.dumps(obj)


def _chunk(ctx: str, flush_id: int) -> str:
    # A ramp of its own per context and segment: what plays can be told apart.
    step = flush_id + (10 if ctx == "beta" else 0)
    audio = base64.b64encode((np.arange(2400) * step % 30000).astype("<i2").tobytes()).decode()
    return json.dumps(
        {
            "type": "chunk",
            "context_id": ctx,
            "status_code": 206,
            "done": False,
            "data": audio,
            "flush_id": flush_id,
        }
    )


def write_capture(path: Path) -> int:
    """Two contexts, two segments each, three chunks per segment; returns the number of frames."""
    texts: list[tuple[Direction, str]] = [
        (Direction.META, meta_text("connect", url="ws://example/tts/websocket"))
    ]
    for ctx in ("alpha", "beta"):
        for n, words in enumerate(("One.", "Two."), start=1):
            texts.append((Direction.SEND, _request(ctx, words)))
            texts.append((Direction.SEND, _request(ctx, "", flush=True)))
            texts += [(Direction.RECV, _chunk(ctx, n))] * 3
            texts.append(
                (
                    Direction.RECV,
                    json.dumps(
                        {"type": "flush_done", "context_id": ctx, "status_code": 206, "done": False,
                         "flush_id": n, "flush_done": True}
                    ),
                )
            )  # fmt: skip
        texts.append((Direction.SEND, _request(ctx, "", cont=False)))
        texts.append(
            (
                Direction.RECV,
                json.dumps({"type": "done", "context_id": ctx, "status_code": 206, "done": True}),
            )
        )
    with CaptureWriter(path, "ws://example/tts/websocket?api_key=secret-key") as writer:
        for i, (direction, text) in enumerate(texts):
            writer.write(Frame(i, 0.01 * (i + 1), 1, direction, text))
    return len(texts)


def test_open_capture_read_only_then_back_to_live(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    connect(qtbot, window)
    type_text(window, "Live text.")
    path = tmp_path / "two.fscap.jsonl"
    count = write_capture(path)

    with qtbot.waitSignal(window.captures.captureOpened):
        assert window.captures.open(path)
    session = window.bridge.session
    assert session is not window.live.session
    assert len(session.frames) == count
    assert [c.context_id for c in session.contexts] == ["alpha", "beta"]
    assert window.transcripts.model.rowCount() == 4
    assert window.frames.model.rowCount() == count
    assert window.timeline.lane_count() == 2
    assert window.composer.read_only
    assert not window.composer.send_button.isEnabled()  # text is there, but a capture is read-only
    assert window.status.connection_label.text().startswith("Capture · two.fscap.jsonl")
    assert window.windowTitle() == "two.fscap.jsonl — flushscope"
    actions = window.action_set
    # A recording does not grow: nothing to follow, in the menu and beside the timeline alike.
    assert actions.show_live.isEnabled() and not actions.follow.isEnabled()
    assert not window.timeline_controls.follow_check.isEnabled()
    assert not actions.export_segment.isEnabled() and not actions.copy_context_id.isEnabled()
    window.selection.select_segment(session.contexts[1].segments[0])
    assert actions.export_segment.isEnabled() and actions.export_context.isEnabled()
    assert actions.copy_timings.isEnabled() and actions.copy_context_id.isEnabled()
    window.selection.select_context(session.contexts[0])
    assert not actions.export_segment.isEnabled() and actions.export_context.isEnabled()

    # A file that is not a capture: a message, the capture shown stays.
    bad = tmp_path / "bad.fscap.jsonl"
    bad.write_text('{"format": "something else"}\n')
    assert not window.captures.open(bad)
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    assert "not a flushscope capture" in box.text()
    box.close()
    assert window.bridge.session is session

    # Save a copy of what is shown.
    copy = tmp_path / "copy.fscap.jsonl"
    assert window.captures.save_as(copy)
    assert copy.read_bytes() == path.read_bytes()

    with qtbot.waitSignal(window.captures.liveShown):
        window.action_set.show_live.trigger()
    assert shows_live(window)
    assert not window.composer.text_edit.isReadOnly()
    assert window.composer.send_button.isEnabled()
    assert not actions.show_live.isEnabled() and actions.follow.isEnabled()
    assert window.timeline_controls.follow_check.isEnabled() and window.windowTitle() == "flushscope"
    # Follow live: the check box, the menu action and the timeline agree whichever is used.
    window.timeline_controls.follow_check.setChecked(False)
    assert not actions.follow.isChecked() and not window.timeline.is_following()
    actions.follow.trigger()
    assert window.timeline_controls.follow_check.isChecked() and window.timeline.is_following()


def test_drop_a_capture_file(qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path) -> None:
    window = make_window()
    path = tmp_path / "dropped.fscap.jsonl"
    write_capture(path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    where, action = QPoint(100, 100), Qt.DropAction.CopyAction
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    two = QMimeData()
    two.setUrls([QUrl.fromLocalFile(str(path)), QUrl.fromLocalFile(str(tmp_path / "other.jsonl"))])
    refused = QDragEnterEvent(where, action, two, buttons, keys)
    QApplication.sendEvent(window, refused)
    assert not refused.isAccepted()  # one file at a time
    entered = QDragEnterEvent(where, action, mime, buttons, keys)
    QApplication.sendEvent(window, entered)
    assert entered.isAccepted()
    QApplication.sendEvent(window, QDropEvent(QPointF(where), action, mime, buttons, keys))
    assert window.captures.viewing == path
    assert window.timeline.lane_count() == 2


# Nor can it raise a popup menu or give it the keyboard.
@pytest.mark.qt_log_ignore(SIZE_HINTS, "does not support raise", "does not support grabbing")
def test_play_from_the_table_and_the_timeline_menu(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path, alsa_file: Path
) -> None:
    window = make_window(Player())
    playback = window.playback
    path = tmp_path / "play.fscap.jsonl"
    write_capture(path)
    assert window.captures.open(path)
    audio = window.bridge.session.audio
    beta_first = window.bridge.session.contexts[1].segments[0]
    fmt = beta_first.context.format
    assert fmt is not None
    view = window.transcripts.view
    index = view.model().index(2, TranscriptsModel.PLAY)
    # ALSA's null sink takes the audio at once: playback starts and ends within the click's wait.
    with qtbot.waitSignal(
        playback.stateChanged, timeout=WAIT_MS, check_params_cb=lambda s: s is PlayerState.STOPPED
    ):
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center())
    assert_played(alsa_file, fmt, decoded(audio.segment(beta_first), fmt))
    assert window.status.currentMessage() == "Playing segment 1 of context beta"

    window.timeline.segmentContextMenuRequested.emit(beta_first, window.mapToGlobal(QPoint(200, 200)))
    menu = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMenu) and w.isVisible())
    assert window.selection.segment is beta_first
    actions = {a.text().replace("&", ""): a for a in menu.actions() if not a.isSeparator()}
    assert list(actions) == [
        "Play segment",
        "Play context",
        "Play from here",
        "Stop",
        "Export segment as WAV…",
        "Export context as WAV…",
        "Copy segment timings",
        "Copy context_id",
    ]
    assert actions["Play segment"].isEnabled() and actions["Play context"].isEnabled()
    assert not actions["Stop"].isEnabled()  # nothing plays
    with qtbot.waitSignal(
        playback.stateChanged, timeout=WAIT_MS, check_params_cb=lambda s: s is PlayerState.STOPPED
    ):
        actions["Play context"].trigger()
    menu.close()
    assert_played(alsa_file, fmt, decoded(audio.context(beta_first.context), fmt))
    wav = tmp_path / "beta.wav"
    task = window.spawn(window.exports.save_wav(beta_first, wav))
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    assert task.result() and wav.stat().st_size == 44 + len(decoded(audio.segment(beta_first), fmt)) * 2


def test_save_live_capture_and_export_png(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    assert not window.captures.save_as(tmp_path / "nothing.fscap.jsonl")  # nothing recorded yet
    connect(qtbot, window)
    type_text(window, "Keep this.")
    click(window.composer.send_flush_button)
    qtbot.waitUntil(lambda: window.live.session.chunks.size > 0, timeout=WAIT_MS)
    copy = tmp_path / "kept.fscap.jsonl"
    assert window.captures.save_as(copy)
    assert any("Keep this." in f.text for f in read_capture(copy).frames)
    png = tmp_path / "timeline.png"
    assert window.exports.export_timeline(png)
    assert not QImage(str(png)).isNull()
    # A picture of the whole run: counts up to date at once, taken after the timeline painted it.
    window.show_whole_run()
    frames = f"Frames: {len(window.live.session.frames):,}"
    assert window.status.frames_label.text() == frames and window.tabs.tabText(0) == "Transcripts (1)"
    paints: list[int] = []
    window.timeline.painted.connect(lambda: paints.append(1))
    run(qtbot, window, window.painted())
    assert paints
    shot = tmp_path / "window.png"
    assert window.screenshot(shot)
    assert QImage(str(shot)).width() == window.width()


def test_a_server_that_stops_answering_is_shown_stalled_then_connected(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    window.live_control.set_keepalive(Keepalive(interval_s=0.05, stall_after_s=0.3, timeout_s=30.0))
    assert "stalled after 0.3 s" in window.status.currentMessage()
    server = FreezingServer()
    run(qtbot, window, server.__aenter__())
    bar = window.connection_bar
    try:
        bar.show_target("custom", server.url)
        click(bar.connect_button)
        qtbot.waitUntil(lambda: window.live.status.state is ConnectionState.CONNECTED, timeout=WAIT_MS)
        run(qtbot, window, server.connection())
        server.freeze()
        qtbot.waitUntil(lambda: bar.light.state is ConnectionState.STALLED, timeout=WAIT_MS)
        assert bar.reason() == "no answer from the server for 0.3 s"
        # The fields stay locked; another target can be picked (the window asks to disconnect first).
        assert bar.connect_button.text() == "Disconnect" and not bar.key_edit.isEnabled()
        assert bar.target_combo.isEnabled()
        assert window.status.connection_label.text() == "Live · stalled"
        server.thaw()
        qtbot.waitUntil(lambda: bar.light.state is ConnectionState.CONNECTED, timeout=WAIT_MS)
        assert bar.reason().startswith("Connected to ws://127.0.0.1:")
    finally:
        run(qtbot, window, window.live.disconnect())
        run(qtbot, window, server.__aexit__(None, None, None))
    stalls = [
        f.meta()["event"]
        for f in window.live.session.frames
        if f.meta().get("event") in ("stalled", "resumed")
    ]
    assert stalls == ["stalled", "resumed"]


def test_connection_settings_apply_to_the_next_connection(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    window.action_set.connection_settings.trigger()
    dialog = next(
        w for w in QApplication.topLevelWidgets() if isinstance(w, KeepaliveDialog) and w.isVisible()
    )
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled() and dialog.keepalive() == window.live.keepalive
    dialog.timeout.setValue(dialog.stall_after.value())
    assert not ok.isEnabled() and dialog.problem.text() == "Give up after must be longer than Stalled after."
    dialog.interval.setValue(2.0)
    dialog.stall_after.setValue(1.5)
    dialog.timeout.setValue(9.0)
    assert ok.isEnabled()
    ok.click()
    assert window.live.keepalive == Keepalive(interval_s=2.0, stall_after_s=1.5, timeout_s=9.0)
    connect(qtbot, window)
    client = window.live.client
    assert client is not None and client.keepalive == window.live.keepalive


# --- errors ----------------------------------------------------------------------------------------


def test_uncaught_exception_shows_a_dialog_and_is_logged(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    reporter = ErrorReporter()
    try:
        raise ValueError("a bug")
    except ValueError as exc:
        reporter.report(type(exc), exc, exc.__traceback__)
        reporter.report(type(exc), exc, exc.__traceback__)  # a second one while the box is open: logged only
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    assert "ValueError: a bug" in box.informativeText()
    assert "Traceback" in box.detailedText()
    assert reporter.count == 2
    assert sum("uncaught exception" in r.message for r in caplog.records) == 2
    box.done(0)
    assert reporter._box is None


# --- scripted runs and resources -------------------------------------------------------------------


def test_resources_are_found() -> None:
    assert resource_path("flushscope.svg").read_text().startswith("<svg")
    assert "Exec=flushscope" in resource_path("flushscope.desktop").read_text()
    scenario = load_scenario(resource_path("scenarios/three-contexts.txt"))
    assert len(scenario.contexts) == 3
    with pytest.raises(FileNotFoundError, match="searched"):
        resource_path("missing.txt")
    with pytest.raises(ValueError):
        resource_path("../pyproject.toml")


def test_bad_script_exits_before_anything_is_sent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "bad.txt"
    script.write_text("send Hello\nflsuh\n")
    assert cli.main(["--script", str(script), "--exit-when-done", "--pace", "instant"]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "did you mean 'flush'" in err


def _run_gui(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_DATA_HOME": str(tmp_path / "data")}
    env.pop("CARTESIA_API_KEY", None)
    return run_flushscope(*args, cwd=REPO, env=env)


def test_script_run_takes_a_screenshot_and_exits(tmp_path: Path) -> None:
    png = tmp_path / "window.png"
    capture = tmp_path / "run.fscap.jsonl"
    result = _run_gui(
        tmp_path,
        "--pace",
        "instant",
        "--script",
        "resources/scenarios/three-contexts.txt",
        "--screenshot",
        str(png),
        "--exit-when-done",
        "--record",
        str(capture),
    )
    assert result.returncode == 0, result.stderr
    image = QImage(str(png))
    # The offscreen platform's screen is 800x600: the window takes all of it.
    assert image.width() >= 800 and image.height() >= 580
    assert png.stat().st_size > 20_000  # a drawn window, not a blank one
    session = rebuild(read_capture(capture).frames)
    assert len(session.contexts) == 3
    assert all(ctx.state is ContextState.DONE for ctx in session.contexts)
    assert session.counted_anomalies() == []


def test_script_run_fails_when_the_connection_does(tmp_path: Path) -> None:
    result = _run_gui(
        tmp_path,
        "--url",
        f"ws://127.0.0.1:{closed_port()}",
        "--script",
        "resources/scenarios/three-contexts.txt",
        "--exit-when-done",
    )
    assert result.returncode == 1
    assert "cannot connect" in result.stderr and "cannot reach" in result.stderr
