"""Playback in the window, for real: PortAudio plays into ALSA's file plugin, and what reached the "device"
is compared with the segment's samples. Also the waveform strip, WAV export, the copy actions, the output
device picker and what the window does when there is no audio device."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QColor, QPalette, QShortcut
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QMenu
from pytestqt.qtbot import QtBot
from shiboken6 import isValid

from audio_sink import assert_played, decoded, has_sound_card
from flushscope.audio.player import Player, PlayerState
from flushscope.audio.wav import segment_file_name
from flushscope.core.model.records import Context, ContextState
from flushscope.net.live import ConnectionState
from flushscope.protocol.audio import AudioFormat, Encoding, to_int16
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.controllers.playback import PlaybackController
from flushscope.ui.look.palette import flush_colour, is_dark
from flushscope.ui.tables import TranscriptsModel
from flushscope.ui.timeline import AxisMode
from flushscope.ui.widgets.waveform import WaveformStrip
from flushscope.ui.window import MainWindow
from session_wire import Wire
from window_support import WAIT_MS, close, run

SIZE_HINTS = "does not support propagateSizeHints"
# The offscreen platform can neither raise a popup menu nor give it the keyboard, and says so.
MENUS = ("does not support raise", "does not support grabbing")
pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore(SIZE_HINTS, *MENUS)]

RATE = 24000
S16 = AudioFormat(Encoding.PCM_S16LE, RATE)
CHUNK_BYTES = 4801  # odd: samples straddle chunk boundaries
LONG_CHUNK = 96_001


# --- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def real_player(alsa_file: Path) -> Player:
    """A player on PortAudio playing into ``alsa_file`` (created after ALSA was pointed there); the window
    that plays with it closes it."""
    return Player()


def activate(qtbot: QtBot, window: MainWindow) -> None:
    """Window shortcuts only fire in the active window."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT_MS)


# --- sessions --------------------------------------------------------------------------------------


def tone(seconds: float, freq: float = 1500.0, amplitude: float = 0.5) -> bytes:
    """A sine at ``RATE``: at 1500 Hz every period has a sample exactly on each peak."""
    n = np.arange(round(seconds * RATE))
    return np.rint(amplitude * 32768 * np.sin(2 * np.pi * freq * n / RATE)).astype("<i2").tobytes()


def long_tone() -> bytes:
    """Four minutes: the null sink eats about a minute of audio in 30 ms, and a test that stops playback
    must find it still playing."""
    return tone(240.0)


def feed_context(
    wire: Wire,
    ctx: str,
    audios: list[bytes],
    *,
    words: list[list[tuple[str, float, float]]] | None = None,
    output_format: dict[str, Any] | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Context:
    """A whole context: one flushed transcript per audio, its chunks (and word timestamps, times from the
    context's first audio), flush_done, then done."""
    extra = {} if output_format is None else {"output_format": output_format}
    for n in range(len(audios)):
        wire.send(ctx, f"Sentence {n + 1}.", **extra)
        wire.send(ctx, "", flush=True, **extra)
    wire.send(ctx, "", cont=False, **extra)
    for n, audio in enumerate(audios, 1):
        for at in range(0, len(audio), chunk_bytes):
            wire.chunk(ctx, n, audio[at : at + chunk_bytes])
        if words is not None:
            tokens = words[n - 1]
            wire.recv(
                {"type": "timestamps", "context_id": ctx, "status_code": 206, "done": False, "flush_id": n,
                 "word_timestamps": {"words": [w for w, _, _ in tokens], "start": [a for _, a, _ in tokens],
                                     "end": [b for _, _, b in tokens]}}
            )  # fmt: skip
        wire.flush_done(ctx, n)
    wire.done(ctx)
    return wire.session.contexts[-1]


def play_cell(window: MainWindow, row: int) -> None:
    view = window.transcripts.view
    index = view.model().index(row, TranscriptsModel.PLAY)
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center())


def open_menu() -> QMenu:
    """The popup menu on screen."""
    return next(
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMenu) and isValid(w) and w.isVisible()
    )


def close_menu(menu: QMenu) -> None:
    # It deletes itself once closed, which may already have happened while a test waited.
    if isValid(menu):
        menu.close()


def is_stopped(state: PlayerState) -> bool:
    return state is PlayerState.STOPPED


