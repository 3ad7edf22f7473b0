"""What the window takes back from the last run, and keeps for the next: where it was on the screen and
its splitters, its theme, the connection bar's target, URLs and proxy places, the composer's generation
settings, the captures opened (File > Open Recent) and the folder they came from, and the API key in the
system's keyring when the user ticks Remember.

The settings file (:class:`~flushscope.ui.preferences.store.Preferences`) never holds the key; the keyring
(:class:`~flushscope.ui.preferences.secret.KeyStore`) holds it only while Remember is ticked, and forgets it
when it is unticked. Where there is no keyring, the box is greyed and says why.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import QObject, QSize, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QSplitter

from flushscope.ui.look.themes import apply_theme
from flushscope.ui.options import Theme
from flushscope.ui.preferences.geometry import keep_frame_inside, remember_window, show_placed
from flushscope.ui.preferences.secret import KeyStore
from flushscope.ui.preferences.store import Preferences
from flushscope.ui.widgets.composer import SettingsForm
from flushscope.ui.widgets.connection_bar import Choice, ConnectionBar

#: The size of a window opened for the first time on a screen large enough for it.
FIRST_SIZE = QSize(1440, 900)
#: The composer's column the first time: a fifth of the window, within these bounds.
COMPOSER_WIDTH = (200, 300)


class Remembering(QObject):
    """Places ``window`` and its ``splitters`` (by name) as they were, restores ``bar`` and ``form`` from
    ``preferences`` (and the key from ``keys``), and keeps them all there."""

    status = Signal(str)
    """A message for the status bar."""
    recentChosen = Signal(str)
    """A capture picked in File > Open Recent (its path)."""
    themeChanged = Signal(str)
    """The window's theme was switched (the :class:`Theme`'s value)."""

    def __init__(
        self,
        preferences: Preferences,
        keys: KeyStore,
        bar: ConnectionBar,
        form: SettingsForm,
        window: QMainWindow,
        splitters: dict[str, QSplitter],
    ) -> None:
        super().__init__(window)
        self.preferences = preferences
        self.keys = keys
        self._bar = bar
        self._form = form
        self._window = window
        self._splitters = splitters

    # --- the window: where it was, its splitters, its theme ------------------------------------------

    def show_placed(self) -> None:
        """Show the window where it was last time (kept inside the screen), or sized to the screen."""
        window = self._window
        show_placed(window, self.preferences, "main", FIRST_SIZE)
        if self.preferences.splitter("main") is None:
            # The composer's width first: a small screen gives the rest to the timeline and the tables.
            low, high = COMPOSER_WIDTH
            left = min(max(window.width() // 5, low), high)
            self._splitters["main"].setSizes([left, window.width() - left])
        # Once laid out at its size (the next turn of the loop): a splitter restored before would share out
        # its width again.
        QTimer.singleShot(0, self._restore_splitters)

    def keep_inside(self) -> None:
        """Move and shrink the window back inside its screen, unless it is maximised."""
        if not self._window.isMaximized():
            keep_frame_inside(self._window)

    def _restore_splitters(self) -> None:
        for name, splitter in self._splitters.items():
            state = self.preferences.splitter(name)
            if state is not None:
                splitter.restoreState(state)

    def set_theme(self, theme: Theme) -> None:
        """Switch to ``theme`` now, and start with it next time."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.preferences.set_theme(theme)
        self.themeChanged.emit(theme.value)

    # --- the connection bar and the composer -------------------------------------------------------

    def restore(self) -> None:
        """Put what was kept into the connection bar and the composer (before anything connects)."""
        prefs, bar = self.preferences, self._bar
        if (url := prefs.url()) is not None:
            bar.set_typed_url("custom", url)
        if (listen := prefs.proxy_listen()) is not None:
            bar.set_typed_url("proxy", listen)
        if (upstream := prefs.proxy_upstream()) is not None:
            bar.set_upstream(upstream)
        target: Choice | None = prefs.target()  # type: ignore[assignment]
        if target is not None:
            bar.set_target(target)
        if (settings := prefs.generation()) is not None:
            self._form.set_settings(settings)
        why_not = self.keys.why_not()
        bar.set_remember_available(why_not)
        remembered = prefs.remember_key() and not why_not
        bar.remember_check.setChecked(remembered)
        if remembered and not bar.api_key():
            bar.key_edit.setText(self.keys.load() or "")
        bar.remember_check.toggled.connect(self._remember_toggled)

    def save(self) -> None:
        """Keep the window's geometry and splitters, and what the connection bar and the composer hold now
        (the key only in the keyring, if asked), on disk."""
        prefs, bar = self.preferences, self._bar
        remember_window(self._window, prefs, "main")
        for name, splitter in self._splitters.items():
            prefs.set_splitter(name, splitter.saveState())
        prefs.set_target(bar.target_kind())
        prefs.set_url(bar.typed_url("custom"))
        prefs.set_proxy_listen(bar.typed_url("proxy"))
        prefs.set_proxy_upstream(bar.upstream())
        # A setting being typed that is not allowed: the last good ones stay.
        with contextlib.suppress(ValueError):
            prefs.set_generation(self._form.settings())
        if bar.remember_check.isChecked():
            self._say(self.keys.save(bar.api_key()))
        prefs.sync()

    def _remember_toggled(self, remember: bool) -> None:
        self.preferences.set_remember_key(remember)
        if remember:
            problem = self.keys.save(self._bar.api_key())
            self._say(problem or "The key is kept in the system's keyring")
        else:
            problem = self.keys.forget()
            self._say(problem or "The key is not remembered any more")

    def _say(self, text: str) -> None:
        if text:
            self.status.emit(text)

    # --- captures opened -------------------------------------------------------------------------------

    def fill_recent(self, menu: QMenu, clear: QAction) -> None:
        """List the captures opened last (those still there) in ``menu``, then ``clear``."""
        menu.clear()
        recent = self.preferences.recent_captures()
        for number, path in enumerate(recent, start=1):
            name = path.name.replace("&", "&&")
            action = menu.addAction(f"&{number} {name}" if number < 10 else f"1&0 {name}")
            action.setToolTip(str(path))
            action.setData(str(path))
            action.triggered.connect(lambda _checked=False, p=str(path): self.recentChosen.emit(p))
        if not recent:
            menu.addAction("No captures opened yet").setEnabled(False)
        menu.addSeparator()
        menu.addAction(clear)
        clear.setEnabled(bool(recent))

    def clear_recent(self) -> None:
        self.preferences.clear_recent()
        self.status.emit("Forgot the captures opened before")

    def opened(self, path: str | Path) -> None:
        """A capture was opened: first in the recent list; its folder is where the next dialog starts."""
        self.preferences.add_recent(path)
        self.preferences.set_last_folder(Path(path).parent)

    def folder(self, fallback: Path) -> Path:
        """Where a file dialog starts: the folder last used, else ``fallback`` (the captures folder)."""
        return self.preferences.last_folder() or fallback
