"""``flushscope proxy``: record an app's own TTS traffic by standing between it and Cartesia (or the emulator)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flushscope.cli.emulator_switches import add_emulator_switches, emulator_config
from flushscope.cli.errors import UsageError
from flushscope.cli.exit_codes import EXIT_OK
from flushscope.cli.subcommand import Subcommand

if TYPE_CHECKING:
    from flushscope.core.store.capture_writer import CaptureWriter
    from flushscope.emulator.config import EmulatorConfig
    from flushscope.net.proxy_upstream import Upstream

#: :data:`flushscope.net.proxy.DEFAULT_LISTEN_TEXT`, written out: `--help` does not load websockets.
DEFAULT_LISTEN = "127.0.0.1:8765"


def add_place_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup, note: str = "") -> None:
    """``--listen`` and ``--upstream``: where apps connect and where the proxy forwards (``note`` starts
    their help, for a command line where they apply only with another option)."""
    parser.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"{note}where apps connect (default {DEFAULT_LISTEN}; port 0 = a free one)",
    )
    parser.add_argument(
        "--upstream",
        default="cartesia",
        metavar="URL|embedded|cartesia",
        help=f"{note}where to forward: Cartesia (default), the embedded emulator, or a ws:// or wss:// URL",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Where to listen, where to forward, the capture, the key, and the emulator's switches."""
    add_place_arguments(parser)
    parser.add_argument("--capture", help="capture file to write (default: a timestamped file here)")
    parser.add_argument(
        "--api-key",
        help="send this key upstream instead of whatever key each app sends; without it, $CARTESIA_API_KEY "
        "stands in only for placeholder keys (empty, x, xxx, placeholder, dummy, test, fake, none, null, "
        "changeme); never written to the capture",
    )
    parser.add_argument(
        "--deflate-level",
        type=int,
        choices=range(10),
        default=0,
        metavar="0-9",
        help="compression level of frames sent to apps that negotiate permessage-deflate (default 0: "
        "stored uncompressed, the cheapest on a loopback)",
    )
    parser.add_argument(
        "--no-upstream-deflate",
        action="store_true",
        help="do not offer permessage-deflate upstream (for an upstream on this machine)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log websockets' own events too")
    add_emulator_switches(parser)


@dataclass(frozen=True)
class ProxyRequest:
    """The checked command line: where to listen, the upstream (None: the embedded emulator), the keys."""

    listen: tuple[str, int]
    upstream: Upstream | None
    emulator: EmulatorConfig
    capture: Path
    api_key: str | None
    fallback_key: str | None
    deflate_level: int = 0
    upstream_deflate: bool = True


def check_request(args: argparse.Namespace) -> ProxyRequest:
    """The command line, checked before anything starts; ``UsageError`` in words otherwise."""
    from flushscope.net.proxy import ListenError, parse_listen
    from flushscope.net.proxy_upstream import Upstream, UpstreamError

    emulator = emulator_config(args)
    upstream: Upstream | None
    choice = args.upstream.strip()
    if choice == "embedded":
        upstream = None
    else:
        parser = argparse.ArgumentParser(add_help=False)
        add_emulator_switches(parser)
        if emulator != emulator_config(parser.parse_args([])):
            raise UsageError("the emulator's switches apply only to --upstream embedded")
        try:
            upstream = Upstream.cartesia() if choice == "cartesia" else Upstream.at(choice)
        except UpstreamError as exc:
            raise UsageError(f"--upstream: {exc}") from None
    capture = Path(args.capture or datetime.now().strftime("flushscope-proxy-%Y%m%d-%H%M%S.fscap.jsonl"))
    try:
        listen = parse_listen(args.listen)
    except ListenError as exc:
        raise UsageError(f"--listen {args.listen!r}: {exc}") from None
    return ProxyRequest(
        listen,
        upstream,
        emulator,
        capture,
        args.api_key or None,
        os.environ.get("CARTESIA_API_KEY") or None,
        args.deflate_level,
        not args.no_upstream_deflate,
    )


def proxy_command(args: argparse.Namespace) -> int:
    """Proxy until SIGINT or SIGTERM; a bad argument, a capture that exists or a port taken raise
    ``UsageError`` (exit 2)."""
    request = check_request(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if not args.verbose:
        logging.getLogger("websockets").setLevel(logging.WARNING)
    asyncio.run(_proxy(request))
    print(f"capture: {request.capture}", file=sys.stderr)
    return EXIT_OK


async def _proxy(request: ProxyRequest) -> None:
    from flushscope.core.model.recorder import Recorder
    from flushscope.core.model.session import Session
    from flushscope.net.proxy import ProxyServer
    from flushscope.net.proxy_relay import ProxyState
    from flushscope.net.proxy_upstream import Upstream

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    emulator = None
    if request.upstream is None:
        from flushscope.emulator.server import EmulatorServer

        emulator = await EmulatorServer(request.emulator).start()
        upstream = Upstream.at(emulator.url, "embedded emulator")
    else:
        upstream = request.upstream
    try:
        recorder = Recorder(Session(), _open_capture(request, upstream.url))
        proxy = ProxyServer(
            recorder,
            upstream,
            request.listen,
            request.api_key,
            fallback_api_key=request.fallback_key,
            app_deflate_level=request.deflate_level,
            upstream_deflate=request.upstream_deflate,
        )
        try:
            try:
                url = await proxy.start()
            except OSError as exc:
                # Nothing was recorded: the capture holds its header only.
                recorder.close()
                request.capture.unlink(missing_ok=True)
                host, port = request.listen
                raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
            print(url, flush=True)
            await stop.wait()
            logging.getLogger("flushscope.proxy").info("stopping")
        finally:
            await proxy.close()
            recorder.close()
        refused = sum(1 for c in proxy.connections if c.state is ProxyState.REFUSED)
        print(f"{len(proxy.connections)} connections recorded, {refused} refused", file=sys.stderr)
    finally:
        if emulator is not None:
            await emulator.close()


def _open_capture(request: ProxyRequest, target: str) -> CaptureWriter:
    from flushscope.core.store.capture_writer import CaptureWriter

    secrets = [k for k in (request.api_key, request.fallback_key) if k]
    try:
        return CaptureWriter(request.capture, target, secrets=secrets, note="recorded by flushscope proxy")
    except FileExistsError:
        raise UsageError(f"{request.capture} already exists; choose another --capture") from None
    except OSError as exc:
        raise UsageError(f"cannot write the capture {request.capture}: {exc.strerror or exc}") from None


COMMAND = Subcommand(
    name="proxy",
    help="record an app's TTS traffic as a proxy in front of Cartesia or the emulator",
    description="Listen for apps (point them at the printed ws://HOST:PORT instead of Cartesia), forward each "
    "connection to the upstream unchanged, and record every frame to a capture. Prints ws://HOST:PORT on "
    "the first line once it accepts connections; stops on Ctrl+C or SIGTERM. Exit 0 when stopped, 2 for "
    "unusable arguments, a capture that exists or a port already taken.",
    add_arguments=add_arguments,
    run=proxy_command,
)
