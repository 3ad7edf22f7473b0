"""The window is composed, not inherited: its parts are QObjects of their own, each with one job, and only
the window itself is a QMainWindow."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow

import flushscope.ui
from flushscope.ui.window import MainWindow

pytestmark = pytest.mark.gui


def _ui_classes() -> list[type]:
    classes: list[type] = []
    for info in pkgutil.walk_packages(flushscope.ui.__path__, "flushscope.ui."):
        module = importlib.import_module(info.name)
        classes += [
            cls for _, cls in inspect.getmembers(module, inspect.isclass) if cls.__module__ == module.__name__
        ]
    return classes


def test_only_the_window_is_a_main_window_and_no_class_has_two_project_bases() -> None:
    classes = _ui_classes()
    assert len(classes) > 40  # the walk found the package
    assert [cls for cls in classes if issubclass(cls, QMainWindow)] == [MainWindow]
    for cls in classes:
        own = [base for base in cls.__bases__ if base.__module__.startswith("flushscope.")]
        assert len(own) <= 1, f"{cls.__qualname__} has two project bases: {own}"


def test_controllers_are_qobjects_that_own_their_signals() -> None:
    from flushscope.ui.controllers.captures import CaptureController
    from flushscope.ui.controllers.exports import ExportController
    from flushscope.ui.controllers.live import LiveController
    from flushscope.ui.controllers.playback import PlaybackController
    from flushscope.ui.controllers.script_runner import ScriptRunner

    for controller in (LiveController, CaptureController, PlaybackController, ExportController, ScriptRunner):
        assert issubclass(controller, QObject) and not issubclass(controller, QMainWindow)
        # Declared on the class itself: PySide builds a meta-object with every signal of the class.
        meta = controller.staticMetaObject
        signals = {meta.method(i).name().data().decode() for i in range(meta.methodCount())}
        assert "status" in signals, controller.__name__