class Heard:
    """What the controller reported, and what the views showed at each position."""

    def __init__(self, window: MainWindow, playback: PlaybackController) -> None:
        self.states: list[PlayerState] = []
        self.positions: list[float] = []
        self.errors: list[str] = []
        self.cells: list[str] = []
        self.playheads: list[tuple[Context, float] | None] = []
        self.window = window
        playback.stateChanged.connect(self.states.append)
        playback.error.connect(self.errors.append)
        # Connected after the window's own slots: these see what the views show at that moment.
        playback.positionChanged.connect(self._position)

    def _position(self, seconds: float) -> None:
        self.positions.append(seconds)
        model = self.window.transcripts.model
        playing = model.playing
        row = model.row_for_segment(playing)
        self.cells.append("" if row is None else model.index(row, TranscriptsModel.PLAY).data())
        self.playheads.append(self.window.timeline.playhead())


# --- playing from the window -----------------------------------------------------------------------


def test_play_cell_plays_the_segment_bit_exact_with_a_moving_playhead(
    qtbot: QtBot, make_window: Callable[..., MainWindow], real_player: Player, alsa_file: Path
) -> None:
    window = make_window(real_player)
    playback = window.playback
    composer = window.composer
    QTest.mouseClick(window.connection_bar.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.live.status.state is ConnectionState.CONNECTED, timeout=WAIT_MS)
    for text in ("Hello there, this is the first sentence.", "And a second one, spoken right after."):
        composer.text_edit.setFocus()
        QTest.keyClicks(composer.text_edit, text)
        QTest.mouseClick(composer.send_flush_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: composer.text() == "", timeout=WAIT_MS)
    QTest.mouseClick(composer.end_button, Qt.MouseButton.LeftButton)
    session = window.live.session
    qtbot.waitUntil(
        lambda: bool(session.contexts) and session.contexts[0].state is ContextState.DONE, timeout=WAIT_MS
    )
    window.bridge.flush()
    ctx = session.contexts[0]
    assert ctx.format is not None
    assert window.transcripts.model.rowCount() == 2
    second = window.transcripts.model.segment(1)
    assert second.words, "the emulator sends word timestamps"
    assert window.transcripts.model.index(1, TranscriptsModel.PLAY).data() == "▶"

    heard = Heard(window, playback)
    with qtbot.waitSignal(playback.stateChanged, timeout=WAIT_MS, check_params_cb=is_stopped):
        play_cell(window, 1)
    assert heard.errors == []
    assert heard.states == [PlayerState.PLAYING, PlayerState.STOPPED]
    assert window.status.currentMessage().startswith("Playing segment 2 of context")
    assert_played(alsa_file, ctx.format, decoded(session.audio.segment(second), ctx.format))

    # The position only moves forward and ends at the segment's end; the row and the playhead followed it.
    assert heard.positions and heard.positions == sorted(heard.positions)
    assert heard.positions[-1] == pytest.approx(second.audio_seconds)
    assert heard.cells[-1] == "■ 100%" and all(cell.startswith("■ ") for cell in heard.cells)
    start = second.start_sample / ctx.format.sample_rate  # type: ignore[operator]
    assert heard.playheads[-1] == (ctx, pytest.approx(start + second.audio_seconds))
    # Stopped: no playhead, ▶ again.
    assert window.timeline.playhead() is None and window.waveform.playhead() is None
    assert window.transcripts.model.index(1, TranscriptsModel.PLAY).data() == "▶"
    assert window.transcripts.model.playing is None


def test_space_plays_and_stops_the_selected_segment_but_types_in_the_composer(
    qtbot: QtBot, make_window: Callable[..., MainWindow], real_player: Player, alsa_file: Path
) -> None:
    window = make_window(real_player)
    playback = window.playback
    ctx = feed_context(Wire(window.live.session), "long", [long_tone()], chunk_bytes=LONG_CHUNK)
    window.bridge.flush()
    segment = ctx.segments[0]
    heard = Heard(window, playback)
    activate(qtbot, window)

    # In the composer's transcript box Space is a space.
    window.composer.text_edit.setFocus()
    QTest.keyClick(window.composer.text_edit, Qt.Key.Key_Space)
    assert window.composer.text() == " " and heard.states == []

    window.transcripts.view.setFocus()
    window.selection.select_segment(segment)
    QTest.keyClick(window.transcripts.view, Qt.Key.Key_Space)
    assert playback.state is PlayerState.PLAYING and playback.is_playing(segment)
    assert heard.states == [PlayerState.PLAYING]
    assert window.action_set.stop.isEnabled()
    QTest.keyClick(window.transcripts.view, Qt.Key.Key_Space)
    assert playback.state is PlayerState.STOPPED and playback.target is None
    assert heard.states == [PlayerState.PLAYING, PlayerState.STOPPED]
    assert window.status.currentMessage() == "Stopped"
    qtbot.waitUntil(lambda: not playback.polling, timeout=WAIT_MS)  # the faded stream was released
    assert heard.errors == []


