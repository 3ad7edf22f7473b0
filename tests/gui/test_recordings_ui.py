"""The captures folder in the window: Edit > Preferences… shows the folder, what it holds and its cap, and
applies a new cap at once; File > Pin this capture keeps the recording shown whatever the cap."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pytest
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from flushscope.core.store.capture_folder import DEFAULT_CAP, RETENTION_FILE
from flushscope.ui.window import MainWindow
from window_support import run

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]


def test_pin_the_live_recording_then_cap_the_folder_from_preferences(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    acts, folder = window.action_set, window.live.capture_folder.path
    assert not acts.pin_capture.isEnabled()  # nothing recorded yet
    old = folder / "flushscope-20250101-120000.fscap.jsonl"
    folder.mkdir(parents=True)
    old.write_bytes(b"x" * 4096)
    os.utime(old, (0, 0))

    assert run(qtbot, window, window.live_control.connect_target("emulator"))
    recording = window.live.capture_path
    assert recording is not None and recording.parent == folder
    assert acts.pin_capture.isEnabled() and not acts.pin_capture.isChecked()
    acts.pin_capture.trigger()
    assert acts.pin_capture.isChecked()
    assert window.status.currentMessage() == (f"Pinned {recording.name}: it is kept whatever the cap")
    stored = json.loads((folder / RETENTION_FILE).read_text())
    assert stored == {"cap_bytes": DEFAULT_CAP, "pinned": [recording.name]}

    dialog = window.recordings.open_preferences()
    assert dialog.folder_label.text() == str(folder)
    assert dialog.size_label.text().startswith("2 recordings, ") and dialog.size_label.text().endswith(
        "(1 pinned)"
    )
    assert dialog.cap.value() == 2.0
    dialog.cap.setValue(0.5)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert json.loads((folder / RETENTION_FILE).read_text())["cap_bytes"] == 512 * 1024**2
    assert window.status.currentMessage() == "Recordings are kept under 512 MiB"

    # A cap the recordings do not fit: the oldest goes at once, the pinned recording stays.
    said = window.recordings.set_cap(1)
    assert said.startswith("Recordings are kept under 1 bytes; removed the 1 oldest recording (4 KiB)")
    assert not old.exists() and recording.exists()
    acts.pin_capture.trigger()
    assert not acts.pin_capture.isChecked()
    assert json.loads((folder / RETENTION_FILE).read_text())["pinned"] == []


def test_preferences_say_why_a_broken_retention_file_stops_the_cap(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    folder = window.live.capture_folder.path
    folder.mkdir(parents=True)
    (folder / RETENTION_FILE).write_text("{broken")
    dialog = window.recordings.open_preferences()
    assert dialog.problem.isVisible() and "is not JSON" in dialog.problem.text()
    assert "no recording is removed" in dialog.problem.text()
    assert not dialog.cap.isEnabled()
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    dialog.reject()
    assert (folder / RETENTION_FILE).read_text() == "{broken"
