"""Playback for the window: a :class:`~flushscope.audio.player.Player` driven from the GUI thread.

The player is Qt-free and reports only when polled. :class:`PlaybackController` polls it from a timer at
about 30 Hz while something plays (and briefly after, so that a stream fading out is released), and turns
what it reports into signals: where the playhead is in a context's audio, which segment is heard and how far
into it, and whether playback can work at all, with the reason in words when it cannot. It also answers the
window's play requests (a segment, a context, from a point, the selection), saying through
:attr:`PlaybackController.status` why one cannot be played.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import QObject, QTimer, Signal

from flushscope.audio.output import DeviceInfo
from flushscope.audio.player import Player, PlayerState
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.core.model.session_audio import SessionAudio
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.look.wording import sentence

#: How often the player is polled while it plays.
POLL_HZ: Final = 30.0
# Polls kept up after playback stopped: the stream fades out and is released by a later poll.
_TRAILING_POLLS = 15


@dataclass(frozen=True, eq=False)
class PlayTarget:
    """What plays: one segment, or a whole context (``segment`` None), and from where it was started."""

    context: Context
    segment: Segment | None
    #: Seconds into the segment (or context) where playback was asked to start.
    start: float = 0.0

    @property
    def offset(self) -> float:
        """Seconds of the context's audio before what plays: a segment's start, 0 for a context."""
        return 0.0 if self.segment is None else self.segment.start_seconds

    def context_position(self, position: float) -> float:
        """A player position (seconds into what plays) as seconds into the context's audio."""
        return self.offset + position

    def segment_at(self, position: float) -> Segment | None:
        """The segment heard at a player position."""
        if self.segment is not None:
            return self.segment
        return self.context.segment_at(position)


class PlayerReports(QObject):
    """What a :class:`Player` reports, as signals. The player is Qt-free and calls one hook per kind of
    report from its ``poll`` (on the thread that polls it): this object is the one place that sets them."""

    positionChanged = Signal(float)
    """Seconds into what plays, when it changed."""
    stateChanged = Signal(object)
    """The :class:`~flushscope.audio.player.PlayerState` changed."""
    error = Signal(str)
    """Playback failed; the argument says why, in words."""

    def __init__(self, player: Player, parent: QObject | None = None) -> None:
        super().__init__(parent)
        player.on_position = self.positionChanged.emit
        player.on_state = self.stateChanged.emit
        player.on_error = self.error.emit