def test_play_context_and_play_from_here_on_the_timeline(
    qtbot: QtBot, make_window: Callable[..., MainWindow], real_player: Player, alsa_file: Path
) -> None:
    window = make_window(real_player)
    playback = window.playback
    ctx = feed_context(Wire(window.live.session), "ctx", [tone(1.0, 1500), tone(0.8, 1000), tone(0.6, 750)])
    window.bridge.flush()
    whole = decoded(window.live.session.audio.context(ctx), S16)
    heard = Heard(window, playback)
    timeline = window.timeline
    timeline.set_axis_mode(AxisMode.AUDIO)
    timeline.fit_all()
    lane = timeline.lane_rect(0)
    point = QPoint(round(timeline.x_for(1.5)), lane.center().y())
    found = timeline.audio_position_at(point)
    assert found is not None and found[0] is ctx
    here = found[1]
    per_pixel = 2.4 / timeline.lane_rect(0).width() * 1.1
    assert here == pytest.approx(1.5, abs=2 * per_pixel)

    timeline.segmentContextMenuRequested.emit(ctx.segments[1], timeline.mapToGlobal(point))
    menu = open_menu()
    actions = {a.text().replace("&", ""): a for a in menu.actions() if not a.isSeparator()}
    assert all(actions[name].isEnabled() for name in ("Play segment", "Play context", "Play from here"))
    with qtbot.waitSignal(playback.stateChanged, timeout=WAIT_MS, check_params_cb=is_stopped):
        actions["Play from here"].trigger()
    close_menu(menu)
    first = round(here * RATE)
    assert_played(alsa_file, S16, whole[first:])
    assert heard.positions[0] >= first / RATE and heard.positions[-1] == pytest.approx(ctx.audio_seconds)

    # The whole context, gapless; the playing row follows the playhead from segment to segment.
    timeline.segmentContextMenuRequested.emit(ctx.segments[0], timeline.mapToGlobal(point))
    menu = open_menu()
    play_context = next(a for a in menu.actions() if a.text() == "Play &context")
    with qtbot.waitSignal(playback.stateChanged, timeout=WAIT_MS, check_params_cb=is_stopped):
        play_context.trigger()
    close_menu(menu)
    assert_played(alsa_file, S16, whole)
    assert heard.playheads[-1] == (ctx, pytest.approx(ctx.audio_seconds))
    assert heard.errors == []


