"""Running flushscope (or a probe of it) in a process of its own, as a user's shell would, for tests."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_program(
    *args: str | Path, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """The program ``ARGS``, with no standard input, its output captured as text."""
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_python(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """``python ARGS`` with this interpreter, no standard input, its output captured as text."""
    return run_program(sys.executable, *args, cwd=cwd, env=env, timeout=timeout)


def run_flushscope(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``flushscope ARGS`` (as ``python -m flushscope``)."""
    return run_python("-m", "flushscope", *args, cwd=cwd, env=env)


#: Runs ``flushscope ARGS`` (or, given ``--import MODULE...``, imports those modules), then says on the last
#: line of standard error which modules of Qt and of the window the process had loaded: ``loaded: [...]``.
_PROBE = """
import importlib, sys
args, code = sys.argv[1:], 0
try:
    if args[:1] == ["--import"]:
        for name in args[1:]:
            importlib.import_module(name)
    else:
        from flushscope.cli import main
        code = main(args)
finally:
    loaded = sorted(
        name for name in sys.modules
        if name.split(".")[0] in {"PySide6", "shiboken6", "qasync"} or name.startswith("flushscope.ui")
    )
    print("loaded:", loaded, file=sys.stderr)
sys.exit(code)
"""


def probed(*args: str) -> list[str]:
    """The command that runs ``flushscope ARGS`` through the probe of what it loads, for a process started
    some other way (:func:`loaded` reads its standard error)."""
    return [sys.executable, "-c", _PROBE, *args]


def run_probed(
    *args: str, cwd: Path | None = None, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """``flushscope ARGS`` in a process of its own, through the probe of what it loads."""
    return run_python(*probed(*args)[1:], cwd=cwd, timeout=timeout)


def loaded(stderr: str) -> list[str]:
    """The modules of Qt and of the window a probed process had loaded, from its standard error."""
    last = stderr.splitlines()[-1] if stderr else ""
    assert last.startswith("loaded: "), stderr
    names: list[str] = ast.literal_eval(last.removeprefix("loaded: "))
    return names


def qt_loaded_by_importing(*modules: str) -> list[str]:
    """The modules of Qt that importing ``modules`` loads, in a fresh process."""
    done = run_probed("--import", *modules)
    assert done.returncode == 0, done.stderr
    return [name for name in loaded(done.stderr) if not name.startswith("flushscope.")]
