"""Every action of the window in one place: its text, shortcut and tooltip, the menus and buttons that show
it, and whether it is enabled, derived from one :class:`ActionState`.

The menu bar, the composer's buttons, the timeline's buttons and the segment menu of the timeline and the
transcripts table all show these same :class:`QAction` objects, so a shortcut, a greyed entry or the reason
in its tooltip is the same wherever it appears. The actions act on the shared selection, or on what the
composer holds; what they do is connected by the window.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QWidget

from flushscope.audio.output import DeviceInfo
from flushscope.ui.options import Theme
from flushscope.ui.timeline.keys import TIMELINE_KEYS

#: Keys that views handle themselves, listed with the shortcuts.
PANE_KEYS: Final = (
    ("Go to the next pane (or back: Shift+Tab)", "Tab"),
    ("Move through a table's rows", "Up, Down, PgUp, PgDown"),
    ("Play the transcript of the current row", "Enter"),
)


@dataclass(frozen=True)
class ActionState:
    """What decides which actions can be used now."""

    #: A capture file is shown instead of the live session: it is read-only, nothing can be sent.
    viewing_capture: bool = False
    #: The live connection is open (stalled included: what is typed meanwhile still goes out on it).
    connected: bool = False
    #: A script is playing: the composer's commands wait for it.
    busy: bool = False
    #: The composer holds text to send; and an open context is chosen in it.
    has_text: bool = False
    has_context: bool = False
    #: A segment is selected; and it has audio.
    segment: bool = False
    segment_audio: bool = False
    #: A context is selected; and it has audio.
    context: bool = False
    context_audio: bool = False
    #: The session shown has audio at all.
    any_audio: bool = False
    #: Playback can work; when it cannot, why (a sentence).
    play_available: bool = False
    play_reason: str = ""
    #: Something plays (or is paused).
    playing: bool = False
    #: "Play from here" knows where here is (a point of the timeline was right-clicked).
    aimed: bool = False
    #: Whether the capture shown is pinned; None when it cannot be (none yet, or not in the captures folder).
    pinned: bool | None = None


class ActionSet:
    """The window's actions, created with ``window`` as their parent so that their shortcuts work anywhere
    in it; the output devices' actions are listed again each time their menu opens (:meth:`set_devices`)."""

    def __init__(self, window: QWidget) -> None:
        def make(text: str, shortcut: QKeySequence.StandardKey | str | None = None, tip: str = "") -> QAction:
            action = QAction(text, window)
            if shortcut is not None:
                action.setShortcut(QKeySequence(shortcut))
            if tip:
                action.setToolTip(tip)
                action.setStatusTip(tip)
            return action

        def command(text: str, shortcut: str, tip: str) -> QAction:
            # The composer's buttons: the tooltip says the shortcut, as a button's tooltip does.
            action = QAction(text, window)
            action.setShortcut(QKeySequence(shortcut))
            native = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip} ({native})")
            return action

        # The composer's commands, on the context chosen in it.
        self.new_context = command("New context", "Ctrl+N", "Start a new context with the settings below")
        self.new_context.setIconText("New")  # its button, beside the context picker of a narrow composer
        self.send = command("Send", "Ctrl+Return", "Send the transcript (continue: true)")
        # Enter on the keypad too.
        self.send.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.flush = command("Flush", "Ctrl+Shift+F", "Manual flush: close the current segment")
        self.send_flush = command("Send + Flush", "Ctrl+Shift+Return", "Send the transcript, then flush")
        self.end_context = command(
            "End context", "Ctrl+E", "The last input: empty transcript, continue: false"
        )
        self.cancel_context = command("Cancel", "Ctrl+Shift+X", "Cancel the context: stop its audio")

        self.open_capture = make("&Open capture…", QKeySequence.StandardKey.Open)
        self.open_dataset = make(
            "Open &dataset…", None, "A folder that flushscope dataset build made: its calls, worst first"
        )
        self.show_live = make("Back to the &live session", "Ctrl+L")
        self.save_capture = make("&Save capture as…", "Ctrl+Shift+S")
        self.export_png = make("&Export timeline as PNG…", "Ctrl+Shift+P")
        self.export_segment = make("Export se&gment as WAV…", "Ctrl+Shift+W")
        self.export_context = make("Export &context as WAV…")
        self.export_all = make("Export &all segments as WAV…")
        self.export_all_labels = make(
            "Export all segments as WAV with &labels…",
            None,
            "Each segment's WAV with an Audacity label track beside it: its flush_id and text, and its words",
        )
        self.compare_capture = make(
            "Compare &with a capture…", None, "What differs between the session shown and another capture"
        )
        self.compare_strategies = make(
            "Compare flush st&rategies…", None, "Speak one text cut several ways, each as its own context"
        )
        self.quit = make("&Quit", QKeySequence.StandardKey.Quit)
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)

        self.copy_timings = make("Copy segment &timings", "Ctrl+Shift+C")
        self.copy_context_id = make("Copy context_&id")
        self.connection_settings = make(
            "Co&nnection settings…",
            None,
            "Pings: how a server that stopped answering is noticed; when first audio is slow",
        )
        self.preferences = make(
            "&Preferences…",
            QKeySequence.StandardKey.Preferences,
            "Where recordings go, and how much they may fill",
        )
        self.preferences.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.pin_capture = make(
            "P&in this capture", None, "Keep this recording whatever the captures folder's size cap"
        )
        self.pin_capture.setCheckable(True)

        self.fit = make("&Fit timeline", "Ctrl+0", "Show the whole session")
        self.fit.setIconText("Fit")
        self.follow = make("F&ollow live", None, "Keep the newest audio in view as it arrives")
        self.follow.setCheckable(True)
        self.follow.setChecked(True)

        self.play = make("&Play or stop the selection", "Space")
        self.play_segment = make("Play &segment")
        self.play_context = make("Play &context", "Shift+Space")
        self.play_from_here = make("Play from &here")
        self.stop = make("S&top")

        self.about = make("&About flushscope")
        self.about.setMenuRole(QAction.MenuRole.AboutRole)

        # Remembered files, where captures go, the theme, moving between tabs, and help.
        self.recent_menu = QMenu("Open &Recent", window)
        self.recent_menu.setToolTipsVisible(True)
        self.clear_recent = make("&Clear the list", None, "Forget the captures opened before")
        self.show_captures_folder = make(
            "Show &captures folder", None, "Open the folder where every live session is recorded"
        )
        self.theme_menu = QMenu("&Theme", window)
        self.themes = QActionGroup(window)
        self.themes.setExclusive(True)
        for theme, label in ((Theme.SYSTEM, "&System"), (Theme.LIGHT, "&Light"), (Theme.DARK, "&Dark")):
            action = self.theme_menu.addAction(label)
            action.setCheckable(True)
            action.setData(theme.value)
            self.themes.addAction(action)
        self.next_tab = make("&Next tab", "Ctrl+Tab", "The next table tab")
        self.next_tab.setShortcuts([QKeySequence("Ctrl+Tab"), QKeySequence("Ctrl+PgDown")])
        self.previous_tab = make("P&revious tab", "Ctrl+Shift+Tab", "The table tab before")
        self.previous_tab.setShortcuts([QKeySequence("Ctrl+Shift+Tab"), QKeySequence("Ctrl+PgUp")])
        self.shortcuts_help = make("&Keyboard shortcuts", QKeySequence.StandardKey.HelpContents)
        self.flushing_help = make("How &flushing works")

        #: The output devices to play on, one of them checked; listed when :attr:`device_menu` opens.
        self.devices = QActionGroup(window)
        self.devices.setExclusive(True)
        self.device_menu = QMenu("Output &device", window)
        self.device_menu.setToolTipsVisible(True)
        self._state: ActionState | None = None
        self._menus: list[QMenu] = []
        self.apply(ActionState())

    def fill_menu_bar(self, bar: QMenuBar, refresh: Callable[[], None]) -> None:
        """The File, Edit, View, Playback and Help menus; ``refresh`` brings the actions' state up to date
        as a menu opens."""
        file_menu = bar.addMenu("&File")
        _add(file_menu, self.open_capture, self.open_dataset)
        file_menu.addMenu(self.recent_menu)
        _add(
            file_menu,
            self.show_captures_folder,
            self.show_live,
            self.save_capture,
            self.pin_capture,
            self.export_png,
            None,
        )
        _add(file_menu, self.compare_capture, self.compare_strategies, None)
        _add(file_menu, self.export_segment, self.export_context, self.export_all, self.export_all_labels)
        _add(file_menu, None, self.quit)
        edit_menu = bar.addMenu("&Edit")
        _add(
            edit_menu,
            self.copy_timings,
            self.copy_context_id,
            None,
            self.connection_settings,
            self.preferences,
        )
        view_menu = bar.addMenu("&View")
        _add(view_menu, self.fit, self.follow, None, self.next_tab, self.previous_tab, None)
        view_menu.addMenu(self.theme_menu)
        view_menu.addMenu(self.device_menu)
        play_menu = bar.addMenu("&Playback")
        _add(play_menu, self.play, self.play_segment, self.play_context, self.stop)
        help_menu = bar.addMenu("&Help")
        _add(help_menu, self.shortcuts_help, self.flushing_help, None, self.about)
        for menu in (file_menu, edit_menu, play_menu):
            menu.aboutToShow.connect(refresh)
        self._menus = [file_menu, edit_menu, view_menu, play_menu, help_menu]

    def shortcuts(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Every shortcut, by where it is found: the menus (once filled), the composer's buttons, and the
        keys of the timeline and the tables. Each as (what it does, its keys as the platform writes them)."""
        sections: list[tuple[str, list[tuple[str, str]]]] = []
        for menu in self._menus:
            rows = [_shortcut_row(action) for action in menu.actions() if action.shortcuts()]
            if rows:
                sections.append((menu.title().replace("&", ""), rows))
        composer = (self.new_context, self.send, self.send_flush, self.flush, self.end_context)
        sections.append(("Composer", [_shortcut_row(action) for action in (*composer, self.cancel_context)]))
        sections.append(
            ("Timeline (when it has the focus)", [(k.description, k.shown) for k in TIMELINE_KEYS])
        )
        sections.append(("Tables and panes", list(PANE_KEYS)))
        return sections

    def segment_menu(self, parent: QWidget, *, from_timeline: bool) -> QMenu:
        """The menu of a segment (right click on the timeline or a transcript row), on the actions of the
        selection: the window selects the segment first. It deletes itself once closed."""
        menu = QMenu(parent)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        _add(menu, self.play_segment, self.play_context)
        if from_timeline:
            menu.addAction(self.play_from_here)
        _add(menu, self.stop, None, self.export_segment, self.export_context, None)
        _add(menu, self.copy_timings, self.copy_context_id)
        return menu

    def apply(self, state: ActionState) -> None:
        """Enable what applies, and say in the playing actions' tooltips why they cannot work (nothing is
        touched when the state is the one applied last)."""
        if state == self._state:
            return
        self._state = state
        can_send = state.connected and not state.viewing_capture and not state.busy
        self.new_context.setEnabled(can_send)
        self.send.setEnabled(can_send and state.has_text)
        self.send_flush.setEnabled(can_send and state.has_text)
        for action in (self.flush, self.end_context, self.cancel_context):
            action.setEnabled(can_send and state.has_context)
        why = state.play_reason if not state.play_available else ""
        self.show_live.setEnabled(state.viewing_capture)
        self.follow.setEnabled(not state.viewing_capture)
        self.export_segment.setEnabled(state.segment_audio)
        self.export_context.setEnabled(state.context_audio)
        self.export_all.setEnabled(state.any_audio)
        self.export_all_labels.setEnabled(state.any_audio)
        self.copy_timings.setEnabled(state.segment or state.context)
        self.copy_context_id.setEnabled(state.context)
        self.play.setToolTip(why or "Play the selected segment (or context), or stop what plays")
        # Enabled where there is audio, as the Play cells and Space are: when nothing can play, they say why.
        self.play_segment.setEnabled(state.segment_audio)
        self.play_segment.setToolTip(why or "Play the selected segment's audio alone")
        self.play_context.setEnabled(state.context_audio)
        self.play_context.setToolTip(why or "Play every segment of the selected context, gapless")
        self.play_from_here.setEnabled(state.context_audio and state.aimed)
        self.play_from_here.setToolTip(why or "Play the context from the point clicked")
        self.stop.setEnabled(state.playing)
        self.pin_capture.setEnabled(state.pinned is not None)
        self.pin_capture.setChecked(bool(state.pinned))

    def check_theme(self, theme: str) -> None:
        """Tick ``theme`` (a :class:`Theme`'s value) in View > Theme."""
        for action in self.themes.actions():
            action.setChecked(action.data() == theme)

    def aim_play_from_here(self, seconds: float | None) -> None:
        """Where "Play from here" starts, in seconds into the selected context's audio (None: nowhere); the
        state applied next says whether it is aimed."""
        self.play_from_here.setData(seconds)

    def set_devices(self, devices: Sequence[DeviceInfo], chosen: int | None, why_not: str) -> None:
        """List the output ``devices`` in :attr:`device_menu`, the default first, ``chosen`` (None: the
        default) checked; ``why_not`` says below them why nothing can play ("" when it can). Each device's
        action holds (its index, None for the default entry, and its name) as data."""
        menu = self.device_menu
        menu.clear()  # the menu owns the entries it made: they go, and leave the group with them
        for device in devices:
            label = device.name.replace("&", "&&") + (" (default)" if device.is_default else "")
            action = menu.addAction(label)
            action.setCheckable(True)
            self.devices.addAction(action)
            # The default entry follows the system's default, whichever device that becomes.
            index = None if device.is_default else device.index
            action.setData((index, device.name))
            action.setChecked(chosen == index or chosen == device.index)
        if not devices:
            menu.addAction("No output device found").setEnabled(False)
        if why_not:
            menu.addSeparator()
            menu.addAction(why_not).setEnabled(False)


def _shortcut_row(action: QAction) -> tuple[str, str]:
    keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())
    return re.sub("&(.)", r"\1", action.text()).rstrip("…"), keys


def _add(menu: QMenu, *actions: QAction | None) -> None:
    """Add actions in order; None is a separator."""
    menu.setToolTipsVisible(True)
    for action in actions:
        if action is None:
            menu.addSeparator()
        else:
            menu.addAction(action)
