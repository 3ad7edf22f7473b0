"""The window's settings file: every key it holds and the type of its value, here and nowhere else.

One :class:`Preferences` wraps one :class:`QSettings` (an INI file: the user's, or the one ``--settings FILE``
or ``FLUSHSCOPE_SETTINGS`` names, so that two processes can share it), or a dictionary when nothing is to be
kept (tests, benches). The file is untrusted like any other input: a value of the wrong type, or one the
window cannot use, reads as absent and is replaced on the next write. The API key is never written here
(:mod:`flushscope.ui.preferences.secret` keeps it in the system's keyring).

The keys:

=================================  =============================================================
``window/<name>/geometry``         ``x y w h`` of the window's normal (not maximised) geometry
``window/<name>/maximized``        whether it was maximised
``splitter/<name>``                a splitter's saved state (``QSplitter.saveState``)
``connection/target``              ``emulator``, ``cartesia``, ``custom`` or ``proxy``
``connection/url``                 the custom URL typed
``connection/remember_key``        whether the API key is kept in the keyring
``proxy/listen``                   where the proxy listens (``HOST:PORT``)
``proxy/upstream``                 where it forwards: ``cartesia``, ``emulator`` or a URL
``generation/<key>``               the composer's generation settings, as scenario scripts write them
``look/theme``                     ``system``, ``light`` or ``dark``
``files/recent``                   the captures opened last, newest first (a JSON list of paths)
``files/folder``                   the folder a capture was last opened from or saved to
=================================  =============================================================
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path
from typing import Final, Protocol

from PySide6.QtCore import QByteArray, QRect, QSettings

from flushscope.core.inputs.generation_settings import GenerationSettings, SettingsError
from flushscope.ui.options import SETTINGS_ENV, Theme

#: How many captures File > Open Recent lists.
RECENT_LIMIT: Final = 10
#: The targets the connection bar offers.
TARGETS: Final = ("emulator", "cartesia", "custom", "proxy")

# GenerationSettings' fields as scenario scripts name them (GenerationSettings.apply reads them back).
_GENERATION_KEYS: Final = {
    "model_id": "model",
    "voice_id": "voice",
    "language": "language",
    "encoding": "encoding",
    "sample_rate": "sample_rate",
    "add_timestamps": "timestamps",
    "add_phoneme_timestamps": "phonemes",
    "max_buffer_delay_ms": "max_buffer_delay_ms",
    "speed": "speed",
}


class _Store(Protocol):
    """What :class:`Preferences` needs of a QSettings."""

    def value(self, key: str) -> object: ...
    def setValue(self, key: str, value: object) -> None: ...
    def remove(self, key: str) -> None: ...
    def sync(self) -> None: ...


class _MemoryStore:
    """Settings kept for the life of the process only."""

    def __init__(self) -> None:
        self._values: dict[str, object] = {}

    def value(self, key: str) -> object:
        return self._values.get(key)

    def setValue(self, key: str, value: object) -> None:
        self._values[key] = value

    def remove(self, key: str) -> None:
        self._values.pop(key, None)

    def sync(self) -> None:
        pass


class Preferences:
    """The window's remembered settings, typed (see the module docstring for the keys). ``settings`` None:
    nothing outlives the process."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._settings = settings
        self._store: _Store = settings if settings is not None else _MemoryStore()

    @classmethod
    def at(cls, path: str | os.PathLike[str]) -> Preferences:
        """The settings in the INI file ``path`` (created on the first write)."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    @classmethod
    def for_user(cls) -> Preferences:
        """The user's settings file (``~/.config/flushscope/flushscope.ini`` on Linux), or the one
        :data:`SETTINGS_ENV` names."""
        named = os.environ.get(SETTINGS_ENV)
        if named:
            return cls.at(named)
        scope = QSettings.Scope.UserScope
        return cls(QSettings(QSettings.Format.IniFormat, scope, "flushscope", "flushscope"))

    @property
    def path(self) -> Path | None:
        """The settings file (None: kept in memory)."""
        return Path(self._settings.fileName()) if self._settings is not None else None

    def sync(self) -> None:
        """Write what changed to the file now (QSettings also does on its own, and when it goes)."""
        self._store.sync()

    # --- typed access --------------------------------------------------------------------------------

    def _text(self, key: str) -> str | None:
        value = self._store.value(key)
        return value if isinstance(value, str) else None

    def _flag(self, key: str) -> bool | None:
        value = self._store.value(key)
        if isinstance(value, bool):
            return value
        return {"true": True, "false": False}.get(value) if isinstance(value, str) else None

    def _set(self, key: str, value: object) -> None:
        self._store.setValue(key, value)

    # --- windows -------------------------------------------------------------------------------------

    def geometry(self, window: str) -> tuple[QRect, bool] | None:
        """Where window ``window`` was (its normal geometry) and whether it was maximised."""
        text = self._text(f"window/{window}/geometry")
        try:
            x, y, w, h = (int(part) for part in (text or "").split())
        except ValueError:
            return None
        if w <= 0 or h <= 0:
            return None
        return QRect(x, y, w, h), bool(self._flag(f"window/{window}/maximized"))

    def set_geometry(self, window: str, rect: QRect, maximized: bool) -> None:
        self._set(f"window/{window}/geometry", f"{rect.x()} {rect.y()} {rect.width()} {rect.height()}")
        self._set(f"window/{window}/maximized", maximized)

    def splitter(self, name: str) -> QByteArray | None:
        """A splitter's saved state."""
        value = self._store.value(f"splitter/{name}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_splitter(self, name: str, state: QByteArray) -> None:
        self._set(f"splitter/{name}", state)

    # --- the connection ------------------------------------------------------------------------------

    def target(self) -> str | None:
        """The target last chosen in the connection bar."""
        text = self._text("connection/target")
        return text if text in TARGETS else None

    def set_target(self, kind: str) -> None:
        self._set("connection/target", kind)

    def url(self) -> str | None:
        """The custom URL last typed."""
        return self._text("connection/url")

    def set_url(self, url: str) -> None:
        self._set("connection/url", url)

    def proxy_listen(self) -> str | None:
        return self._text("proxy/listen")

    def set_proxy_listen(self, listen: str) -> None:
        self._set("proxy/listen", listen)

    def proxy_upstream(self) -> str | None:
        """``cartesia``, ``emulator`` or a URL."""
        return self._text("proxy/upstream")

    def set_proxy_upstream(self, upstream: str) -> None:
        self._set("proxy/upstream", upstream)

    def remember_key(self) -> bool:
        """Whether the user asked for the API key to be kept in the keyring."""
        return bool(self._flag("connection/remember_key"))

    def set_remember_key(self, remember: bool) -> None:
        self._set("connection/remember_key", remember)

    # --- generation settings -------------------------------------------------------------------------

    def generation(self) -> GenerationSettings | None:
        """The composer's generation settings last used (a value that is not allowed any more keeps its
        default); None when none were kept."""
        settings = GenerationSettings()
        found = False
        for key in _GENERATION_KEYS.values():
            text = self._text(f"generation/{key}")
            if text is None:
                continue
            try:
                settings = settings.apply(key, text)
            except SettingsError:
                continue
            found = True
        return settings if found else None

    def set_generation(self, settings: GenerationSettings) -> None:
        for field in fields(settings):
            value = getattr(settings, field.name)
            if isinstance(value, bool):
                text = "on" if value else "off"
            else:
                text = "none" if value is None else str(value)
            self._set(f"generation/{_GENERATION_KEYS[field.name]}", text)

    # --- look ----------------------------------------------------------------------------------------

    def theme(self) -> Theme | None:
        text = self._text("look/theme")
        return Theme(text) if text in {t.value for t in Theme} else None

    def set_theme(self, theme: Theme) -> None:
        self._set("look/theme", theme.value)

    # --- files ---------------------------------------------------------------------------------------

    def recent_captures(self) -> list[Path]:
        """The captures opened last, newest first, without those that are gone (they are dropped from the
        file too)."""
        listed = self._recent()
        present = [path for path in listed if path.is_file()]
        if present != listed:
            self._set_recent(present)
        return present

    def add_recent(self, path: str | os.PathLike[str]) -> None:
        """``path`` opened: first in the list (once), the oldest dropped beyond :data:`RECENT_LIMIT`."""
        added = Path(path).absolute()
        self._set_recent([added, *(p for p in self._recent() if p != added)][:RECENT_LIMIT])

    def clear_recent(self) -> None:
        self._store.remove("files/recent")

    def _recent(self) -> list[Path]:
        try:
            listed = json.loads(self._text("files/recent") or "[]")
        except ValueError:
            return []
        if not isinstance(listed, list):
            return []
        return [Path(item) for item in listed if isinstance(item, str) and item][:RECENT_LIMIT]

    def _set_recent(self, paths: list[Path]) -> None:
        self._set("files/recent", json.dumps([str(p) for p in paths]))

    def last_folder(self) -> Path | None:
        """The folder a capture was last opened from or saved to, if it is still there."""
        text = self._text("files/folder")
        return Path(text) if text and Path(text).is_dir() else None

    def set_last_folder(self, folder: str | os.PathLike[str]) -> None:
        self._set("files/folder", str(Path(folder).absolute()))