class PlaybackController(QObject):
    """Owns a :class:`Player` for the window: plays segments and contexts, polls the player at about 30 Hz
    while it plays, and reports through signals, always on the GUI thread.

    Segments of :attr:`live_session` play live (audio still arriving is played as it comes); segments of a
    capture opened read-only play what they have. What plays is read through the audio of the session
    ``bridge`` shows, unless a request names another session's (a comparison's). :meth:`check_availability` asks the audio system whether
    playback can work on the chosen device; the answer is kept in :attr:`available` and :attr:`reason`.
    ``selection`` is what Space and the Playback menu play. Call :meth:`close` when the window closes: it
    stops playback and releases the device.
    """

    positionChanged = Signal(float)
    """Seconds into what plays (see :attr:`target`), when it changed; polled about 30 times a second."""
    stateChanged = Signal(object)
    """The :class:`~flushscope.audio.player.PlayerState` changed (playing, paused, stopped)."""
    error = Signal(str)
    """Playback failed or could not start; the argument says why, in words."""
    availabilityChanged = Signal(bool, str)
    """Whether playback can work changed; when it cannot, the second argument says why."""
    targetChanged = Signal()
    """What plays changed: another segment or context started, or playback stopped (:attr:`target`)."""
    playheadMoved = Signal(object, float)
    """The playhead: a :class:`Context` (None when nothing plays) and seconds into its audio."""
    playingChanged = Signal(object, float)
    """The :class:`Segment` heard (None when nothing plays) and the fraction of it played."""
    status = Signal(str)
    """A message for the status bar: what started playing, or why nothing can."""

    def __init__(
        self,
        player: Player | None = None,
        *,
        live_session: Session | None = None,
        bridge: SessionBridge,
        selection: Selection | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._player = player if player is not None else Player()
        self.live_session = live_session
        self._bridge = bridge
        self._selection = selection if selection is not None else Selection(self)
        self._target: PlayTarget | None = None
        self._trailing = 0
        self._closed = False
        self._timer = QTimer(self)
        self._timer.setInterval(round(1000 / POLL_HZ))
        self._timer.timeout.connect(self._poll)
        reports = PlayerReports(self._player, self)
        reports.positionChanged.connect(self._on_position)
        reports.stateChanged.connect(self._on_state)
        reports.error.connect(self._on_error)
        self._available, self._reason = self._player.availability()
        self.positionChanged.connect(self._show_position)
        self.targetChanged.connect(self._show_target)
        self.error.connect(lambda text: self.status.emit(sentence(text)))

    # --- queries ------------------------------------------------------------------------------------

    @property
    def player(self) -> Player:
        return self._player

    @property
    def state(self) -> PlayerState:
        return self._player.state

    @property
    def playing(self) -> bool:
        """Whether something plays or is paused."""
        return self._player.state is not PlayerState.STOPPED

    @property
    def position(self) -> float:
        """Seconds into what plays (or where the last playback stopped)."""
        return self._player.position

    @property
    def target(self) -> PlayTarget | None:
        """What plays (or is paused); None when stopped."""
        return self._target

    @property
    def available(self) -> bool:
        """Whether playback could work when last checked."""
        return self._available

    @property
    def reason(self) -> str:
        """Why playback cannot work ("" when it can)."""
        return self._reason

    def why_not(self) -> str:
        """Why playback cannot work, as a sentence ("" when it can)."""
        return "" if self._available else sentence(self._reason or "audio playback is not available")

    @property
    def polling(self) -> bool:
        """Whether the poll timer runs."""
        return self._timer.isActive()

    def is_live(self, context: Context) -> bool:
        """Whether ``context`` belongs to the live session (its audio may still be arriving)."""
        session = self.live_session
        if session is None:
            return False
        contexts = session.contexts
        return 0 < context.number <= len(contexts) and contexts[context.number - 1] is context

    def is_playing(self, segment: Segment) -> bool:
        """Whether ``segment`` on its own is what plays (or is paused)."""
        target = self._target
        return target is not None and target.segment is segment

    def check_availability(self) -> tuple[bool, str]:
        """Ask the audio system again whether playback can work on the chosen device (a device may have
        come or gone); emits :attr:`availabilityChanged` when the answer changed."""
        if self._closed:
            return self._available, self._reason
        available, reason = self._player.availability()
        if (available, reason) != (self._available, self._reason):
            self._available, self._reason = available, reason
            self.availabilityChanged.emit(available, reason)
        return available, reason

    # --- devices ------------------------------------------------------------------------------------

    def devices(self) -> list[DeviceInfo]:
        """Output devices, the default first (empty when there are none)."""
        return self._player.devices()

    @property
    def device(self) -> int | None:
        """The chosen output device (None: the system's default)."""
        return self._player.device

    def set_device(self, index: int | None) -> None:
        """Play on output device ``index`` (None: the default) from the next playback on."""
        self._player.set_device(index)
        self.check_availability()

    def choose_device(self, index: int | None, name: str) -> None:
        """:meth:`set_device`, saying which device it is (or why it cannot play)."""
        self.set_device(index)
        self.status.emit(self.why_not() or f"Output device: {name}")

    # --- what the window asks for -------------------------------------------------------------------

    def play_segment(
        self, segment: Segment, start: float = 0.0, *, audio: SessionAudio | None = None
    ) -> bool:
        """Play ``segment`` from ``start`` seconds into it, read through ``audio`` (None: the shown session's).
        False, with the reason through :attr:`status` (or :attr:`error`), when it cannot."""
        if not self._can_play():
            return False
        if not segment.nbytes:
            self.status.emit(f"Segment {segment.label} has no audio yet")
            return False
        target = PlayTarget(segment.context, segment, start)
        live = self.is_live(segment.context)
        audio = audio or self._bridge.session.audio
        started = self._start(target, lambda: self._player.play_segment(audio, segment, start, live=live))
        if started:
            self.status.emit(f"Playing segment {segment.label} of context {segment.context.title}")
        return started

    def play_context(
        self,
        context: Context,
        start: float = 0.0,
        end: float | None = None,
        *,
        audio: SessionAudio | None = None,
    ) -> bool:
        """Play ``context``'s segments gapless from ``start`` seconds into its audio, up to ``end`` seconds
        (None: to its end), read through ``audio`` (None: the shown session's)."""
        if not self._can_play():
            return False
        if not context.total_bytes:
            self.status.emit(f"Context {context.title} has no audio yet")
            return False
        target = PlayTarget(context, None, start)
        live = self.is_live(context)
        audio = audio or self._bridge.session.audio
        started = self._start(
            target, lambda: self._player.play_context(audio, context, start, end, live=live)
        )
        if started:
            where = f" from {start:.2f} s" if start > 0 else ""
            where += f" to {end:.2f} s" if end is not None else ""
            self.status.emit(f"Playing context {context.title}{where}")
        return started

    def play_from(self, target: Segment | Context, seconds: float) -> None:
        """Play a segment, or a context, from ``seconds`` into its audio (a click on the waveform)."""
        if isinstance(target, Segment):
            self.play_segment(target, seconds)
        else:
            self.play_context(target, seconds)

    def toggle_segment(self, segment: Segment) -> bool:
        """Stop ``segment`` if it is what plays, else play it (a Play cell). Whether it plays afterwards."""
        if self.is_playing(segment):
            self.stop()
            return False
        return self.play_segment(segment)

    def toggle_playback(self) -> None:
        """Stop what plays; else play the selected segment, or the selected context."""
        if self.playing:
            self.stop()
            self.status.emit("Stopped")
            return
        segment, context = self._selection.segment, self._selection.context
        if segment is not None:
            self.play_segment(segment)
        elif context is not None:
            self.play_context(context)
        else:
            self.status.emit("Select a transcript or a context to play it")

    def play_selected_segment(self) -> None:
        """Play the selected segment."""
        segment = self._selection.segment
        if segment is None:
            self.status.emit("Select a transcript to play it")
        else:
            self.play_segment(segment)

    def play_selected_context(self, start: float = 0.0) -> None:
        """Play the selected context, from ``start`` seconds into its audio."""
        context = self._selection.context
        if context is None:
            self.status.emit("Select a context to play it")
        else:
            self.play_context(context, start)

    def pause(self) -> None:
        """Fade out and hold the position."""
        self._player.pause()
        self._poll()

    def resume(self) -> None:
        """Continue a paused playback."""
        self._player.resume()
        self._keep_polling()
        self._poll()

    def stop(self) -> None:
        """Fade out and stop; the device is released by a later poll. Nothing happens when nothing plays."""
        if not self.playing:
            return
        self._player.stop()
        self._keep_polling()
        self._poll()

    def input_ended(self) -> None:
        """The live recording stopped: what plays ends with the audio it has."""
        self._player.input_ended()

    def close(self) -> None:
        """Stop at once and release the device; the controller plays nothing afterwards."""
        if self._closed:
            return
        self._player.close()
        self._poll()
        self._timer.stop()
        self._closed = True

    # --- internals ----------------------------------------------------------------------------------

    def _can_play(self) -> bool:
        if not self._available:
            self.status.emit(self.why_not())
        return self._available

    def _start(self, target: PlayTarget, play: Callable[[], bool]) -> bool:
        if self._closed:
            return False
        previous = self._target
        self._target = target
        try:
            started = play()
        except Exception as exc:  # a sound system fails in ways nobody lists; the session must go on
            self.error.emit(f"playback failed: {exc}")
            started = False
        if not started:
            self._target = None
        else:
            self._keep_polling()
        if started or previous is not None:
            self.targetChanged.emit()
        # Delivers the state change (or the failure) now, so the views answer the click at once.
        self._poll()
        return started

    def _keep_polling(self) -> None:
        self._trailing = _TRAILING_POLLS
        if not self._closed:
            self._timer.start()

    def _poll(self) -> None:
        self._player.poll()
        if self._player.state is PlayerState.STOPPED:
            self._trailing -= 1
            if self._trailing <= 0:
                self._timer.stop()

    def _on_position(self, seconds: float) -> None:
        if self._target is not None:
            self.positionChanged.emit(seconds)

    def _on_state(self, state: PlayerState) -> None:
        # A new play stops the previous one first: its STOPPED comes with the new PLAYING, and the
        # target is already the new one.
        ended = (
            state is PlayerState.STOPPED
            and self._player.state is PlayerState.STOPPED
            and self._target is not None
        )
        if ended:
            self._target = None
        self.stateChanged.emit(state)
        if ended:
            self.targetChanged.emit()

    def _on_error(self, text: str) -> None:
        self.error.emit(text)
        # A device that failed may have gone away: the views then say so and stop offering playback.
        self.check_availability()

    def _show_target(self) -> None:
        if self._target is None:
            self.playheadMoved.emit(None, 0.0)
            self.playingChanged.emit(None, 0.0)
        else:
            self._show_position(self.position)

    def _show_position(self, seconds: float) -> None:
        target = self._target
        if target is None:
            return
        position = target.context_position(seconds)
        self.playheadMoved.emit(target.context, position)
        segment = target.segment or target.context.segment_at(position)
        fraction = 0.0
        if segment is not None and segment.audio_seconds > 0:
            fraction = (position - segment.start_seconds) / segment.audio_seconds
        self.playingChanged.emit(segment, fraction)
