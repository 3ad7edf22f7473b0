"""Packaging: pyproject lists every package by hand (resources/ sits outside app/), and build.sh puts the
launcher and icon where desktops look."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from command_line import run_program

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    app = ROOT / "app"
    found = {
        ".".join(init.parent.relative_to(app).parts)
        for init in app.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= listed, f"add to [tool.setuptools] packages: {sorted(found - listed)}"
    assert "flushscope._resources" in listed


def _desktop(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_program(
        "bash", ROOT / "packaging" / "build.sh", "desktop", "--prefix", tmp_path / "prefix", *args
    )


def test_the_launcher_and_icon_go_to_the_xdg_folders_of_the_prefix(tmp_path: Path) -> None:
    done = _desktop(tmp_path, "--exec", "/opt/my apps/flushscope")
    assert done.returncode == 0, done.stderr
    share = tmp_path / "prefix" / "share"
    entry = share / "applications" / "flushscope.desktop"
    icon = share / "icons" / "hicolor" / "scalable" / "apps" / "flushscope.svg"
    assert done.stdout.splitlines() == [str(entry), str(icon)]
    assert icon.read_bytes() == (ROOT / "resources" / "flushscope.svg").read_bytes()
    lines = entry.read_text().splitlines()
    assert 'Exec="/opt/my apps/flushscope" %f' in lines and "TryExec=/opt/my apps/flushscope" in lines
    assert "Icon=flushscope" in lines


def test_a_launcher_for_a_path_the_desktop_cannot_quote_is_refused(tmp_path: Path) -> None:
    done = _desktop(tmp_path, "--exec", "/opt/$HOME/flushscope")
    assert done.returncode == 1 and "cannot write a launcher" in done.stderr
    assert not (tmp_path / "prefix").exists()


@pytest.mark.skipif(
    shutil.which("desktop-file-validate") is None, reason="desktop-file-utils is not installed"
)
def test_the_desktop_files_pass_desktop_file_validate(tmp_path: Path) -> None:
    assert _desktop(tmp_path, "--exec", "/opt/my apps/flushscope").returncode == 0
    installed = tmp_path / "prefix" / "share" / "applications" / "flushscope.desktop"
    for entry in (ROOT / "resources" / "flushscope.desktop", installed):
        checked = run_program("desktop-file-validate", entry)
        assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")