def test_the_playhead_in_arrival_mode_sits_in_the_chunk_that_holds_the_position(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    wire = Wire(window.live.session)
    ctx = feed_context(wire, "ctx", [tone(1.0)])
    window.bridge.flush()
    timeline = window.timeline
    timeline.set_axis_mode(AxisMode.ARRIVAL)
    timeline.fit_all()
    segment = ctx.segments[0]
    # Chunk k arrived at chunk_times[k] and holds the audio from k * CHUNK_BYTES / 2 samples on.
    k = 3
    inside = (k * CHUNK_BYTES / 2 + 100) / RATE
    timeline.set_playhead(ctx, inside)
    assert timeline.playhead() == (ctx, inside)
    rect = timeline.chunk_rect(segment.chunk_rows[k])
    assert rect is not None
    line = timeline._playhead_line()
    assert line is not None
    assert rect.left() - 0.5 <= line.x1() <= rect.right() + 0.5
    assert timeline.lane_rect(0).top() <= line.y1() < line.y2() <= timeline.lane_rect(0).bottom() + 1
    # And back: the point of the line stands for that position (within a pixel's worth).
    found = timeline.audio_position_at(QPoint(round(line.x1()), timeline.lane_rect(0).center().y()))
    assert found is not None and found[0] is ctx
    assert abs(found[1] - inside) <= 2 * (CHUNK_BYTES / 2 / RATE) / max(1.0, rect.width())
    timeline.set_playhead(None)
    assert timeline._playhead_line() is None


def test_clicking_the_waveform_plays_from_that_point(
    qtbot: QtBot, make_window: Callable[..., MainWindow], real_player: Player, alsa_file: Path
) -> None:
    window = make_window(real_player)
    playback = window.playback
    ctx = feed_context(Wire(window.live.session), "ctx", [tone(1.0, 1500), tone(1.0, 1000)])
    window.bridge.flush()
    segment = ctx.segments[1]
    window.selection.select_segment(segment)
    strip = window.waveform
    assert strip.target() is segment and strip.duration() == pytest.approx(1.0)
    rect = strip.wave_rect()
    x = rect.left() + rect.width() // 4
    seconds = strip.seconds_at(x)
    heard = Heard(window, playback)
    with qtbot.waitSignal(playback.stateChanged, timeout=WAIT_MS, check_params_cb=is_stopped):
        QTest.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(x, rect.center().y()))
    assert_played(
        alsa_file, S16, decoded(window.live.session.audio.segment(segment), S16)[round(seconds * RATE) :]
    )
    # The strip's playhead is placed in the segment (the controller counts from the context's audio).
    assert heard.playheads[-1] == (ctx, pytest.approx(1.0 + segment.audio_seconds))
    assert heard.errors == []


def test_closing_the_window_stops_playback_and_releases_the_device(
    qtbot: QtBot, make_window: Callable[..., MainWindow], real_player: Player, alsa_file: Path
) -> None:
    window = make_window(real_player)
    playback = window.playback
    ctx = feed_context(Wire(window.live.session), "long", [long_tone()], chunk_bytes=LONG_CHUNK)
    window.bridge.flush()
    assert window.playback.play_segment(ctx.segments[0])
    assert playback.state is PlayerState.PLAYING
    close(qtbot, window)
    assert playback.state is PlayerState.STOPPED and not playback.polling
    assert not playback.play_segment(ctx.segments[0])  # closed for good


# --- no device, a failing device, the device picker ------------------------------------------------


@pytest.mark.skipif(has_sound_card(), reason="this machine has a sound card: PortAudio always lists it")
def test_no_device_disables_play_with_the_reason(
    qtbot: QtBot, make_window: Callable[..., MainWindow], no_card: None
) -> None:
    window = make_window(Player())
    playback = window.playback
    assert not playback.available
    reason = "Audio playback is unavailable: PortAudio finds no audio output device"
    ctx = feed_context(Wire(window.live.session), "ctx", [tone(0.5)])
    window.bridge.flush()
    model = window.transcripts.model
    cell = model.index(0, TranscriptsModel.PLAY)
    assert cell.data(Qt.ItemDataRole.ToolTipRole) == reason
    assert cell.data(Qt.ItemDataRole.ForegroundRole) is not None  # greyed
    assert window.waveform.message() == reason and window.waveform.message_label.isVisible()
    assert window.play_label.isVisible() and window.play_label.text() == "No audio output"
    assert window.play_label.toolTip() == reason

    play_cell(window, 0)
    assert playback.state is PlayerState.STOPPED
    assert window.status.currentMessage() == reason
    window.selection.select_segment(ctx.segments[0])
    # As the Play cell and Space do, the menu's entries answer with the reason rather than sit greyed.
    assert window.action_set.play_context.isEnabled()
    window.timeline.segmentContextMenuRequested.emit(ctx.segments[0], window.mapToGlobal(QPoint(300, 200)))
    menu = open_menu()
    play = next(a for a in menu.actions() if a.text() == "Play &segment")
    assert play.isEnabled() and play.toolTip() == reason
    close_menu(menu)
    window.status.clearMessage()
    play.trigger()
    assert playback.state is PlayerState.STOPPED and window.status.currentMessage() == reason

    menu = window.action_set.device_menu
    menu.aboutToShow.emit()  # as when it opens
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts == ["No output device found", reason]
    close(qtbot, window)
    playback.close()


