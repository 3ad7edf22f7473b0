"""The folder live sessions record into, kept under a size cap: the oldest recordings go first.

Every live session is recorded there (a capture each), so it grows without end unless something removes
old ones. The rule, applied when a live session starts recording there and when the cap is changed:

- Only the recordings flushscope names itself count and can go (``pattern``, ``flushscope-*.fscap.jsonl``
  for the window's recordings); any other file in the folder is the user's and is left alone.
- While they add up to more than the cap, the oldest (by the time each was last written) is removed.
- Never removed: the capture being recorded (``keep``), a pinned one, and one written in the last
  :data:`RECENT_S` seconds (another window may be recording into it).
- A cap of 0 means no cap.

The cap and the pins are kept in the folder itself, in :data:`RETENTION_FILE`::

    {"cap_bytes": 2147483648, "pinned": ["flushscope-20260112-101500.fscap.jsonl"]}

Pins are file names, so the folder can be moved. The file is written whole and then renamed over the old
one. A file that cannot be read as such is never overwritten and nothing is removed while it is broken
(:class:`RetentionError` says why): removing a recording the user had pinned cannot be undone.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "DEFAULT_CAP",
    "RECENT_S",
    "RETENTION_FILE",
    "CaptureFolder",
    "Pruned",
    "Retention",
    "RetentionError",
    "StoredCapture",
    "size_words",
]

#: 2 GiB: a few hours of speech at 24 kHz, base64 in JSON included.
DEFAULT_CAP: Final = 2 * 1024**3
#: A recording written this recently may still be recording (in another window): it stays.
RECENT_S: Final = 3600.0
RETENTION_FILE: Final = "retention.json"


class RetentionError(Exception):
    """The folder's retention file cannot be read or written; the words say which and why."""


@dataclass(frozen=True, slots=True)
class Retention:
    """The folder's cap in bytes (0: none) and the names of its pinned recordings."""

    cap: int = DEFAULT_CAP
    pinned: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class StoredCapture:
    """A recording in the folder: its path, size, when it was last written (epoch seconds), whether pinned."""

    path: Path
    size: int
    mtime: float
    pinned: bool


@dataclass(frozen=True, slots=True)
class Pruned:
    """What one pass of the cap did: the recordings removed, the bytes freed, what the recordings add up to
    now against the cap, and the files that could not be removed (in words)."""

    removed: tuple[Path, ...]
    freed: int
    size: int
    cap: int
    problems: tuple[str, ...] = ()

    @property
    def over_cap(self) -> bool:
        """Still over the cap: what may not go (pinned, recording, recent) is more than the cap allows."""
        return self.cap > 0 and self.size > self.cap

    def words(self) -> str:
        """What happened, in a sentence ("" when nothing was removed and nothing is wrong)."""
        said = []
        if self.removed:
            count = len(self.removed)
            said.append(
                f"removed the {count} oldest recording{'s' if count != 1 else ''} ({size_words(self.freed)}) "
                f"to keep the captures folder under {size_words(self.cap)}"
            )
        if self.over_cap:
            said.append(
                f"the captures folder holds {size_words(self.size)}, over its cap of {size_words(self.cap)}: "
                "the rest is pinned, recording or recent"
            )
        said.extend(self.problems)
        return "; ".join(said)


