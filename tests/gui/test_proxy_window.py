"""The window as a recording proxy: start it from the connection bar, point the official SDK at it (on the
window's own loop), and watch the app's contexts appear with its client label; the composer stays out of
it, and no key reaches the capture or the bar."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from cartesia import AsyncCartesia
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from flushscope.core.inputs.generation_settings import DEFAULT_VOICE_ID
from flushscope.core.model.records import ContextState
from flushscope.net.live import ConnectionState
from flushscope.ui.tables import FramesModel
from flushscope.ui.widgets.connection_bar import ElidedLabel
from flushscope.ui.window import MainWindow
from window_support import WAIT_MS, run

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]

KEY = "sk_car_window_proxy_secret_77"


async def speak(url: str, texts: list[str]) -> None:
    """One context through the official SDK: each text flushed into its own segment, then the end."""
    client = AsyncCartesia(api_key=KEY, websocket_base_url=url)
    async with client.tts.websocket_connect() as conn:
        ctx = conn.context(
            model_id="sonic-3",
            voice={"mode": "id", "id": DEFAULT_VOICE_ID},
            output_format={"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
            timeout=WAIT_MS / 1000,
        )
        for text in texts:
            await ctx.push(text)
            await ctx.push("", flush=True)
        await ctx.no_more_inputs()
        async for _event in ctx.receive():
            pass


def test_the_proxy_target_records_the_users_app(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    bar, panel, composer = window.connection_bar, window.proxy_panel, window.composer
    assert not window.connections.isVisible()  # no connection yet: nothing to choose from
    bar.set_target("proxy", "127.0.0.1:0")
    bar.set_upstream("emulator")
    assert bar.upstream_combo.isVisible() and not bar.upstream_edit.isVisible()
    assert not bar.version_edit.isVisible()
    assert bar.key_edit.placeholderText() == "optional: replaces the apps' keys"
    assert bar.connect_button.text() == "Start proxy" and not panel.isVisible()
    bar.key_edit.setText(KEY)
    QTest.mouseClick(bar.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.live.status.state is ConnectionState.LISTENING, timeout=WAIT_MS)
    url = window.live.status.url
    assert bar.reason() == f"Listening on {url}" and bar.connect_button.text() == "Stop proxy"
    assert window.status.currentMessage().startswith(f"Proxy listening on {url}; recording to ")

    # What to paste, and the composer out of the way: the panel takes the whole left column.
    assert panel.isVisible() and panel.empty_label.isVisible() and not composer.isVisible()
    assert "your app is the client" in panel.note_label.text().lower()
    assert window.timeline.lane_count() == 0
    assert window.timeline.empty_text() == f"Waiting for your app to connect to {url}/tts/websocket"
    assert panel.setting("URL").text == f"{url}/tts/websocket"
    assert panel.setting("Python SDK").text == f'Cartesia(api_key=..., websocket_base_url="{url}")'
    # A line wider than the panel is cut in its middle, its ends kept, and shown whole on hover.
    sdk = next(
        f for f in panel.findChildren(ElidedLabel) if f.full_text() == panel.setting("Python SDK").text
    )
    assert sdk.toolTip() == sdk.full_text() and sdk.width() < QFontMetrics(sdk.font()).horizontalAdvance(
        sdk.toolTip()
    )
    assert sdk.text().startswith("Cartesia(") and "…" in sdk.text() and sdk.text().endswith(f'{url[-4:]}")')
    assert (
        panel.copy("LiveKit")
        == QApplication.clipboard().text()
        == (f'cartesia.TTS(api_key=..., base_url="{url.replace("ws://", "http://")}")')
    )
    assert window.status.currentMessage() == "Copied the LiveKit setting"
    composer.text_edit.setPlainText("Typed while proxying.")
    assert not composer.send_button.isEnabled() and not composer.new_button.isEnabled()

    run(qtbot, window, speak(url, ["Hello from my app. ", "And a second segment."]))
    session = window.live.session
    qtbot.waitUntil(
        lambda: bool(session.contexts) and session.contexts[0].state is ContextState.DONE, timeout=WAIT_MS
    )
    qtbot.waitUntil(
        lambda: panel.connections.count() == 1 and "closed" in panel.connections.item(0).text(),
        timeout=WAIT_MS,
    )
    window.bridge.flush()
    [ctx] = session.contexts
    assert [s.flush_id for s in ctx.segments if s.nbytes] == [1, 2]
    assert window.transcripts.model.rowCount() == 2 and window.timeline.lane_count() == 1
    label = session.connections[1].client
    assert label is not None and label.startswith("cartesia-python/")
    port = session.connections[1].port
    assert port is not None and ctx.client == f"{label} :{port}"
    # One numbering: the panel, the lanes and the list beside the timeline say the session's connection.
    assert panel.connections.item(0).text() == f"conn 1 · closed 1000 · {label} :{port}"
    assert panel.connections.item(0).toolTip().startswith(f"{label} from 127.0.0.1:")
    frames = window.frames.model
    assert frames.index(0, FramesModel.CONNECTION).data() == f"1 · {label} :{port}"

    # A second app: the views narrow to one connection, from the list beside the timeline or the panel.
    chooser = window.connections
    assert not chooser.isVisible()
    run(qtbot, window, speak(url, ["A second app speaks."]))
    qtbot.waitUntil(lambda: len(session.contexts) == 2 and session.contexts[1].state is ContextState.DONE)
    window.bridge.flush()
    assert chooser.isVisible() and chooser.count() == 3
    assert chooser.itemText(2) == f"conn 2 · {session.connections[2].label}"
    assert panel.connections.item(0).text().startswith("conn 2 · ")
    gutter = window.timeline.describe_at(QPoint(20, window.timeline.lane_rect(1).center().y()))
    assert gutter is not None and gutter.endswith(f"connection 2 · {session.connections[2].label}")
    panel.connections.itemClicked.emit(panel.connections.item(0))  # the newest: connection 2
    assert chooser.chosen() == 2
    assert window.transcripts.proxy.rowCount() == 1 and window.transcripts.model.rowCount() == 3
    assert window.timeline.lane_count() == 1 and window.timeline.lane_context(0) is session.contexts[1]
    shown = window.frames.proxy
    assert shown.rowCount() == sum(1 for f in session.frames if f.conn == 2)
    assert {shown.index(r, FramesModel.CONNECTION).data() for r in range(shown.rowCount())} == {
        f"2 · {session.connections[2].label}"
    }
    chooser.choose(None)
    assert window.transcripts.proxy.rowCount() == 3 and shown.rowCount() == len(session.frames)
    assert window.timeline.lane_count() == 2

    QTest.mouseClick(bar.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.live.status.state is ConnectionState.DISCONNECTED, timeout=WAIT_MS)
    assert not panel.isVisible() and composer.isVisible()
    assert window.timeline.empty_text() == "Not connected: connect to a target, then send a transcript."
    assert bar.connect_button.text() == "Start proxy"
    capture = window.live.capture_path
    assert capture is not None and KEY not in capture.read_text()
    shot = tmp_path / "bar.png"
    assert bar.grab().save(str(shot))
    assert bar.key_edit.echoMode() is bar.key_edit.EchoMode.Password and KEY not in bar.reason()


def test_listening_for_other_machines_needs_the_box_ticked_and_says_the_risk(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    bar, panel = window.connection_bar, window.proxy_panel
    bar.set_target("emulator")
    assert not bar.remote_check.isVisible()
    bar.set_target("proxy", "0.0.0.0:0")
    bar.set_upstream("emulator")
    assert bar.remote_check.isVisible() and not bar.remote_check.isChecked()
    assert "anyone who can reach this port can use it" in bar.remote_check.toolTip()
    QTest.mouseClick(bar.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.live.status.state is ConnectionState.FAILED, timeout=WAIT_MS)
    assert bar.reason().startswith("0.0.0.0:0 can be reached from other machines")
    assert "tick Allow remote" in bar.reason() and not panel.isVisible()

    bar.remote_check.setChecked(True)
    QTest.mouseClick(bar.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.live.status.state is ConnectionState.LISTENING, timeout=WAIT_MS)
    url = window.live.status.url
    port = url.rpartition(":")[2]
    # The URL to use is one that works, never the wildcard; other machines get the host name's.
    assert url == f"ws://127.0.0.1:{port}" and not bar.remote_check.isEnabled()
    assert panel.setting("URL").text == f"{url}/tts/websocket"
    assert panel.remote_label.isVisible()
    assert (
        "Other machines can reach this proxy: anyone who can reach this port can use it"
        in panel.remote_label.text()
    )
    others = window.live.proxy_remote_urls
    if others:
        assert others == [f"ws://{socket.gethostname()}:{port}"]
        assert panel.setting("Other machines").text == f"{others[0]}/tts/websocket"
    QTest.mouseClick(bar.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.live.status.state is ConnectionState.DISCONNECTED, timeout=WAIT_MS)
    assert bar.remote_check.isEnabled() and bar.remote_check.isChecked()


def test_the_proxy_can_be_picked_while_connected_once_the_user_agrees_to_disconnect(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    bar, live = window.connection_bar, window.live_control
    assert run(qtbot, window, live.connect_target("emulator"))
    assert bar.target_combo.isEnabled() and bar.connect_button.text() == "Disconnect"

    def pick_proxy() -> QMessageBox:
        # The user picks the last target, Proxy for your app, with the keyboard.
        QTest.keyClick(bar.target_combo, Qt.Key.Key_End)
        question = live.switch_question
        assert question is not None and question.isVisible()
        # The bar goes on showing the connection until it is stopped.
        assert bar.target_kind() == "emulator" and bar.connect_button.text() == "Disconnect"
        return question

    question = pick_proxy()
    assert question.text().startswith(
        f"Stop the connection to {window.live.status.url} to use the proxy for your app"
    )
    question.button(QMessageBox.StandardButton.Cancel).click()
    assert live.switch_question is None and window.live.connected and bar.target_kind() == "emulator"

    question = pick_proxy()
    [disconnect] = [b for b in question.buttons() if b.text() == "Disconnect"]
    disconnect.click()
    qtbot.waitUntil(lambda: window.live.status.state is ConnectionState.DISCONNECTED, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: bar.target_kind() == "proxy", timeout=WAIT_MS)
    assert bar.connect_button.text() == "Start proxy" and bar.upstream_combo.isVisible()
    assert window.status.currentMessage() == "Stopped; set up the proxy for your app and press Start proxy"