def test_a_device_that_cannot_be_used_is_explained_and_the_default_brings_play_back(
    qtbot: QtBot, make_window: Callable[..., MainWindow], real_player: Player, alsa_file: Path
) -> None:
    window = make_window(real_player)
    playback = window.playback
    feed_context(Wire(window.live.session), "ctx", [tone(0.5)])
    window.bridge.flush()
    cell = window.transcripts.model.index(0, TranscriptsModel.PLAY)
    assert cell.data(Qt.ItemDataRole.ToolTipRole).startswith("Play this segment's audio")
    assert not window.waveform.message()

    with qtbot.waitSignal(playback.availabilityChanged) as blocker:
        playback.set_device(99)
    assert blocker.args is not None and blocker.args[0] is False
    assert "output device 99 cannot be used" in cell.data(Qt.ItemDataRole.ToolTipRole)
    assert "output device 99 cannot be used" in window.waveform.message()
    play_cell(window, 0)
    assert "output device 99 cannot be used" in window.status.currentMessage()

    # The picker lists the devices, the default first; choosing it makes playback work again.
    menu = window.action_set.device_menu
    menu.aboutToShow.emit()  # as when it opens
    entries = [a for a in menu.actions() if not a.isSeparator()]
    assert entries[0].text() == "default (default)" and not entries[0].isChecked()
    assert "cannot be used" in entries[-1].text() and not entries[-1].isEnabled()
    assert entries[0] in window.action_set.devices.actions()
    with qtbot.waitSignal(window.action_set.devices.triggered):
        entries[0].trigger()
    assert playback.device is None and playback.available
    assert window.status.currentMessage() == "Output device: default"
    assert cell.data(Qt.ItemDataRole.ToolTipRole).startswith("Play this segment's audio")
    assert not window.waveform.message() and not window.play_label.isVisible()
    menu.aboutToShow.emit()
    assert menu.actions()[0].isChecked()


# --- the waveform strip ----------------------------------------------------------------------------


def test_the_strip_shows_a_sine_by_column_with_word_ticks(qtbot: QtBot, bridge: SessionBridge) -> None:
    selection = Selection()
    strip = WaveformStrip(bridge, selection)
    qtbot.addWidget(strip)
    strip.resize(616, strip.height())
    wire = Wire(bridge.session)
    words = [
        ("A", 1.00, 1.10),
        ("sine", 1.10, 1.30),
        ("supercalifragilistic", 1.30, 1.35),
        ("is", 1.35, 1.40),
        ("heard", 1.60, 1.90),
    ]
    ctx = feed_context(wire, "ctx", [tone(1.0, 750), tone(1.0)], words=[[], words])
    bridge.flush()
    segment = ctx.segments[1]
    assert strip.envelope() is None and strip.word_marks() == []
    selection.select_segment(segment)
    assert strip.target() is segment

    envelope = strip.envelope()
    assert envelope is not None
    assert len(envelope.mins) == strip.wave_rect().width() == 600
    # 40 samples per column, two whole periods of the 1500 Hz sine: its exact peaks are in every column.
    assert np.all(envelope.maxs == np.float32(0.5)) and np.all(envelope.mins == np.float32(-0.5))
    assert strip.envelope() is envelope and strip.computations == 1  # kept

    # Words: times count from the context's first audio; the segment starts 1 s into it.
    marks = strip.word_marks()
    assert [m.text for m in marks] == [w for w, _, _ in words]
    for mark, (_, start, _) in zip(marks, words, strict=True):
        assert mark.start == pytest.approx(start - 1.0)
        assert mark.x == pytest.approx(strip.x_for(start - 1.0))
    assert [m.labelled for m in marks] == [True, True, True, False, True]
    fm = strip.fontMetrics()
    labelled = [m for m in marks if m.labelled]
    for left, right in itertools.pairwise(labelled):
        assert right.x > left.x + fm.horizontalAdvance(left.text)  # no two labels overlap

    # Drawn: the waveform in flush_id 2's colour, the words below it.
    image = strip.grab().toImage()
    colour = flush_colour(2, is_dark(strip.palette()))
    rect = strip.wave_rect()
    top = rect.top() + round((rect.height() - 1) / 2 * (1 - 0.5))
    assert image.pixelColor(rect.left() + 300, top + 1) == colour
    assert image.pixelColor(rect.left() + 300, rect.top() + 1) != colour  # above the peaks
    base = strip.palette().color(QPalette.ColorRole.Base)
    for mark in marks:  # a tick under each word, in the row of labels
        assert image.pixelColor(round(mark.x), rect.bottom() + 3) != base
    assert image.pixelColor(round(marks[0].x) + 20, rect.bottom() + 3) == base
    assert strip.describe_at(QPoint(round(strip.x_for(0.7)), rect.center().y())) == (
        "0.70 s · “heard”\nClick to play from here"
    )

    # The playhead, from a position in the context's audio.
    strip.set_playhead(ctx, 1.5)
    playhead = strip.playhead_x()
    assert playhead == pytest.approx(strip.x_for(0.5))
    strip.set_playhead(ctx, 0.5)  # in the other segment: not on this strip
    assert strip.playhead_x() is None

    # More audio for the segment: computed again on the bridge's tick; a new width too.
    wire.chunk("ctx", 2, tone(0.5))
    bridge.flush()
    grown = strip.envelope()
    assert grown is not envelope and grown is not None and grown.seconds == pytest.approx(1.5)
    strip.resize(416, strip.height())
    assert len(strip.envelope().mins) == 400  # type: ignore[union-attr]
    assert strip.computations == 3

    # A click asks to play from that point.
    x = rect.left() + 100
    with qtbot.waitSignal(strip.playRequested) as blocker:
        QTest.mouseClick(strip, Qt.MouseButton.LeftButton, pos=QPoint(x, rect.center().y()))
    assert blocker.args is not None and blocker.args[0] is segment
    assert blocker.args[1] == pytest.approx(strip.seconds_at(x))


