"""A capture in the window, read from its file: opened in steps with a progress bar that can stop it,
followed as it grows, still shown (and said) when moved or deleted, and said in words where the audio
would be when the file changed under it. The waveform of long audio is folded in block by block."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from flushscope.core.analysis import envelope as envelope_module
from flushscope.core.analysis.envelope import min_max_columns
from flushscope.core.formats import capture_index
from flushscope.core.frames import Direction, Frame
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.protocol.audio import decode
from flushscope.ui.controllers import captures
from flushscope.ui.window import MainWindow
from window_support import WAIT_MS

SIZE_HINTS = "does not support propagateSizeHints"
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(SIZE_HINTS)]

FORMAT = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 8000}
CHUNK_SAMPLES = 400


def chunk_audio(i: int) -> bytes:
    t = np.arange(CHUNK_SAMPLES) + i * CHUNK_SAMPLES
    return (np.sin(t * 0.05) * (1000 + 50 * (i % 20))).astype("<i2").tobytes()


def lines(contexts: int, chunks: int, first: int = 0) -> list[tuple[float, Direction, str]]:
    """Frames of ``contexts`` contexts, one flushed segment each, ``chunks`` chunks per context."""
    out: list[tuple[float, Direction, str]] = []
    t = first * 0.015625
    for c in range(contexts):
        request = {
            "context_id": f"c{c}",
            "transcript": "Words to speak. ",
            "output_format": FORMAT,
            "continue": True,
            "flush": True,
        }
        out.append((t, Direction.SEND, json.dumps(request, separators=(",", ":"))))
    for i in range(first, first + chunks):
        for c in range(contexts):
            t += 0.015625
            data = base64.b64encode(chunk_audio(i)).decode()
            text = f'{{"type":"chunk","context_id":"c{c}","status_code":206,"done":false,"data":"{data}","flush_id":1}}'
            out.append((t, Direction.RECV, text))
    return out


def write(path: Path, frames: list[tuple[float, Direction, str]], *, append: bool = False) -> None:
    if append:
        # The writer's own lines, appended as a live recording appends them.
        other = path.with_suffix(".part")
        write(other, frames)
        with open(path, "ab") as out:
            out.write(b"".join(other.read_bytes().splitlines(keepends=True)[1:]))
        other.unlink()
        return
    with CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket", overwrite=True) as writer:
        for i, (t, direction, text) in enumerate(frames):
            writer.write(Frame(i, t, 1, direction, text), valid_json=True)


@pytest.fixture
def small_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps of 20 lines, so that a small capture takes many."""
    monkeypatch.setattr(captures, "STEP_S", 0.0)
    monkeypatch.setattr(capture_index, "_CLOCK_EVERY", 20)


def test_a_capture_opens_in_steps_with_its_progress_shown(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path, small_steps: None
) -> None:
    window = make_window()
    path = tmp_path / "big.fscap.jsonl"
    frames = lines(3, 60)
    write(path, frames)
    progress: list[float] = []
    window.captures.progressChanged.connect(progress.append)
    with qtbot.waitSignal(window.captures.openFinished, timeout=WAIT_MS):
        assert window.captures.open(path)
        # Shown at once, and growing: the first step only.
        assert window.captures.opening and 0 < len(window.bridge.session.frames) < len(frames)
        assert window.status.progress_bar.isVisible() and window.status.stop_button.isVisible()
    session = window.bridge.session
    assert len(session.frames) == len(frames) and not window.captures.opening
    assert not window.status.progress_bar.isVisible()
    steps = [p for p in progress if p >= 0]
    assert len(steps) > 5 and steps == sorted(steps) and steps[-1] == 1.0 and progress[-1] == -1.0
    assert window.frames.model.rowCount() == len(frames)
    assert window.transcripts.model.rowCount() == 3
    assert window.status.currentMessage() == f"Opened big.fscap.jsonl: {len(frames)} frames"
    segment = session.contexts[1].segments[0]
    assert session.audio.segment(segment) == b"".join(chunk_audio(i) for i in range(60))


def test_opening_can_be_stopped_and_says_what_is_shown(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path, small_steps: None
) -> None:
    window = make_window()
    path = tmp_path / "stopped.fscap.jsonl"
    write(path, lines(2, 100))
    with qtbot.waitSignal(window.captures.openFinished, timeout=WAIT_MS):
        assert window.captures.open(path)
        QTest.mouseClick(window.status.stop_button, Qt.MouseButton.LeftButton)
    shown = len(window.bridge.session.frames)
    assert 0 < shown < 202 and not window.captures.opening
    notice = window.status.notice_label.toolTip()
    assert notice.startswith("stopped.fscap.jsonl: opening stopped at ") and f"({shown} frames)" in notice
    assert window.status.notice_label.isVisible() and not window.status.progress_bar.isVisible()


