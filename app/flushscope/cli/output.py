"""How the commands print what they found: text that may hold pieces of a file or a frame is escaped
(:mod:`flushscope.core.shown_text`), JSON stays JSON."""

from __future__ import annotations

import json
import sys
from typing import Any

from flushscope.core.shown_text import escaped, escaped_lines, json_shown


def print_line(text: str) -> None:
    """Print ``text`` as one line on stdout, every character a terminal would obey (a line break too)
    escaped."""
    print(escaped(text))


def print_text(text: str) -> None:
    """Print ``text``, lines that flushscope made, on stdout: its line breaks stay, every other character a
    terminal would obey is escaped."""
    print(escaped_lines(text))


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout: other languages as they are, the characters a terminal
    would obey as ``\\uXXXX`` escapes."""
    print(json_shown(json.dumps(value, indent=2, ensure_ascii=False)))


def print_note(text: str) -> None:
    """Print a line of information (not an error) on stderr, escaped as :func:`print_line` escapes."""
    print(escaped(text), file=sys.stderr)
