"""``flushscope serve``: the emulator on its own, as a local Cartesia stand-in for other programs' tests."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

from flushscope.cli.emulator_switches import add_emulator_switches, emulator_config
from flushscope.cli.errors import UsageError, fail, print_error
from flushscope.cli.exit_codes import EXIT_OK
from flushscope.cli.subcommand import Subcommand

if TYPE_CHECKING:
    from flushscope.emulator.config import EmulatorConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Where to listen, the key to require, and the emulator's switches."""
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1: this machine only; another needs --allow-remote)",
    )
    parser.add_argument("--port", type=port_number, default=0, help="port (0 = a free one)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="let --host be an address other machines can reach (0.0.0.0, ::, a LAN address, a host name): "
        "anyone who can reach the port can use the emulator",
    )
    parser.add_argument("--require-key", metavar="KEY", help="accept only this API key (HTTP 401 otherwise)")
    add_emulator_switches(parser)


def port_number(text: str) -> int:
    """A TCP port, 0 to 65535, for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is from 0 to 65535, not {value}")
    return value


def check_remote(host: str, allow_remote: bool, option: str) -> bool:
    """Whether a server on ``host`` can be reached from other machines; ``UsageError`` when it can and
    ``--allow-remote`` was not given (``option`` names the address, as the user wrote it)."""
    from flushscope.net.reach import REMOTE_RISK, is_loopback_host

    if is_loopback_host(host):
        return False
    if not allow_remote:
        raise UsageError(
            f"{option} can be reached from other machines, and {REMOTE_RISK}; "
            "add --allow-remote if that is what you want (or use 127.0.0.1)"
        )
    return True


def serve_command(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; exit 2 if the address cannot be bound or reaches other machines
    without ``--allow-remote``."""
    remote = check_remote(args.host, args.allow_remote, f"--host {args.host}")
    config = emulator_config(args, args.host, args.port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        asyncio.run(_serve(config, remote))
    except OSError as exc:
        return fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    return EXIT_OK


async def _serve(config: EmulatorConfig, remote: bool) -> None:
    from flushscope.emulator.server import EmulatorServer
    from flushscope.net.reach import remote_warning

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with EmulatorServer(config) as server:
        for url in server.urls:
            print(url, flush=True)
        if remote:
            print_error("warning: " + remote_warning(f"{config.host}:{server.port}", server.urls))
        await stop.wait()
        logging.getLogger("flushscope.emulator").info("stopping")


COMMAND = Subcommand(
    name="serve",
    help="run the Cartesia-compatible emulator alone",
    description="Run the emulator alone. Prints ws://HOST:PORT on the first line once it accepts "
    "connections; clients connect to ws://HOST:PORT/tts/websocket. Listening on every interface (allowed "
    "explicitly), it prints this machine's URL first and then the one other machines use. The fault "
    "switches below make it misbehave on purpose; the README lists them.",
    add_arguments=add_arguments,
    run=serve_command,
)