def test_a_capture_that_grows_while_shown_is_followed(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    path = tmp_path / "growing.fscap.jsonl"
    write(path, lines(1, 10))
    assert window.captures.open(path)
    session = window.bridge.session
    assert len(session.frames) == 11
    write(path, lines(1, 5, first=10)[1:], append=True)
    qtbot.waitUntil(lambda: len(session.frames) == 16, timeout=WAIT_MS)
    assert session.audio.chunks(session.contexts[0].segments[0]) == [chunk_audio(i) for i in range(15)]
    assert window.status.notice_label.toolTip() == (
        "growing.fscap.jsonl is being written: new frames are shown as they come"
    )


def test_a_capture_moved_or_deleted_while_shown_is_said_and_still_read(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    path = tmp_path / "moved.fscap.jsonl"
    write(path, lines(1, 10))
    assert window.captures.open(path)
    path.unlink()
    qtbot.waitUntil(lambda: "moved or deleted" in window.status.notice_label.toolTip(), timeout=WAIT_MS)
    assert window.status.notice_label.toolTip() == (
        "moved.fscap.jsonl was moved or deleted: flushscope still reads it through the file it has open"
    )
    segment = window.bridge.session.contexts[0].segments[0]
    window.selection.select_segment(segment)
    envelope = window.waveform.envelope()
    assert envelope is not None and window.waveform.audio_problem == ""


def test_a_capture_changed_under_the_window_is_said_where_the_audio_would_be(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    path = tmp_path / "changed.fscap.jsonl"
    write(path, lines(1, 10))
    assert window.captures.open(path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    session = window.bridge.session
    window.selection.select_segment(session.contexts[0].segments[0])
    assert window.waveform.envelope() is None
    assert window.waveform.audio_problem.startswith(
        "The audio cannot be read back: changed.fscap.jsonl changed: it is shorter than when flushscope read it"
    )
    window.waveform.grab()  # drawn with the message, not a crash
    # The frame's detail says it too.
    window.frames.highlight_frames([9])
    assert window.frames.detail.toPlainText().startswith("This frame cannot be read back from the capture: ")


def test_long_audio_is_folded_into_the_waveform_block_by_block(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Everything counts as long: read in blocks of 3000 bytes (chunks of 800 never split).
    monkeypatch.setattr(envelope_module, "WHOLE_SAMPLES", 100)
    monkeypatch.setattr(envelope_module, "BLOCK_BYTES", 3000)
    window = make_window()
    path = tmp_path / "long.fscap.jsonl"
    write(path, lines(2, 40))
    assert window.captures.open(path)
    ctx = window.bridge.session.contexts[1]
    window.selection.select_context(ctx)
    envelope = window.waveform.envelope()
    assert envelope is not None
    whole = decode(window.bridge.session.audio.context(ctx), ctx.format.encoding)  # type: ignore[union-attr]
    mins, maxs = min_max_columns(whole, len(envelope.mins))
    assert envelope.mins.tolist() == mins.tolist() and envelope.maxs.tolist() == maxs.tolist()


def test_the_status_bar_says_when_the_session_is_kept_in_memory(qtbot: QtBot) -> None:
    from flushscope.core.model.session import Session
    from flushscope.ui.bridge import SessionBridge
    from flushscope.ui.widgets.status_bar import StatusBar

    session = Session()
    bridge = SessionBridge(session)
    status = StatusBar(bridge, lambda: session.duration)
    qtbot.addWidget(status)
    status.show()
    status.refresh()
    assert not status.notice_label.isVisible()
    # The live capture could not be created: said, with where the frames are.
    status.set_recording_problem("cannot record the capture /nowhere/x.fscap.jsonl: Permission denied")
    assert status.notice_label.isVisible()
    assert status.notice_label.toolTip() == (
        "cannot record the capture /nowhere/x.fscap.jsonl: Permission denied; the session is kept in memory"
    )
    # It stopped recording on the way: the store's own words come first.
    session.frames.problem = "the capture file stopped recording: [Errno 28] No space left on device; frames from 3 on are kept in memory"
    status.refresh()
    assert status.notice_label.toolTip() == session.frames.problem
    # A notice about a capture shown (moved, say) comes before both.
    status.set_notice("x.fscap.jsonl was moved or deleted")
    assert status.notice_label.toolTip() == "x.fscap.jsonl was moved or deleted"