def test_a_context_is_shown_whole_coloured_by_segment(qtbot: QtBot, bridge: SessionBridge) -> None:
    selection = Selection()
    strip = WaveformStrip(bridge, selection)
    qtbot.addWidget(strip)
    strip.resize(416, strip.height())
    ctx = feed_context(Wire(bridge.session), "ctx", [tone(1.0), tone(3.0, 1000)])
    bridge.flush()
    selection.select_context(ctx)
    envelope = strip.envelope()
    assert envelope is not None and envelope.seconds == pytest.approx(4.0)
    # A quarter of the columns are the first segment's, the rest the second's.
    assert envelope.segment.tolist() == [0] * 100 + [1] * 300
    image = strip.grab().toImage()
    rect = strip.wave_rect()
    dark = is_dark(strip.palette())
    centre = rect.top() + (rect.height() - 1) // 2
    assert image.pixelColor(rect.left() + 50, centre) == flush_colour(1, dark)
    assert image.pixelColor(rect.left() + 250, centre) == flush_colour(2, dark)
    assert "all segments" in strip._title(ctx)
    selection.clear()
    assert strip.target() is None and strip.envelope() is None
    strip.grab()  # the empty strip paints too


# --- export and copy -------------------------------------------------------------------------------


def test_export_wav_writes_what_soundfile_reads_back(
    qtbot: QtBot, make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = make_window()
    f32 = {"container": "raw", "encoding": "pcm_f32le", "sample_rate": 44100}
    wire = Wire(window.live.session)
    loud = (np.sin(np.arange(44100) * 0.05) * 1.2).astype("<f4").tobytes()  # clipped in 16-bit
    ctx = feed_context(wire, "f32", [loud, loud[: 44100 * 2]], output_format=f32)
    other = feed_context(wire, "s16", [tone(0.5)])
    window.bridge.flush()
    segment = ctx.segments[0]

    path = tmp_path / "segment.wav"
    assert run(qtbot, window, window.exports.save_wav(segment, path))
    data, rate = soundfile.read(path, dtype="int16")
    assert rate == 44100
    assert np.array_equal(data, to_int16(wire.session.audio.segment(segment), Encoding.PCM_F32LE))
    assert window.status.currentMessage() == f"Saved {path} (1.00 s of audio)"

    path = tmp_path / "context.wav"
    assert run(qtbot, window, window.exports.save_wav(ctx, path))
    data, rate = soundfile.read(path, dtype="int16")
    assert np.array_equal(data, to_int16(wire.session.audio.context(ctx), Encoding.PCM_F32LE))

    folder = tmp_path / "all"
    paths = run(qtbot, window, window.exports.save_all_wav(folder))
    expected = [segment_file_name(s) for c in (ctx, other) for s in c.segments if s.nbytes]
    assert [p.name for p in paths] == expected and len(expected) == 3
    assert sorted(p.name for p in folder.iterdir()) == sorted(expected)
    assert window.status.currentMessage() == f"Saved 3 WAV files to {folder}"

    # A write that fails says so in the status bar.
    assert not run(qtbot, window, window.exports.save_wav(segment, tmp_path / "missing" / "x.wav"))
    assert "cannot write" in window.status.currentMessage()


def test_copy_segment_timings(qtbot: QtBot, make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    wire = Wire(window.live.session)
    wire.send("ctx-1", "Hello ")
    wire.send("ctx-1", 'there, "friend".')
    wire.send("ctx-1", "", flush=True)
    for _ in range(3):
        wire.chunk("ctx-1", 1)
    wire.flush_done("ctx-1", 1)
    wire.send("ctx-1", "Second.")
    window.bridge.flush()
    ctx = window.live.session.contexts[0]
    segment = ctx.segments[0]
    window.selection.select_segment(segment)
    text = window.exports.copy_segment_timings()
    assert segment.first_audio_ms is not None and segment.flush_done_ms is not None
    first, done = math.floor(segment.first_audio_ms + 0.5), math.floor(segment.flush_done_ms + 0.5)
    expected = (
        f"context ctx-1 flush_id 1: 0.30 s of audio, 3 chunks, first audio {first} ms, "
        f'flush_done {done} ms, transcripts: "Hello " "there, \\"friend\\"."'
    )
    assert text == expected
    assert QApplication.clipboard().text() == expected
    assert window.status.currentMessage() == "Copied the timings of segment 1"

    second = ctx.segments[1]
    assert window.exports.copy_segment_timings(second) == (
        'context ctx-1 flush_id 2: 0.00 s of audio, 0 chunks, no audio yet, no flush_done, transcripts: "Second."'
    )
    assert window.exports.copy_context_id() == "ctx-1" and QApplication.clipboard().text() == "ctx-1"


# --- the model -------------------------------------------------------------------------------------


def test_transcripts_model_with_progress_passes_the_model_tester(
    qtmodeltester: Any, bridge: SessionBridge
) -> None:
    model = TranscriptsModel(bridge)
    wire = Wire(bridge.session)
    feed_context(wire, "a", [tone(0.2), tone(0.2)])
    feed_context(wire, "b", [tone(0.2)])
    bridge.flush()
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles: changed.append((top.row(), bottom.row(), top.column(), bottom.column()))
    )
    play = TranscriptsModel.PLAY
    first, third = model.segment(0), model.segment(2)
    model.set_playing(first, 0.424)
    assert model.index(0, play).data() == "■ 42%"
    assert model.index(0, play).data(Qt.ItemDataRole.ToolTipRole).startswith("Stop (42% heard)")
    model.set_playing(first, 0.4241)  # the same percent: nothing to repaint
    model.set_playing(third, 1.0)
    assert model.index(0, play).data() == "▶" and model.index(2, play).data() == "■ 100%"
    assert changed == [(0, 0, play, play), (0, 0, play, play), (2, 2, play, play)]
    qtmodeltester.check(model, force_py=True)
    model.set_play_available(False, "no device")
    assert changed[-1] == (0, 2, play, play)
    assert model.index(1, play).data(Qt.ItemDataRole.ToolTipRole) == "No device"
    assert isinstance(model.index(1, play).data(Qt.ItemDataRole.ForegroundRole), QColor)
    qtmodeltester.check(model, force_py=True)
    model.set_playing(None)
    model.set_play_available(True)
    assert model.index(2, play).data() == "▶"
    assert model.index(1, play).data(Qt.ItemDataRole.ForegroundRole) is None
    qtmodeltester.check(model)


def test_every_shortcut_of_the_window_is_unique(make_window: Callable[..., MainWindow]) -> None:
    window = make_window()
    keys: list[str] = []
    keys += [a.shortcut().toString() for a in window.findChildren(QAction) if not a.shortcut().isEmpty()]
    keys += [s.key().toString() for s in window.findChildren(QShortcut)]
    keys += [
        b.shortcut().toString() for b in window.findChildren(QAbstractButton) if not b.shortcut().isEmpty()
    ]
    assert "Space" in keys and "Ctrl+Shift+W" in keys
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
