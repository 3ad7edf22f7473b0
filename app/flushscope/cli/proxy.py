"""``flushscope proxy``: record an app's own TTS traffic by standing between it and Cartesia (or the emulator),
into one capture (``--capture FILE``) or, as a sidecar left running beside an agent, one capture per app
connection (``--capture-dir DIR``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flushscope.cli.emulator_switches import add_emulator_switches, emulator_config
from flushscope.cli.errors import UsageError, print_error
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_OK
from flushscope.cli.serve import check_remote
from flushscope.cli.subcommand import Subcommand

if TYPE_CHECKING:
    from flushscope.core.model.recorder import Recorder
    from flushscope.core.store.capture_writer import CaptureWriter
    from flushscope.emulator.config import EmulatorConfig
    from flushscope.net.proxy import ProxyServer
    from flushscope.net.proxy_capture_dir import CaptureDirectory
    from flushscope.net.proxy_upstream import Upstream

#: :data:`flushscope.net.proxy.DEFAULT_LISTEN_TEXT`, written out: `--help` does not load websockets.
DEFAULT_LISTEN = "127.0.0.1:8765"
#: :data:`flushscope.net.proxy.DEFAULT_MAX_FRAME` and ``DEFAULT_MAX_UPSTREAM_FRAME``, likewise.
DEFAULT_MAX_FRAME = 1 << 20
DEFAULT_MAX_UPSTREAM_FRAME = 4 << 20
_log = logging.getLogger("flushscope.proxy")

#: How long a stopping proxy lets its connections end on their own before it closes them.
DEFAULT_DRAIN_SECONDS = 5.0


def add_place_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup, note: str = "") -> None:
    """``--listen``, ``--allow-remote`` and ``--upstream``: where apps connect and where the proxy forwards
    (``note`` starts their help, for a command line where they apply only with another option)."""
    parser.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"{note}where apps connect (default {DEFAULT_LISTEN}: this machine only; port 0 = a free one)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help=f"{note}let --listen be an address other machines can reach (0.0.0.0, ::, a LAN address, a "
        "host name): anyone who can reach the port can use the proxy",
    )
    parser.add_argument(
        "--upstream",
        default="cartesia",
        metavar="URL|embedded|cartesia",
        help=f"{note}where to forward: Cartesia (default), the embedded emulator, or a ws:// or wss:// URL",
    )


def _frame_size(text: str) -> int:
    """A frame limit in bytes, for argparse: a whole number of at least 1024."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of bytes: {text!r}") from None
    if value < 1024:
        raise argparse.ArgumentTypeError(f"at least 1024 bytes, not {value}")
    return value


