"""``flushscope serve``: the emulator on its own, as a local Cartesia stand-in for other programs' tests."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

from flushscope.cli.emulator_switches import add_emulator_switches, emulator_config
from flushscope.cli.errors import fail
from flushscope.cli.exit_codes import EXIT_OK
from flushscope.cli.subcommand import Subcommand

if TYPE_CHECKING:
    from flushscope.emulator.config import EmulatorConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Where to listen, the key to require, and the emulator's switches."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (0 = a free one)")
    parser.add_argument("--require-key", metavar="KEY", help="accept only this API key (HTTP 401 otherwise)")
    add_emulator_switches(parser)


def serve_command(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; exit 2 if the address cannot be bound."""
    config = emulator_config(args, args.host, args.port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        asyncio.run(_serve(config))
    except OSError as exc:
        return fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    return EXIT_OK


async def _serve(config: EmulatorConfig) -> None:
    from flushscope.emulator.server import EmulatorServer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with EmulatorServer(config) as server:
        print(server.url, flush=True)
        await stop.wait()
        logging.getLogger("flushscope.emulator").info("stopping")


COMMAND = Subcommand(
    name="serve",
    help="run the Cartesia-compatible emulator alone",
    description="Run the emulator alone. Prints ws://HOST:PORT on the first line once it accepts "
    "connections; clients connect to ws://HOST:PORT/tts/websocket.",
    add_arguments=add_arguments,
    run=serve_command,
)
