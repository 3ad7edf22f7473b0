"""The one entry point: the window by default, subcommands for the headless tools.

Each subcommand is a module of this package holding a :class:`Subcommand` as ``COMMAND``, registered by
its name in :data:`COMMANDS`. Modules import what they run only when they run, so that ``flushscope
serve`` never loads Qt; the window's arguments are parsed and checked here too, before Qt is started.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Iterable, Sequence
from typing import Final

from flushscope import __version__
from flushscope.cli.errors import UsageError, fail, output_closed
from flushscope.cli.exit_codes import EXIT_OK
from flushscope.cli.subcommand import Subcommand

#: The subcommands, in the order ``--help`` lists them; each is the module of that name in this package.
#: Anything else on the command line is for the window.
COMMANDS: Final = (
    "serve",
    "proxy",
    "run",
    "report",
    "export",
    "play",
    "convert",
    "compare",
    "diff",
    "dataset",
)


def subcommand(name: str) -> Subcommand:
    """The ``COMMAND`` of the subcommand module ``name``."""
    module = importlib.import_module(f"{__name__}.{name}")
    command = getattr(module, "COMMAND", None)
    if not isinstance(command, Subcommand) or command.name != name:
        raise TypeError(f"{module.__name__}.COMMAND must be the Subcommand named {name!r}")
    return command


def build_parser(commands: Iterable[Subcommand] | None = None) -> argparse.ArgumentParser:
    """The parser of ``flushscope COMMAND ...``: the registered subcommands unless ``commands`` is given."""
    parser = argparse.ArgumentParser(
        prog="flushscope",
        description="Inspect Cartesia TTS WebSocket contexts, manual flushes and flush_id attribution.",
    )
    parser.add_argument("--version", action="version", version=f"flushscope {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands if commands is not None else map(subcommand, COMMANDS):
        command.add_to(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, commands: Sequence[Subcommand] | None = None) -> int:
    """Run ``flushscope`` with ``argv`` (default: the process's arguments) and return the exit code.

    ``commands`` replaces the registered subcommands (for tests). A ``UsageError`` from a subcommand or
    from the window's checks is printed and exits 2; argparse exits 2 on its own for a bad command line.
    Output to a pipe whose reader went away ends the command quietly with ``EXIT_BROKEN_PIPE``."""
    _never_unencodable()
    try:
        result = _dispatch(list(sys.argv[1:] if argv is None else argv), commands)
        # A closed pipe shows here, not in the interpreter's last flush (a traceback after the exit code).
        sys.stdout.flush()
    except BrokenPipeError:
        return output_closed()
    return result


def _never_unencodable() -> None:
    """Text the printing paths did not escape still prints: a character the terminal's encoding cannot
    hold (a lone surrogate from a frame, anything outside ASCII on a C locale) is written as its escape
    instead of ending the command with a traceback."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _dispatch(args_list: list[str], commands: Sequence[Subcommand] | None) -> int:
    names = COMMANDS if commands is None else tuple(command.name for command in commands)
    if args_list[:1] in (["-h"], ["--help"]):
        _print_help(build_parser(commands))
        return EXIT_OK
    try:
        if not args_list or (args_list[0] not in names and args_list[0] != "--version"):
            return _open_window(args_list)
        args = build_parser(commands).parse_args(args_list)
        result: int = args.func(args)
    except UsageError as exc:
        return fail(str(exc), lines=exc.lines)
    return result


def _print_help(parser: argparse.ArgumentParser) -> None:
    # One help for both halves: the subcommands, then the window's own options.
    from flushscope.cli.window import build_window_parser

    print(parser.format_help())
    print("Without a COMMAND, flushscope opens the window:\n")
    print(build_window_parser().format_help())


def _open_window(argv: list[str]) -> int:
    from flushscope.cli.window import exit_code, parse_window_args

    options = parse_window_args(argv)
    from flushscope.ui.launch import run_window

    return exit_code(run_window(options))
