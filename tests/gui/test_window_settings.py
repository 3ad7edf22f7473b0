"""What the window remembers between runs (a settings file, the keyring for the key), and how it fits the
screen it opens on."""

from __future__ import annotations

import configparser
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from PySide6.QtCore import QRect, QSettings, QSize
from pytestqt.qtbot import QtBot

from command_line import run_python
from conftest import WindowFactory
from dataset_support import write_call
from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.net.live import LiveSession
from flushscope.ui.options import Theme
from flushscope.ui.preferences.geometry import first_rect, fit_rect
from flushscope.ui.preferences.secret import ACCOUNT, NO_KEYRING, SERVICE, KeyStore
from flushscope.ui.preferences.store import RECENT_LIMIT, Preferences
from flushscope.ui.window import MainWindow
from window_support import close

KEY = "sk_car_test_key_0123456789"
REPO = Path(__file__).resolve().parents[2]


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps its passwords in this process."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """A memory keyring registered as the one ``keyring`` uses."""
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


def window_on(
    make_window: WindowFactory, settings: Path, keys: KeyStore | None = None, theme: Theme = Theme.SYSTEM
) -> MainWindow:
    """A window on the settings file ``settings``, placed as the application places it."""
    live = LiveSession(capture_dir=settings.parent / "captures")
    window = MainWindow(live, preferences=Preferences.at(settings), keys=keys or KeyStore(), theme=theme)
    window.remembering.show_placed()
    make_window.windows.append(window)
    return window


# --- the settings file ------------------------------------------------------------------------------


def test_settings_are_read_back_typed_and_bad_values_read_as_absent(tmp_path: Path) -> None:
    path = tmp_path / "settings.ini"
    prefs = Preferences.at(path)
    prefs.set_geometry("main", QRect(10, 20, 800, 500), False)
    prefs.set_target("proxy")
    prefs.set_proxy_listen("127.0.0.1:0")
    prefs.set_proxy_upstream("emulator")
    prefs.set_theme(Theme.DARK)
    settings = GenerationSettings(model_id="sonic-2", sample_rate=44100, add_timestamps=False, speed=1.2)
    prefs.set_generation(settings)
    prefs.sync()

    again = Preferences.at(path)
    assert again.geometry("main") == (QRect(10, 20, 800, 500), False)
    assert (again.target(), again.proxy_listen(), again.proxy_upstream()) == (
        "proxy",
        "127.0.0.1:0",
        "emulator",
    )
    assert again.theme() is Theme.DARK and again.generation() == settings

    raw = QSettings(str(path), QSettings.Format.IniFormat)
    for key, value in (
        ("window/main/geometry", "a b c d"),
        ("connection/target", "somewhere"),
        ("look/theme", "purple"),
        ("generation/sample_rate", "12345"),
        ("files/recent", "{not json"),
        ("splitter/main", "not bytes"),
    ):
        raw.setValue(key, value)
    raw.sync()
    bad = Preferences.at(path)
    assert bad.geometry("main") is None and bad.target() is None and bad.theme() is None
    assert bad.recent_captures() == [] and bad.splitter("main") is None
    generation = bad.generation()
    assert generation is not None and generation.sample_rate == 24000 and generation.model_id == "sonic-2"


def test_recent_captures_keep_ten_newest_first_and_forget_missing_files(tmp_path: Path) -> None:
    prefs = Preferences.at(tmp_path / "settings.ini")
    files = [tmp_path / f"c{i}.fscap.jsonl" for i in range(12)]
    for f in files:
        f.write_text("")
        prefs.add_recent(f)
    prefs.add_recent(files[3])  # again: moves to the top, once
    recent = prefs.recent_captures()
    assert len(recent) == RECENT_LIMIT and recent[0] == files[3].absolute()
    assert recent[1:4] == [files[11].absolute(), files[10].absolute(), files[9].absolute()]
    files[11].unlink()
    assert files[11].absolute() not in prefs.recent_captures()
    assert len(Preferences.at(tmp_path / "settings.ini").recent_captures()) == RECENT_LIMIT - 1
    prefs.clear_recent()
    assert prefs.recent_captures() == []


def test_geometry_is_clamped_to_the_screen_and_a_first_window_suits_it() -> None:
    small = QRect(0, 0, 1024, 600)
    assert fit_rect(QRect(300, 200, 1440, 900), small) == small
    assert fit_rect(QRect(-50, 500, 800, 400), small) == QRect(0, 200, 800, 400)
    assert fit_rect(QRect(3000, 100, 800, 400), QRect(1920, 0, 1920, 1080)) == QRect(3000, 100, 800, 400)
    assert first_rect(QSize(1440, 900), small) == small
    assert first_rect(QSize(1440, 900), QRect(0, 0, 1920, 1080)) == QRect(240, 90, 1440, 900)


def test_a_window_opens_with_what_the_last_one_kept(
    qtbot: QtBot, make_window: WindowFactory, tmp_path: Path
) -> None:
    settings = tmp_path / "settings.ini"
    capture = write_call(tmp_path / "kept.fscap.jsonl")
    first = window_on(make_window, settings)
    first.connection_bar.set_target("custom", "ws://127.0.0.1:9/tts/websocket")
    first.composer.settings_form.set_settings(GenerationSettings(encoding="pcm_f32le", sample_rate=16000))
    first.remembering.opened(capture)
    close(qtbot, first)
    make_window.windows.remove(first)

    second = window_on(make_window, settings)
    assert second.connection_bar.target_kind() == "custom"
    assert second.connection_bar.url() == "ws://127.0.0.1:9/tts/websocket"
    assert (
        second.composer.settings().encoding == "pcm_f32le" and second.composer.settings().sample_rate == 16000
    )
    second.action_set.recent_menu.aboutToShow.emit()
    entries = [a for a in second.action_set.recent_menu.actions() if a.data()]
    assert [a.data() for a in entries] == [str(capture.absolute())]
    with qtbot.waitSignal(second.captures.captureOpened):
        entries[0].trigger()
    second.action_set.clear_recent.trigger()
    assert second.preferences.recent_captures() == []


# --- the key and the keyring ------------------------------------------------------------------------


@pytest.mark.parametrize("backend", [keyring.backends.null.Keyring, keyring.backends.fail.Keyring])
def test_without_a_keyring_remember_is_greyed_and_says_why(
    make_window: WindowFactory, tmp_path: Path, backend: type[KeyringBackend]
) -> None:
    window = window_on(make_window, tmp_path / "settings.ini", KeyStore(backend()))
    box = window.connection_bar.remember_check
    assert not box.isEnabled() and box.toolTip() == NO_KEYRING
    assert "keyring" in box.toolTip() and "never written to disk in clear" in box.toolTip()


def test_the_key_is_kept_in_the_keyring_only_and_only_when_asked(
    qtbot: QtBot, make_window: WindowFactory, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    settings = tmp_path / "settings.ini"
    first = window_on(make_window, settings)
    bar = first.connection_bar
    assert bar.remember_check.isEnabled()
    bar.set_target("cartesia")
    bar.key_edit.setText(KEY)
    close(qtbot, first)
    make_window.windows.remove(first)
    assert memory_keyring.passwords == {}  # not asked

    second = window_on(make_window, settings)
    assert second.connection_bar.api_key() == ""
    second.connection_bar.key_edit.setText(KEY)
    second.connection_bar.remember_check.setChecked(True)
    assert memory_keyring.passwords == {(SERVICE, ACCOUNT): KEY}
    close(qtbot, second)
    make_window.windows.remove(second)
    assert KEY not in settings.read_text()

    third = window_on(make_window, settings)
    assert third.connection_bar.api_key() == KEY and third.connection_bar.remember_check.isChecked()
    third.connection_bar.remember_check.setChecked(False)  # forgets it at once
    assert memory_keyring.passwords == {}
    close(qtbot, third)
    make_window.windows.remove(third)
    fourth = window_on(make_window, settings)
    assert fourth.connection_bar.api_key() == ""
    assert KEY not in settings.read_text()


# --- two processes, one settings file ---------------------------------------------------------------


def _screen_env(tmp_path: Path, width: int, height: int, settings: Path) -> dict[str, str]:
    """An offscreen platform with one screen of this size, and the settings file named by the environment."""
    config = tmp_path / f"screen-{width}x{height}.json"
    screen = {"name": "s", "x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96, "dpr": 1}
    config.write_text(json.dumps({"screens": [screen]}))
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
        "FLUSHSCOPE_SETTINGS": str(settings),
    }
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env.pop("CARTESIA_API_KEY", None)
    env.pop("FLUSHSCOPE_THEME", None)
    return env


def _drive(tmp_path: Path, hook: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    out = tmp_path / f"{hook}.json"
    result = run_python(str(REPO / "tests" / "window_driver.py"), hook, str(out), *args, cwd=REPO, env=env)
    assert result.returncode == 0, result.stderr
    facts: dict[str, Any] = json.loads(out.read_text())
    return facts


def test_a_second_run_restores_what_the_first_changed(tmp_path: Path) -> None:
    settings = tmp_path / "shared.ini"
    capture = tmp_path / "seen.fscap.jsonl"
    recorded = run_python(
        "-m",
        "flushscope",
        "run",
        "resources/scenarios/three-contexts.txt",
        "--pace",
        "instant",
        "--capture",
        str(capture),
        cwd=REPO,
    )
    assert recorded.returncode == 0, recorded.stderr
    env = {**_screen_env(tmp_path, 1440, 900, settings), "FLUSHSCOPE_DRIVER_CAPTURE": str(capture)}
    changed = _drive(tmp_path, "change", env, "--no-connect", "--exit-when-done")

    # What the first process wrote: the file a second process reads.
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(settings)
    assert ini["connection"]["target"] == "custom"
    assert ini["connection"]["url"] == "ws://127.0.0.1:9/tts/websocket"
    assert ini["look"]["theme"] == "dark"
    recent = QSettings(str(settings), QSettings.Format.IniFormat).value("files/recent")
    assert json.loads(str(recent)) == [str(capture)]
    assert ini["window"]["main\\geometry"] == " ".join(map(str, changed["geometry"]))

    # A second run on the same file, on the same screen.
    restored = _drive(tmp_path, "state", env, "--no-connect", "--exit-when-done")
    assert restored["geometry"] == changed["geometry"]
    # The splitters as the first run left them (it moved them to 260 and 360 pixels).
    assert abs(restored["main"][0] - 260) <= 4 and abs(restored["right"][0] - 360) <= 4
    assert (restored["target"], restored["url"]) == ("custom", "ws://127.0.0.1:9/tts/websocket")
    assert restored["theme"] == ["dark"] and restored["dark"]
    assert restored["recent"] == [str(capture)]


# --- any screen from 1024x600 up --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "theme"), [(1024, 600, "light"), (1024, 600, "dark"), (1920, 1080, "light")]
)
def test_the_window_fits_the_screen_with_a_scenario_played(
    tmp_path: Path, width: int, height: int, theme: str
) -> None:
    env = _screen_env(tmp_path, width, height, tmp_path / "settings.ini")
    facts = _drive(
        tmp_path,
        "layout",
        env,
        "--pace",
        "instant",
        "--theme",
        theme,
        "--script",
        "resources/scenarios/three-contexts.txt",
        "--exit-when-done",
    )
    screen, window = QRect(*facts["screen"]), QRect(*facts["window"])
    assert screen.contains(window), facts
    assert screen.contains(QRect(*facts["status"])), facts
    assert facts["rows"] == 9
    # The transcript keeps more than a third of the table, and is wider than any figure.
    columns = facts["columns"]
    text = columns.pop("transcript")
    assert text >= 0.35 * facts["viewport"], facts
    assert all(text > width for width in columns.values()), facts
    # Nothing is cut: every header whole, every figure whole (the context's id and the text elide).
    for name, width in columns.items():
        assert width >= facts["headers"][name], (name, facts)
        assert name == "context" or width >= facts["cells"][name], (name, facts)
    for tab in facts["tabs"]:
        assert window.contains(QRect(*tab)), facts
    # 259 frames, and the name of each of the three contexts.
    assert facts["tab_texts"][:3] == ["Transcripts (9)", "Frames (262)", "Anomalies (0)"]
    timeline = QRect(*facts["timeline"])
    labels = [entry[0] for entry in facts["legend"]]
    assert "flush_done" in labels and "outlier" in labels and len(labels) == 12
    for _label, *place in facts["legend"]:
        assert timeline.contains(QRect(*place)) and window.contains(QRect(*place)), facts


def test_the_proxy_fits_a_small_screen(tmp_path: Path) -> None:
    """The proxy's panel in the composer's place, and the proxy's fields in the bar: nothing pushes the window
    off the screen."""
    env = _screen_env(tmp_path, 1024, 600, tmp_path / "settings.ini")
    facts = _drive(
        tmp_path,
        "layout",
        env,
        "--proxy",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "embedded",
        "--exit-when-done",
    )
    screen, window = QRect(*facts["screen"]), QRect(*facts["window"])
    assert screen.contains(window) and screen.contains(QRect(*facts["status"])), facts
