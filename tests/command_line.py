"""Running flushscope (or a probe of it) in a process of its own, as a user's shell would, for tests."""

from __future__ import annotations

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
