"""The target a headless run talks to: the embedded emulator by default, or a URL with its credentials."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

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
    """The URL target asked for, or None for the embedded emulator."""
    if not args.url:
        return None
    from flushscope.net.client import DEFAULT_VERSION, AuthMode, Target

    return Target(
        args.url,
        args.api_key or os.environ.get("CARTESIA_API_KEY"),
        AuthMode(args.auth),
        args.api_version or DEFAULT_VERSION,
    )
