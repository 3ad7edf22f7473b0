"""The exit codes of every command and of the window, so that scripts can tell the outcomes apart."""

from __future__ import annotations

from typing import Final

#: Done, and nothing to report.
EXIT_OK: Final = 0
#: Findings or a failed run: anomalies in a capture, contexts that failed or never finished, a window that
#: could not connect or save its screenshot.
EXIT_FAILED: Final = 1
#: Unusable input: a bad command line, script, capture, context, device or URL, a port already taken.
EXIT_USAGE: Final = 2
#: Stopped by Ctrl+C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED: Final = 130
#: Whoever read the output went away (``report | head``): stopped quietly, as a Unix tool stopped by SIGPIPE
#: is reported by shells (128 + 13), so that ``set -o pipefail`` still tells a cut-off report apart.
EXIT_BROKEN_PIPE: Final = 141
