"""The short texts the window and its parts share: how long a message stays, and small wording helpers."""

from __future__ import annotations

from typing import Final

from flushscope.core.model.records import Context

#: How long a message from an action stays in the status bar.
MESSAGE_MS: Final = 8000


#: Why nothing can be played when the window has no player at all.
NO_PLAYER: Final = "audio playback is not available"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def quote(text: str, limit: int = 48) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"“{shown}”"


def context_words(ctx: Context) -> str:
    """A context in full, for a tooltip: its number, its name (a script's) if it has one, and its id."""
    named = f"{ctx.title} · " if ctx.name is not None else ""
    return f"context #{ctx.number} {named}{ctx.context_id}"