def size_words(size: int) -> str:
    """A number of bytes for people: ``2 GiB``, ``1.4 GiB``, ``310 MiB``, ``12 KiB``."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}".replace(".0 ", " ") if value < 10 else f"{value:.0f} {unit}"
    return f"{size} bytes"


class CaptureFolder:
    """The recordings in ``path`` that match ``pattern``, their pins and the folder's cap."""

    def __init__(self, path: Path, pattern: str = "*.fscap.jsonl") -> None:
        self.path = path
        self.pattern = pattern

    @property
    def retention_file(self) -> Path:
        return self.path / RETENTION_FILE

    def retention(self) -> Retention:
        """The cap and the pins; the defaults while the folder has no retention file. RetentionError if
        the file cannot be read or is not what this module writes."""
        try:
            text = self.retention_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Retention()
        except (OSError, UnicodeDecodeError) as exc:
            raise RetentionError(f"cannot read {self.retention_file}: {_reason(exc)}") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise RetentionError(f"{self.retention_file} is not JSON: {exc}") from None
        cap = data.get("cap_bytes", DEFAULT_CAP) if isinstance(data, dict) else None
        pinned = data.get("pinned", []) if isinstance(data, dict) else None
        if (
            not isinstance(cap, int)
            or isinstance(cap, bool)
            or cap < 0
            or not isinstance(pinned, list)
            or not all(isinstance(name, str) for name in pinned)
        ):
            raise RetentionError(
                f'{self.retention_file} is not a retention file: expected {{"cap_bytes": BYTES, "pinned": [NAMES]}}'
            )
        return Retention(cap, frozenset(pinned))

    def set_cap(self, cap: int) -> None:
        """Keep at most ``cap`` bytes of recordings from now on (0: no cap); the pins stay as they are."""
        if cap < 0:
            raise ValueError("a cap is 0 (none) or a number of bytes")
        self._write(Retention(cap, self.retention().pinned))

    def set_pinned(self, capture: Path, pinned: bool) -> None:
        """Pin the recording ``capture`` of this folder (the cap never removes it), or unpin it."""
        if capture.parent.resolve() != self.path.resolve():
            raise RetentionError(f"{capture} is not in the captures folder {self.path}")
        current = self.retention()
        names = set(current.pinned)
        if pinned:
            names.add(capture.name)
        else:
            names.discard(capture.name)
        # Pins of recordings that are gone go with them.
        names = {name for name in names if (self.path / name).exists() or name == capture.name}
        self._write(Retention(current.cap, frozenset(names)))

    def captures(self, pinned: Collection[str] | None = None) -> list[StoredCapture]:
        """The folder's recordings, oldest first (by when each was last written); none if the folder does
        not exist. ``pinned``: the pinned names when already read."""
        if pinned is None:
            pinned = self.retention().pinned
        found: list[StoredCapture] = []
        try:
            paths = list(self.path.glob(self.pattern))
        except OSError:
            return []
        for path in paths:
            try:
                stat = path.stat()
            except OSError:
                continue  # gone meanwhile
            if path.is_file():
                found.append(StoredCapture(path, stat.st_size, stat.st_mtime, path.name in pinned))
        found.sort(key=lambda c: (c.mtime, c.path.name))
        return found

    def prune(self, keep: Collection[Path] = (), now: float | None = None) -> Pruned:
        """Remove the oldest recordings until the rest fit under the cap (see the module's rule); ``keep``:
        recordings that stay whatever their age (the one being recorded). RetentionError, with nothing
        removed, if the retention file is broken."""
        retention = self.retention()
        now = time.time() if now is None else now
        kept = {os.path.normcase(os.path.abspath(path)) for path in keep}
        captures = self.captures(retention.pinned)
        total = sum(c.size for c in captures)
        removed: list[Path] = []
        problems: list[str] = []
        freed = 0
        for capture in captures:
            if not retention.cap or total <= retention.cap:
                break
            if (
                capture.pinned
                or os.path.normcase(os.path.abspath(capture.path)) in kept
                or now - capture.mtime < RECENT_S
            ):
                continue
            try:
                capture.path.unlink()
            except FileNotFoundError:
                pass  # removed meanwhile: its bytes are gone all the same
            except OSError as exc:
                problems.append(f"cannot remove {capture.path}: {_reason(exc)}")
                continue
            removed.append(capture.path)
            total -= capture.size
            freed += capture.size
        return Pruned(tuple(removed), freed, total, retention.cap, tuple(problems))

    def _write(self, retention: Retention) -> None:
        data = {"cap_bytes": retention.cap, "pinned": sorted(retention.pinned)}
        temporary = self.retention_file.with_name(RETENTION_FILE + ".new")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            os.replace(temporary, self.retention_file)
        except OSError as exc:
            raise RetentionError(f"cannot write {self.retention_file}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
