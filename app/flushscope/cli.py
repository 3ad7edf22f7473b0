"""The one entry point: the window by default, subcommands for the headless tools.

Subcommands import their own modules, so ``flushscope serve`` never loads Qt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from flushscope import __version__

#: The subcommands; anything else on the command line is for the window.
COMMANDS = ("serve", "run", "report", "export", "play")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flushscope",
        description="Inspect Cartesia TTS WebSocket contexts, manual flushes and flush_id attribution.",
    )
    parser.add_argument("--version", action="version", version=f"flushscope {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    from flushscope.audio.play_command import add_parser as add_play_parser
    from flushscope.commands import add_parsers
    from flushscope.emulator.cli import add_serve_parser

    add_serve_parser(subparsers)
    add_parsers(subparsers)
    add_play_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if args_list[:1] in (["-h"], ["--help"]):
        # One help for both halves: the subcommands, then the window's own options.
        from flushscope.ui.launch import build_parser as window_parser

        print(parser.format_help())
        print("Without a COMMAND, flushscope opens the window:\n")
        print(window_parser().format_help())
        return 0
    if not args_list or (args_list[0] not in COMMANDS and args_list[0] != "--version"):
        from flushscope.ui.launch import main as gui_main

        return gui_main(args_list)
    args = parser.parse_args(args_list)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
