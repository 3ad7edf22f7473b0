"""The one-folder bundle, built for real by packaging/build.sh and started as a user would start it.

Outside the default run (marker ``bundle``: ``pytest -m bundle tests/bundle``): a build takes a minute or
more and writes some 430 MB.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from audio_sink import ALSA_FILE_CONF
from command_line import run_program

pytestmark = pytest.mark.bundle

ROOT = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


def run(*args: str | Path, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_program(*args, cwd=cwd, env=env, timeout=1200)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("PyInstaller", reason="the bundle extra is not installed: pip install -e '.[bundle]'")
    dist = tmp_path_factory.mktemp("dist")
    built = run("bash", ROOT / "packaging" / "build.sh", "bundle", "--dist", dist, cwd=ROOT)
    assert built.returncode == 0, built.stderr[-4000:]
    exe = dist / "flushscope" / "flushscope"
    assert built.stdout.splitlines()[-1] == str(exe)
    return exe


def test_the_bundle_plays_a_scenario_in_its_window_and_saves_a_screenshot(
    bundle: Path, tmp_path: Path
) -> None:
    shot = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    scenario = ROOT / "resources" / "scenarios" / "three-contexts.txt"
    done = run(bundle, "--script", scenario, "--screenshot", shot, "--exit-when-done", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert shot.read_bytes()[:8] == PNG


def test_the_bundle_speaks_its_own_scenarios_headless(bundle: Path, tmp_path: Path) -> None:
    scenario = bundle.parent / "_internal" / "flushscope" / "_resources" / "scenarios" / "joining-inputs.txt"
    done = run(
        bundle, "run", scenario, "--pace", "instant", "--capture", tmp_path / "c.fscap.jsonl", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    # espeak-ng spoke (the report's word timestamps), and the lint the scenario announces was raised.
    assert "no anomalies" in done.stdout and "'Helloworld.'" in done.stdout


def test_the_bundle_plays_through_the_portaudio_it_carries(bundle: Path, tmp_path: Path) -> None:
    conf = tmp_path / "asound.conf"
    conf.write_text(ALSA_FILE_CONF.format(out=tmp_path / "out.raw"))
    # The dynamic loader says what it opened and how it was named: sounddevice must open the bundle's copy by
    # its path (the system's linker cache would give a bare name, and a machine without PortAudio nothing).
    env = {**os.environ, "ALSA_CONFIG_PATH": str(conf), "LD_DEBUG": "files"}
    done = run(bundle, "play", "--list-devices", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "default" in done.stdout
    opened = [
        line for line in done.stderr.splitlines() if "libportaudio" in line and "dynamically loaded" in line
    ]
    assert opened and f"file={bundle.parent / '_internal' / 'libportaudio.so.2'} " in opened[0], opened


def test_the_bundle_builds_a_dataset_and_answers_it(bundle: Path, tmp_path: Path) -> None:
    # Arrow and DuckDB are the bundle's largest parts, trimmed of what the dataset does not use: what is left
    # must still write Parquet and answer SQL over it.
    scenario = ROOT / "resources" / "scenarios" / "three-contexts.txt"
    captures = tmp_path / "captures"
    captures.mkdir()
    made = run(bundle, "run", scenario, "--pace", "instant", "--capture", captures / "a.jsonl", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    built = run(bundle, "dataset", "build", captures, "--out", tmp_path / "ds", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    asked = run(
        bundle,
        "dataset",
        "query",
        tmp_path / "ds",
        "SELECT count(*) AS n FROM segments",
        "--csv",
        cwd=tmp_path,
    )
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.split() == ["n", "9"]