def _amount(text: str, *, zero: bool) -> float:
    """A finite number above zero (or ``zero`` too), for argparse."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value >= 0 if zero else value > 0) or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be {'0 or more' if zero else 'above 0'}, not {text}")
    return value


def _positive(text: str) -> float:
    """A number above zero, for argparse."""
    return _amount(text, zero=False)


def _seconds(text: str) -> float:
    """A number of seconds, 0 or more, for argparse."""
    return _amount(text, zero=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Where to listen, where to forward, the capture, the key, and the emulator's switches."""
    add_place_arguments(parser)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--capture", help="capture file to write (default: a timestamped file here)")
    where.add_argument(
        "--capture-dir",
        metavar="DIR",
        help="write one capture per app connection into DIR (created if missing): NAME.jsonl.part while "
        "it is open, NAME.jsonl once it has ended",
    )
    parser.add_argument(
        "--rotate-mb",
        type=_positive,
        metavar="N",
        help="with --capture-dir: cut a connection's capture into parts of about N MB (NAME-part2.jsonl, ...)",
    )
    parser.add_argument(
        "--rotate-minutes",
        type=_positive,
        metavar="M",
        help="with --capture-dir: cut a connection's capture into parts of about M minutes",
    )
    parser.add_argument(
        "--drain-seconds",
        type=_seconds,
        default=DEFAULT_DRAIN_SECONDS,
        metavar="S",
        help=f"on SIGTERM or Ctrl+C, let open connections end on their own for up to S seconds (default "
        f"{DEFAULT_DRAIN_SECONDS:g}) before closing them with 1001; a second signal closes them at once",
    )
    parser.add_argument(
        "--api-key",
        help="send this key upstream instead of whatever key each app sends; without it, $CARTESIA_API_KEY "
        "stands in only for placeholder keys (empty, x, xxx, placeholder, dummy, test, fake, none, null, "
        "changeme); never written to the capture",
    )
    parser.add_argument(
        "--share-key",
        action="store_true",
        help="with --allow-remote: put your key (--api-key, $CARTESIA_API_KEY) on connections from other "
        "machines too, who then spend your credits; without it they go upstream with their own key or none",
    )
    parser.add_argument(
        "--max-frame",
        type=_frame_size,
        default=DEFAULT_MAX_FRAME,
        metavar="BYTES",
        help=f"the largest frame taken from an app (default {DEFAULT_MAX_FRAME}, 1 MiB); a larger one "
        "closes that app's connection with 1009 and is not recorded",
    )
    parser.add_argument(
        "--max-upstream-frame",
        type=_frame_size,
        default=DEFAULT_MAX_UPSTREAM_FRAME,
        metavar="BYTES",
        help=f"the largest frame taken from the upstream (default {DEFAULT_MAX_UPSTREAM_FRAME}, 4 MiB)",
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
    #: The one capture file, or None when each connection gets one in :attr:`capture_dir`.
    capture: Path | None
    api_key: str | None
    fallback_key: str | None
    deflate_level: int = 0
    upstream_deflate: bool = True
    #: The listen address reaches other machines (``--allow-remote`` was given for it).
    remote: bool = False
    share_key: bool = False
    max_frame: int = DEFAULT_MAX_FRAME
    max_upstream_frame: int = DEFAULT_MAX_UPSTREAM_FRAME
    capture_dir: Path | None = None
    #: With :attr:`capture_dir`: a part's largest size in bytes, and its longest age in seconds.
    rotate_bytes: int | None = None
    rotate_seconds: float | None = None
    drain_seconds: float = DEFAULT_DRAIN_SECONDS


@dataclass(frozen=True)
class Place:
    """Where the proxy listens, whether other machines can reach it, and where it forwards (None: the
    embedded emulator)."""

    listen: tuple[str, int]
    remote: bool
    upstream: Upstream | None


def check_place(args: argparse.Namespace) -> Place:
    """The arguments of :func:`add_place_arguments`, checked; ``UsageError`` in words otherwise: a listen
    address that is not ``HOST:PORT``, one other machines can reach without ``--allow-remote``, an upstream
    that is not ``embedded``, ``cartesia`` or a WebSocket URL."""
    from flushscope.net.proxy import ListenError, parse_listen
    from flushscope.net.proxy_upstream import Upstream, UpstreamError

    try:
        listen = parse_listen(args.listen)
    except ListenError as exc:
        raise UsageError(f"--listen {args.listen!r}: {exc}") from None
    remote = check_remote(listen[0], args.allow_remote, f"--listen {args.listen}")
    choice = args.upstream.strip()
    if choice == "embedded":
        return Place(listen, remote, None)
    try:
        upstream = Upstream.cartesia() if choice == "cartesia" else Upstream.at(choice)
    except UpstreamError as exc:
        raise UsageError(f"--upstream: {exc}") from None
    return Place(listen, remote, upstream)


def check_request(args: argparse.Namespace) -> ProxyRequest:
    """The command line, checked before anything starts; ``UsageError`` in words otherwise."""
    place = check_place(args)
    emulator = emulator_config(args)
    if place.upstream is not None:
        parser = argparse.ArgumentParser(add_help=False)
        add_emulator_switches(parser)
        if emulator != emulator_config(parser.parse_args([])):
            raise UsageError("the emulator's switches apply only to --upstream embedded")
    if args.share_key and not place.remote:
        raise UsageError("--share-key applies only with --allow-remote: on 127.0.0.1 every app is local")
    capture_dir = _capture_dir(args.capture_dir) if args.capture_dir is not None else None
    if capture_dir is None and (args.rotate_mb is not None or args.rotate_minutes is not None):
        raise UsageError("--rotate-mb and --rotate-minutes apply only with --capture-dir")
    capture = None
    if capture_dir is None:
        capture = Path(args.capture or datetime.now().strftime("flushscope-proxy-%Y%m%d-%H%M%S.fscap.jsonl"))
    return ProxyRequest(
        place.listen,
        place.upstream,
        emulator,
        capture,
        args.api_key or None,
        os.environ.get("CARTESIA_API_KEY") or None,
        args.deflate_level,
        not args.no_upstream_deflate,
        remote=place.remote,
        share_key=args.share_key,
        max_frame=args.max_frame,
        max_upstream_frame=args.max_upstream_frame,
        capture_dir=capture_dir,
        rotate_bytes=None if args.rotate_mb is None else max(1, round(args.rotate_mb * 1_000_000)),
        rotate_seconds=None if args.rotate_minutes is None else args.rotate_minutes * 60.0,
        drain_seconds=args.drain_seconds,
    )


def _capture_dir(text: str) -> Path:
    """The directory of ``--capture-dir``, created if missing; ``UsageError`` when it cannot take files."""
    directory = Path(text)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--capture-dir {text}: cannot create it: {exc.strerror or exc}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UsageError(f"--capture-dir {text}: this user cannot write into it")
    return directory


def proxy_command(args: argparse.Namespace) -> int:
    """Proxy until SIGINT or SIGTERM; a bad argument, a capture that exists or a port taken raise
    ``UsageError`` (exit 2). Exit 1 when a capture could not be written whole."""
    request = check_request(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if not args.verbose:
        logging.getLogger("websockets").setLevel(logging.WARNING)
    complete = asyncio.run(_proxy(request))
    if request.capture is not None:
        print(f"capture: {request.capture}", file=sys.stderr)
    return EXIT_OK if complete else EXIT_FAILED


async def _proxy(request: ProxyRequest) -> bool:
    """Run the proxy until a signal; True when every capture was written whole."""
    from flushscope.net.proxy_upstream import Upstream

    stopping = _Stopping()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.signalled)
    emulator = None
    try:
        if request.upstream is None:
            from flushscope.emulator.server import EmulatorServer

            emulator = await EmulatorServer(request.emulator).start()
            upstream = Upstream.at(emulator.url, "embedded emulator")
        else:
            upstream = request.upstream
        if request.capture_dir is not None:
            return await _sidecar(request, upstream, request.capture_dir, stopping)
        return await _single_capture(request, upstream, stopping)
    finally:
        if emulator is not None:
            await emulator.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


class _Stopping:
    """SIGINT and SIGTERM: the first stops the proxy, letting connections end on their own for the drain
    time; another closes them at once."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self.proxy: ProxyServer | None = None

    def signalled(self) -> None:
        if self.requested.is_set() and self.proxy is not None:
            _log.info("closing the open connections now")
            self.proxy.hurry()
        self.requested.set()


async def _single_capture(request: ProxyRequest, upstream: Upstream, stopping: _Stopping) -> bool:
    from flushscope.core.model.recorder import Recorder
    from flushscope.core.model.session import Session

    assert request.capture is not None
    recorder = Recorder(Session(), _open_capture(request, upstream.url))
    try:
        proxy = _proxy_server(request, upstream, recorder)
        await _listen(proxy, request, on_failure=lambda: _discard(recorder, request.capture))
        _log.info(
            "proxy on %s forwarding to %s, recording to %s", proxy.url, upstream.display_url, request.capture
        )
        await _serve_until_stopped(proxy, request, stopping)
    finally:
        recorder.close()
    _tally(proxy)
    return recorder.capture_error is None


async def _sidecar(request: ProxyRequest, upstream: Upstream, directory: Path, stopping: _Stopping) -> bool:
    from flushscope.core.store.capture_dir import unfinished_captures
    from flushscope.net.proxy_capture_dir import CaptureDirectory, Rotation

    rotation = Rotation(request.rotate_bytes, request.rotate_seconds)
    recording = CaptureDirectory(directory, upstream.url, secrets=_secrets(request), rotation=rotation)
    try:
        proxy = _proxy_server(request, upstream, recording)
        await _listen(proxy, request)
        _log.info(
            "proxy on %s forwarding to %s, recording each connection to %s%s",
            proxy.url,
            upstream.display_url,
            directory,
            _rotation_words(request),
        )
        leftover = unfinished_captures(directory)
        if leftover:
            print_error(
                f"warning: {directory} holds {len(leftover)} captures still named *.part (another proxy "
                "writing there, or one that did not stop cleanly); they are not read as finished captures"
            )
        await _serve_until_stopped(proxy, request, stopping)
    finally:
        recording.close()
    _tally(proxy, recording)
    return not recording.problems


def _proxy_server(
    request: ProxyRequest, upstream: Upstream, recording: Recorder | CaptureDirectory
) -> ProxyServer:
    from flushscope.net.proxy import ProxyServer

    return ProxyServer(
        recording,
        upstream,
        request.listen,
        request.api_key,
        fallback_api_key=request.fallback_key,
        app_deflate_level=request.deflate_level,
        upstream_deflate=request.upstream_deflate,
        share_key=request.share_key,
        max_frame=request.max_frame,
        max_upstream_frame=request.max_upstream_frame,
    )


async def _listen(
    proxy: ProxyServer, request: ProxyRequest, on_failure: Callable[[], None] = lambda: None
) -> None:
    """Start listening and print where apps connect (and the warning for other machines)."""
    from flushscope.net.reach import remote_warning

    try:
        await proxy.start()
    except OSError as exc:
        on_failure()
        host, port = request.listen
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    for each in proxy.urls:
        print(each, flush=True)
    if request.remote:
        host, _ = request.listen
        has_key = bool(request.api_key or request.fallback_key)
        words = remote_warning(
            f"{host}:{proxy.port}", proxy.urls, key_shared=request.share_key if has_key else None
        )
        print_error(f"warning: {words}")


async def _serve_until_stopped(proxy: ProxyServer, request: ProxyRequest, stopping: _Stopping) -> None:
    """Proxy until SIGINT or SIGTERM, then stop: let connections end on their own for the drain time (a
    second signal cuts it short), close the rest."""
    stopping.proxy = proxy
    try:
        await stopping.requested.wait()
    finally:
        await proxy.stop_accepting()
        open_now = len(proxy.open_connections)
        drain = request.drain_seconds
        if open_now and drain > 0:
            _log.info(
                "stopping: waiting up to %g s for %d open connections to end (signal again to close them now)",
                drain,
                open_now,
            )
        else:
            _log.info("stopping")
        await proxy.close(drain)


def _tally(proxy: ProxyServer, recording: CaptureDirectory | None = None) -> None:
    from flushscope.net.proxy_relay import ProxyState

    refused = sum(1 for c in proxy.connections if c.state is ProxyState.REFUSED)
    line = f"{len(proxy.connections)} connections recorded, {refused} refused"
    if recording is not None:
        line += f"; {len(recording.finished)} captures finished in {recording.directory}"
        if recording.problems:
            line += f"; {len(recording.problems)} problems with captures (logged above)"
    print(line, file=sys.stderr)


def _rotation_words(request: ProxyRequest) -> str:
    limits = []
    if request.rotate_bytes is not None:
        limits.append(f"{request.rotate_bytes / 1_000_000:g} MB")
    if request.rotate_seconds is not None:
        limits.append(f"{request.rotate_seconds / 60:g} minutes")
    return f" (cut into parts of {' or '.join(limits)})" if limits else ""


def _secrets(request: ProxyRequest) -> list[str]:
    return [k for k in (request.api_key, request.fallback_key) if k]


def _discard(recorder: Recorder, capture: Path | None) -> None:
    """Nothing was recorded: the capture holds its header only."""
    recorder.close()
    if capture is not None:
        capture.unlink(missing_ok=True)


def _open_capture(request: ProxyRequest, target: str) -> CaptureWriter:
    from flushscope.core.store.capture_writer import CaptureWriter

    assert request.capture is not None
    try:
        return CaptureWriter(
            request.capture, target, secrets=_secrets(request), note="recorded by flushscope proxy"
        )
    except FileExistsError:
        raise UsageError(f"{request.capture} already exists; choose another --capture") from None
    except OSError as exc:
        raise UsageError(f"cannot write the capture {request.capture}: {exc.strerror or exc}") from None


COMMAND = Subcommand(
    name="proxy",
    help="record an app's TTS traffic as a proxy in front of Cartesia or the emulator",
    description="Listen for apps (point them at the printed ws://HOST:PORT instead of Cartesia), forward each "
    "connection to the upstream unchanged, and record every frame to a capture, or with --capture-dir to "
    "one capture per connection. Prints ws://HOST:PORT on the first line once it accepts connections "
    "(listening on every interface, a second line gives the URL other machines use), and logs one line per "
    "connection when it ends. Stops on Ctrl+C or SIGTERM: new apps are refused, open connections get "
    "--drain-seconds to end on their own and are then closed with 1001, every capture is finished. Exit 0 "
    "when stopped, 1 when a capture could not be written whole, 2 for unusable arguments (an address other "
    "machines can reach, unless allowed), a capture that exists or a port already taken.",
    add_arguments=add_arguments,
    run=proxy_command,
)
