"""How the commands say what went wrong: one line on stderr, ``flushscope: <message>``, escaped (a script's
list of bad lines, several)."""

from __future__ import annotations

import os
import sys

from flushscope.cli.exit_codes import EXIT_BROKEN_PIPE, EXIT_USAGE
from flushscope.core.shown_text import escaped


class UsageError(Exception):
    """Input a command cannot use, with the sentence to print; the dispatcher exits with ``EXIT_USAGE``.
    ``lines``: the message is several lines made to be read so (a script's bad lines, each with its text)."""

    def __init__(self, message: str, *, lines: bool = False) -> None:
        super().__init__(message)
        self.lines = lines


def print_error(message: str, *, lines: bool = False) -> None:
    """Print ``flushscope: message`` on stderr (errors and warnings alike), on one line. The message often
    carries a file's name or text: its control characters, line breaks included, are shown escaped, never
    obeyed. ``lines``: the message's line breaks are its own, and each line is escaped."""
    first, *rest = message.split("\n") if lines else [message]
    print("\n".join([f"flushscope: {escaped(first)}", *map(escaped, rest)]), file=sys.stderr)


def fail(message: str, code: int = EXIT_USAGE, *, lines: bool = False) -> int:
    """Print ``message`` as an error and return ``code``, for ``return fail(...)`` in a command."""
    print_error(message, lines=lines)
    return code


def output_closed() -> int:
    """Stop quietly once the reader of standard output has gone (``report | head``): what is still
    buffered goes nowhere instead of raising again at exit. Returns ``EXIT_BROKEN_PIPE``."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass  # not a real file (tests capture it): nothing will flush to a closed pipe at exit
    return EXIT_BROKEN_PIPE
