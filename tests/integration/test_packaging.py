"""The wheel as a user installs it: built from the source tree, installed into a fresh virtual environment
outside it, every module imported there, and the command run on the scenario the wheel carries; and
``build.sh desktop``, which puts the launcher and icon where desktops look.

Offline and quick: the wheel is built with this environment's setuptools (no build isolation), installed
without its dependencies, and the new environment reads those from this one's site-packages (a ``.pth``
line, which does not run this environment's own ``.pth`` files: the editable install stays out of it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from command_line import run_program, run_python

ROOT = Path(__file__).resolve().parents[2]
#: What the source tree holds beside the project itself.
NOT_SHIPPED = (
    ".git",
    ".venv",
    "__pycache__",
    "build",
    "dist",
    "*.egg-info",
    ".*_cache",
    ".hypothesis",
    "tests",
)
SCENARIO = "scenarios/three-contexts.txt"

#: Imports every module of the installed package (but the entry point, which runs on import) and says which,
#: and where the package and its resources are.
IMPORT_ALL = """
import importlib, json, pkgutil, sys
import flushscope
from flushscope.resources import resource_path
names = sorted(m.name for m in pkgutil.walk_packages(flushscope.__path__, "flushscope."))
for name in names:
    if name != "flushscope.__main__":
        importlib.import_module(name)
print(json.dumps({
    "package": flushscope.__file__,
    "modules": names,
    "resources": {n: str(resource_path(n)) for n in sys.argv[1:]},
}))
"""


@dataclass(frozen=True)
class Installed:
    """The wheel built from the source tree, the virtual environment it is installed in, and the environment
    variables to run it with (no path into the source tree, Qt offscreen)."""

    wheel: Path
    venv: Path
    env: dict[str, str]

    def run(self, *args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(a) for a in args], cwd=cwd, env=self.env, capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL, check=False,
        )  # fmt: skip


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SHIPPED))
    dist = tmp / "dist"
    built = run_python(
        "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist), str(source)
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = dist.glob("flushscope-*.whl")
    venv = tmp / "venv"
    made = run_python("-m", "venv", "--without-pip", str(venv))
    assert made.returncode == 0, made.stderr
    python = str(venv / "bin" / "python")
    put = run_python("-m", "pip", "--python", python, "install", "--no-deps", "--no-index", str(wheel))
    assert put.returncode == 0, put.stdout + put.stderr
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = Installed(wheel, venv, env)
    where = done.run(
        venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp
    )
    ours = sorted({sysconfig.get_path("purelib"), sysconfig.get_path("platlib")})
    (Path(where.stdout.strip()) / "dependencies.pth").write_text("".join(f"{path}\n" for path in ours))
    return done


def test_the_wheel_holds_every_module_and_resource(installed: Installed) -> None:
    shipped = [path.relative_to(ROOT / "resources").as_posix() for path in (ROOT / "resources").rglob("*")]
    files = [name for name in shipped if (ROOT / "resources" / name).is_file()]
    done = installed.run(
        installed.venv / "bin" / "python", "-c", IMPORT_ALL, *files, cwd=installed.venv.parent
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # nothing warned on the way
    found = json.loads(done.stdout)
    assert Path(found["package"]).is_relative_to(installed.venv)
    app = ROOT / "app"
    modules = {
        ".".join(path.relative_to(app).with_suffix("").parts).removesuffix(".__init__")
        for path in app.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert set(found["modules"]) == modules - {"flushscope"}
    assert sorted(found["resources"]) == sorted(files) and SCENARIO in files
    assert all(Path(path).is_relative_to(installed.venv) for path in found["resources"].values())
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert "flushscope/py.typed" in names and not any(name.startswith("resources/") for name in names)


def test_the_installed_command_runs_the_scenario_it_carries(installed: Installed, tmp_path: Path) -> None:
    command = installed.venv / "bin" / "flushscope"
    version = installed.run(command, "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("flushscope "), version.stderr
    scenario = installed.venv.glob(f"lib/python*/site-packages/flushscope/_resources/{SCENARIO}")
    capture = tmp_path / "run.fscap.jsonl"
    run = installed.run(
        command, "run", next(scenario), "--pace", "instant", "--capture", capture, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and capture.stat().st_size > 0


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
