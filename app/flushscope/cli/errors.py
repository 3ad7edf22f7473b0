"""How the commands say what went wrong: one line on stderr, ``flushscope: <message>``, escaped."""

from __future__ import annotations

import os
import sys

from flushscope.cli.exit_codes import EXIT_BROKEN_PIPE, EXIT_USAGE
from flushscope.core.shown_text import escaped_lines


class UsageError(Exception):
    """Input a command cannot use, with the sentence to print; the dispatcher exits with ``EXIT_USAGE``."""


def print_error(message: str) -> None:
    """Print ``flushscope: message`` on stderr (errors and warnings alike). The message often carries a
    file's name or text: its control characters are shown escaped, never obeyed; only the line breaks the
    message was made with (a script's list of bad lines) stay."""
    print(f"flushscope: {escaped_lines(message)}", file=sys.stderr)


def fail(message: str, code: int = EXIT_USAGE) -> int:
    """Print ``message`` as an error and return ``code``, for ``return fail(...)`` in a command."""
    print_error(message)
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
