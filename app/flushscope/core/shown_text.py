"""Text from a file or a frame, made safe to show: it is shown, never obeyed.

A capture, a HAR file or a scenario is untrusted input, and so is every frame a service or an app sent. Their
text may hold characters a terminal acts on instead of showing: C0 controls (``ESC ] 0 ; title BEL`` retitles
the window, ``ESC [ 2 J`` clears it), DEL, C1 controls (``0x9b`` is a one-byte CSI on some terminals), the
bidirectional overrides and isolates (U+202A to U+202E, U+2066 to U+2069) that make a line read in another
order than it is written, the line and paragraph separators, and lone surrogates, which cannot be encoded
at all. Every such character is written as its Python escape (``\\x1b``, ``\\u202e``); everything else,
other languages and emoji included, is shown as it is.

This module is the one place that decides which characters are escaped: the command line's printing paths
(:mod:`flushscope.cli.output`), the report's text, the lint quotes and the dataset's tables all use it.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["escaped", "escaped_lines", "json_shown", "quoted"]

# DEL and C1, the separators, the bidirectional controls, lone surrogates.
_BEYOND_C0: Final = "\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE: Final = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
# The same but the newline: text of several lines whose line breaks are its own.
_UNSAFE_BUT_NEWLINE: Final = re.compile(f"[\x00-\x09\x0b-\x1f{_BEYOND_C0}]")
# JSON escapes C0 in its strings itself, and its own line breaks and indents are structure.
_UNSAFE_IN_JSON: Final = re.compile(f"[{_BEYOND_C0}]")
_SHORT: Final = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    short = _SHORT.get(ch)
    if short is not None:
        return short
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escaped(text: str) -> str:
    """``text`` on one line, safe for a terminal: every unsafe character (the module's docstring lists
    them), the line breaks included, written as its escape."""
    return text if _UNSAFE.search(text) is None else _UNSAFE.sub(_escape, text)


def escaped_lines(text: str) -> str:
    """As :func:`escaped`, but the newlines stay: for text of several lines made by flushscope, in which
    untrusted pieces may stand."""
    if _UNSAFE_BUT_NEWLINE.search(text) is None:
        return text
    return _UNSAFE_BUT_NEWLINE.sub(_escape, text)


def quoted(text: str, width: int | None = None) -> str:
    """``text`` in quotes, escaped as :func:`repr` escapes it (it escapes every unsafe character too),
    cut to ``width`` characters with an ellipsis."""
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return repr(text)


def json_shown(json_text: str) -> str:
    """JSON text (what ``json.dumps(..., ensure_ascii=False)`` writes) safe for a terminal and still the same
    JSON: the unsafe characters that JSON lets stand raw in a string (DEL, C1, the bidirectional controls,
    the separators, lone surrogates) written as ``\\uXXXX`` escapes, which read back as the same text."""
    if _UNSAFE_IN_JSON.search(json_text) is None:
        return json_text
    return _UNSAFE_IN_JSON.sub(_json_escape, json_text)
