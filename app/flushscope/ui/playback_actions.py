"""Playing from the window: a segment, a context, from a point, Space to play or stop, and what shows it
(the playheads of the timeline and the waveform strip, the playing row, the status bar field). Playback
goes through a :class:`~flushscope.ui.playback.PlaybackController` when the window has one."""

from __future__ import annotations

import logging

from flushscope.audio.player import PlayerState
from flushscope.core.session import Context, Segment
from flushscope.ui.palette import is_dark, warning_colour
from flushscope.ui.playback import segment_at, segment_start
from flushscope.ui.window_parts import WindowParts
from flushscope.ui.wording import MESSAGE_MS, NO_PLAYER, sentence

log = logging.getLogger("flushscope.window")


class PlaybackActions(WindowParts):
    """The window's part that plays audio and shows what plays."""

    _play_status: str

    def play_availability(self) -> tuple[bool, str]:
        """Whether playing can work, and why not in words (as last checked)."""
        if self.playback is not None:
            return self.playback.available, self.playback.reason
        if self.player is not None:
            return True, ""
        return False, NO_PLAYER

    def _can_play(self) -> bool:
        available, reason = self.play_availability()
        if not available:
            self.status.showMessage(sentence(reason), MESSAGE_MS)
        return available

    def play_segment(self, segment: Segment, start: float = 0.0) -> bool:
        """Play one segment's audio from ``start`` seconds into it; False, with the reason in the status bar,
        when it cannot."""
        if not self._can_play():
            return False
        if not segment.nbytes:
            self.status.showMessage(f"Segment {segment.label} has no audio yet", MESSAGE_MS)
            return False
        what = f"segment {segment.label} of context {segment.context.context_id}"
        if self.playback is not None:
            started = self.playback.play_segment(segment, start)
        else:
            assert self.player is not None
            try:
                self.player.play(segment)
            except Exception as exc:  # sound devices fail in many ways; none of them should end the session
                self.status.showMessage(f"Cannot play {what}: {exc}", MESSAGE_MS)
                return False
            started = True
        if started:
            self.status.showMessage(f"Playing {what}", MESSAGE_MS)
        return started

    def play_context(self, context: Context, start: float = 0.0) -> bool:
        """Play a context's segments in order, gapless, from ``start`` seconds into its audio."""
        if self.playback is None:
            self.status.showMessage(sentence(self.play_availability()[1] or NO_PLAYER), MESSAGE_MS)
            return False
        if not self._can_play():
            return False
        if not context.total_bytes:
            self.status.showMessage(f"Context {context.context_id} has no audio yet", MESSAGE_MS)
            return False
        started = self.playback.play_context(context, start)
        if started:
            where = f" from {start:.2f} s" if start > 0 else ""
            self.status.showMessage(f"Playing context {context.context_id}{where}", MESSAGE_MS)
        return started

    def stop_playback(self) -> None:
        """Stop what plays (nothing happens when nothing does)."""
        if self.playback is not None and self.playback.state is not PlayerState.STOPPED:
            self.playback.stop()

    def toggle_playback(self) -> None:
        """Space: stop what plays; else play the selected segment, or the selected context."""
        playback = self.playback
        if playback is not None and playback.state is not PlayerState.STOPPED:
            playback.stop()
            self.status.showMessage("Stopped", MESSAGE_MS)
            return
        segment, context = self.selection.segment, self.selection.context
        if segment is not None:
            self.play_segment(segment)
        elif context is not None:
            self.play_context(context)
        else:
            self.status.showMessage("Select a transcript or a context to play it", MESSAGE_MS)

    def select_first_segment(self) -> Segment | None:
        """Select the first transcript row (the segment that appeared first), if there is one."""
        model = self.transcripts.model
        if not model.rowCount():
            return None
        segment = model.segment(0)
        self.selection.select_segment(segment)
        return segment

    def _play_selected_context(self) -> None:
        context = self.selection.context
        if context is None:
            self.status.showMessage("Select a context to play it", MESSAGE_MS)
            return
        self.play_context(context)

    def _play_cell(self, segment: Segment) -> None:
        """A Play cell (or Enter on a row): ■ stops the row that plays, ▶ plays."""
        if self.playback is not None and self.playback.is_playing(segment):
            self.playback.stop()
            return
        self.play_segment(segment)

    def _play_from(self, target: Segment | Context, seconds: float) -> None:
        if isinstance(target, Segment):
            self.play_segment(target, seconds)
        else:
            self.play_context(target, seconds)

    def _on_play_error(self, text: str) -> None:
        self.status.showMessage(sentence(text), MESSAGE_MS)
        log.info("%s", text)

    def _show_availability(self, available: bool, reason: str) -> None:
        """Grey what plays, with the reason beside it, or bring it back."""
        reason = "" if available else sentence(reason or NO_PLAYER)
        self.transcripts.model.set_play_available(available, reason)
        self.waveform.set_message(reason)
        if not available:
            self.status.showMessage(reason, MESSAGE_MS)
        self._refresh_play_label()
        self._update_actions()

    def _refresh_playback(self) -> None:
        """Playheads, the playing row and the status field, after what plays or its state changed."""
        playback = self.playback
        if playback is None:
            return
        if playback.target is None or playback.state is PlayerState.STOPPED:
            self.timeline.set_playhead(None)
            self.waveform.set_playhead(None)
            self.transcripts.model.set_playing(None)
            self._refresh_play_label()
            self._update_actions()
            return
        self._show_position(playback.position)
        self._update_actions()

    def _show_position(self, seconds: float) -> None:
        playback = self.playback
        target = playback.target if playback is not None else None
        if target is None:
            return
        position = target.context_position(seconds)
        self.timeline.set_playhead(target.context, position)
        self.waveform.set_playhead(target.context, position)
        segment = target.segment or segment_at(target.context, position)
        fraction = 0.0
        if segment is not None and segment.audio_seconds > 0:
            fraction = (position - segment_start(segment)) / segment.audio_seconds
        self.transcripts.model.set_playing(segment, fraction)
        self._refresh_play_label(seconds)

    def _refresh_play_label(self, seconds: float | None = None) -> None:
        """The status bar field: what plays and where, or that nothing can play."""
        playback = self.playback
        available, reason = self.play_availability()
        target = playback.target if playback is not None else None
        colour = ""
        if target is not None and playback is not None and playback.state is not PlayerState.STOPPED:
            position = playback.position if seconds is None else seconds
            segment = target.segment
            what = f"context {target.context.number}"
            if segment is not None:
                what = f"flush_id {segment.label} of {what}"
            total = segment.audio_seconds if segment is not None else target.context.audio_seconds
            state = "Paused" if playback.state is PlayerState.PAUSED else "Playing"
            waiting = " (waiting for audio)" if playback.player.buffering else ""
            text = f"{state} {what}: {position:.1f} / {total:.1f} s{waiting}"
        elif not available and self.player is not None:
            text = "No audio output"
            colour = warning_colour(is_dark(self.palette())).name()
        else:
            text = ""
        if text == self._play_status:
            return
        self._play_status = text
        self.play_label.setText(text)
        self.play_label.setToolTip(sentence(reason) if not available else "")
        self.play_label.setStyleSheet(f"color: {colour}" if colour else "")
        self.play_label.setVisible(bool(text))
