"""What the dispatcher needs to know of a subcommand: its name, its help, its arguments and its action."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Subcommand:
    """One subcommand of ``flushscope``. Its module holds it as ``COMMAND``; ``run`` returns the exit code.

    ``add_arguments`` and the module itself import only what parsing needs: every subcommand's parser is
    built for ``--help``, and none may load Qt or the audio library before it runs."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None

    def add_to(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        """Add this subcommand's parser to ``subparsers``; parsed arguments carry ``run`` as ``func``."""
        parser = subparsers.add_parser(self.name, help=self.help, description=self.description)
        self.add_arguments(parser)
        parser.set_defaults(func=self.run)
