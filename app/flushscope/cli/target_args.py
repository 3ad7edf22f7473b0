"""The target a headless run talks to: the embedded emulator by default, or a URL with its credentials."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from flushscope.cli.errors import UsageError

if TYPE_CHECKING:
    from flushscope.net.client import Target


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """``--url``, ``--api-key``, ``--auth`` and ``--version-header``."""
    parser.add_argument("--url", help="target URL (ws://, wss://); default: the embedded emulator")
    parser.add_argument(
        "--api-key", help="API key (default: $CARTESIA_API_KEY); never written to the capture"
    )
    parser.add_argument(
        "--auth",
        choices=("x-api-key", "bearer", "query"),
        default="x-api-key",
        help="where the API key travels: the X-API-Key header (default, as Pipecat and LiveKit send it), "
        "Authorization: Bearer (the official SDKs) or the api_key query parameter (older clients, "
        "browsers)",
    )
    parser.add_argument(
        "--version-header",
        dest="api_version",
        metavar="VERSION",
        help="the Cartesia-Version header to send (default: the one the current official Python SDK sends)",
    )


def target_from(args: argparse.Namespace) -> Target | None:
    """The URL target asked for, or None for the embedded emulator (when ``--url`` is not given at all: an
    empty one is an error). Raises ``UsageError`` for a URL that cannot name a WebSocket server."""
    if args.url is None:
        return None
    from flushscope.net.client import DEFAULT_VERSION, AuthMode, Target
    from flushscope.net.ws_url import WebSocketUrlError, check_ws_url

    try:
        url = check_ws_url(args.url)
    except WebSocketUrlError as exc:
        raise UsageError(f"--url: {exc}") from None
    return Target(
        url,
        args.api_key or os.environ.get("CARTESIA_API_KEY"),
        AuthMode(args.auth),
        args.api_version or DEFAULT_VERSION,
    )
