"""The window's menu bar and shortcuts, the segment menu of the timeline and the transcript table, and
which actions apply to the selection."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

import flushscope
from flushscope.audio.player import PlayerState
from flushscope.core.session import Segment
from flushscope.ui.capture_files import CaptureFiles
from flushscope.ui.export_actions import ExportActions
from flushscope.ui.playback import OutputDeviceMenu
from flushscope.ui.playback_actions import PlaybackActions
from flushscope.ui.wording import MESSAGE_MS, NO_PLAYER, sentence


class WindowMenus(PlaybackActions, ExportActions, CaptureFiles):
    """The window's part that builds its menus and keeps their actions in step with the selection."""

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = self._action(file_menu, "&Open capture…", QKeySequence.StandardKey.Open)
        self.live_action = self._action(file_menu, "Back to the &live session", "Ctrl+L")
        self.save_action = self._action(file_menu, "&Save capture as…", "Ctrl+Shift+S")
        self.export_action = self._action(file_menu, "&Export timeline as PNG…", "Ctrl+Shift+P")
        file_menu.addSeparator()
        self.export_segment_action = self._action(file_menu, "Export se&gment as WAV…", "Ctrl+Shift+W")
        self.export_context_action = self._action(file_menu, "Export &context as WAV…", None)
        self.export_all_action = self._action(file_menu, "Export &all segments as WAV…", None)
        file_menu.addSeparator()
        self.quit_action = self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        edit_menu = self.menuBar().addMenu("&Edit")
        self.copy_timings_action = self._action(edit_menu, "Copy segment &timings", "Ctrl+Shift+C")
        self.copy_context_id_action = self._action(edit_menu, "Copy context_&id", None)

        view_menu = self.menuBar().addMenu("&View")
        self.fit_action = self._action(view_menu, "&Fit timeline", "Ctrl+0")
        self.follow_action = self._action(view_menu, "F&ollow live", None)
        self.follow_action.setCheckable(True)
        self.follow_action.setChecked(True)
        view_menu.addSeparator()
        self.device_menu = OutputDeviceMenu("Output &device", self.playback, self)
        self.device_menu.deviceChosen.connect(self._device_chosen)
        view_menu.addMenu(self.device_menu)

        play_menu = self.menuBar().addMenu("&Playback")
        play_menu.setToolTipsVisible(True)
        self.play_action = self._action(play_menu, "&Play or stop the selection", "Space")
        self.play_context_action = self._action(play_menu, "Play the selected &context", "Shift+Space")
        self.stop_action = self._action(play_menu, "&Stop", None)
        self.stop_action.setEnabled(False)
        for menu in (file_menu, edit_menu, play_menu):
            menu.setToolTipsVisible(True)
            menu.aboutToShow.connect(self._update_actions)

        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = self._action(help_menu, "&About flushscope", None)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

        self.open_action.triggered.connect(self._choose_capture)
        self.live_action.triggered.connect(self.show_live)
        self.save_action.triggered.connect(self._choose_save_path)
        self.export_action.triggered.connect(self._choose_png_path)
        self.quit_action.triggered.connect(self.close)
        self.fit_action.triggered.connect(self.timeline.fit_all)
        self.about_action.triggered.connect(self._about)
        self.export_segment_action.triggered.connect(self._export_selected_segment)
        self.export_context_action.triggered.connect(self._export_selected_context)
        self.export_all_action.triggered.connect(self._choose_wav_folder)
        self.copy_timings_action.triggered.connect(lambda: self.copy_segment_timings())
        self.copy_context_id_action.triggered.connect(lambda: self.copy_context_id())
        self.play_action.triggered.connect(self.toggle_playback)
        self.play_context_action.triggered.connect(self._play_selected_context)
        self.stop_action.triggered.connect(self.stop_playback)

    def _action(self, menu: QMenu, text: str, shortcut: QKeySequence.StandardKey | str | None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        menu.addAction(action)
        return action

    def _update_actions(self) -> None:
        """Enable what applies to the selection, and grey playing with the reason when it cannot work."""
        available, reason = self.play_availability()
        segment, context = self.selection.segment, self.selection.context
        has_segment_audio = segment is not None and segment.nbytes > 0
        has_context_audio = context is not None and context.total_bytes > 0
        why = sentence(reason) if not available else ""
        self.play_action.setToolTip(why or "Play the selected segment (or context), or stop what plays")
        self.play_context_action.setEnabled(available and self.playback is not None and has_context_audio)
        self.play_context_action.setToolTip(why or "Play every segment of the selected context, gapless")
        playing = self.playback is not None and self.playback.state is not PlayerState.STOPPED
        self.stop_action.setEnabled(playing)
        self.export_segment_action.setEnabled(has_segment_audio)
        self.export_context_action.setEnabled(has_context_audio)
        self.export_all_action.setEnabled(self.bridge.session.chunks.size > 0)
        self.copy_timings_action.setEnabled(segment is not None or context is not None)
        self.copy_context_id_action.setEnabled(context is not None)

    def _device_chosen(self, name: str) -> None:
        available, reason = self.play_availability()
        self.status.showMessage(f"Output device: {name}" if available else sentence(reason), MESSAGE_MS)

    # --- the segment menu --------------------------------------------------------------------------

    def _segment_menu(self, segment: Segment, pos: QPoint) -> None:
        """The timeline's menu: with "Play from here", the audio position under the pointer."""
        here = self.timeline.audio_position_at(self.timeline.mapFromGlobal(pos))
        self._show_segment_menu(segment, pos, here[1] if here and here[0] is segment.context else None)

    def _table_menu(self, segment: Segment, pos: QPoint) -> None:
        self._show_segment_menu(segment, pos, None, from_timeline=False)

    def _show_segment_menu(
        self, segment: Segment, pos: QPoint, here: float | None, *, from_timeline: bool = True
    ) -> None:
        self.selection.select_segment(segment)
        ctx = segment.context
        available, reason = self.play_availability()
        why = sentence(reason) if not available else ""
        needs = "" if self.playback is not None else sentence(NO_PLAYER)
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.setToolTipsVisible(True)

        def add(text: str, enabled: bool, slot: Callable[[], object], tip: str = "") -> QAction:
            action = menu.addAction(text)
            action.setEnabled(enabled)
            if tip:
                action.setToolTip(tip)
            action.triggered.connect(lambda _checked=False: slot())
            return action

        add("Play segment", available and segment.nbytes > 0, lambda: self.play_segment(segment), why)
        can_context = available and self.playback is not None and ctx.total_bytes > 0
        add("Play context", can_context, lambda: self.play_context(ctx), why or needs)
        if from_timeline:
            add(
                "Play from here",
                can_context and here is not None,
                lambda: self.play_context(ctx, here or 0.0),
                why or needs or "Play the context from the point clicked",
            )
        if self.playback is not None and self.playback.state is not PlayerState.STOPPED:
            add("Stop", True, self.stop_playback)
        menu.addSeparator()
        add("Export segment as WAV…", segment.nbytes > 0, lambda: self._choose_wav_path(segment))
        add("Export context as WAV…", ctx.total_bytes > 0, lambda: self._choose_wav_path(ctx))
        menu.addSeparator()
        add("Copy segment timings", True, lambda: self.copy_segment_timings(segment))
        add("Copy context_id", True, lambda: self.copy_context_id(ctx))
        menu.popup(pos)

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About flushscope",
            f"<h3>flushscope {flushscope.__version__}</h3>"
            "<p>An inspector for Cartesia TTS WebSocket contexts, manual flushes and flush_id "
            "attribution: which audio chunk belongs to which transcript.</p>"
            "<p>Every live session is recorded to a capture file as it happens.</p>",
        )
