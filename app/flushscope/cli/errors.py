"""How the commands say what went wrong: one line on stderr, ``flushscope: <message>``."""

from __future__ import annotations

import sys

from flushscope.cli.exit_codes import EXIT_USAGE


class UsageError(Exception):
    """Input a command cannot use, with the sentence to print; the dispatcher exits with ``EXIT_USAGE``."""


def print_error(message: str) -> None:
    """Print ``flushscope: message`` on stderr (errors and warnings alike)."""
    print(f"flushscope: {message}", file=sys.stderr)


def fail(message: str, code: int = EXIT_USAGE) -> int:
    """Print ``message`` as an error and return ``code``, for ``return fail(...)`` in a command."""
    print_error(message)
    return code
