"""The entry point: subcommands are known by name, everything else goes to the window."""

from __future__ import annotations

import argparse

import pytest

from flushscope import cli


def test_commands_match_the_parser() -> None:
    parser = cli.build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(actions[0].choices) == set(cli.COMMANDS)


def test_help_shows_the_subcommands_and_the_window_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in cli.COMMANDS:
        assert command in out
    assert "--script" in out and "opens the window" in out
