"""The window is composed, not inherited: its parts are QObjects of their own, each with one job, and only
the window itself is a QMainWindow. Controllers own their signals and name them one way; no hook is poked
into another object as an attribute; the window's package sits above nothing but the layers below it (the
command line is above it); tests use the public names of the package."""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import pkgutil
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMetaMethod, QObject, Signal
from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

import flushscope.ui
from flushscope.net.live import ConnectionState
from flushscope.ui.controllers.analysis import AnalysisModel
from flushscope.ui.controllers.analysis_windows import AnalysisViews
from flushscope.ui.controllers.captures import CaptureController
from flushscope.ui.controllers.datasets import DatasetController
from flushscope.ui.controllers.exports import ExportController
from flushscope.ui.controllers.live import LiveController
from flushscope.ui.controllers.playback import PlaybackController, PlayerReports
from flushscope.ui.controllers.recordings import RecordingsController
from flushscope.ui.controllers.remembering import Remembering
from flushscope.ui.controllers.script_runner import ScriptRunner
from flushscope.ui.controllers.tabs import TableTabs
from flushscope.ui.controllers.window_help import WindowHelp
from flushscope.ui.window import MainWindow
from window_support import WAIT_MS

pytestmark = pytest.mark.gui

UI = Path(flushscope.ui.__file__).parent
TESTS = Path(__file__).resolve().parents[1]
CONTROLLERS = (
    LiveController,
    CaptureController,
    PlaybackController,
    PlayerReports,
    ExportController,
    ScriptRunner,
    AnalysisModel,
    AnalysisViews,
    DatasetController,
    Remembering,
    RecordingsController,
    TableTabs,
    WindowHelp,
)
#: lowerCamelCase, as Qt names signals.
CAMEL = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]*)*")
#: Where a hook is set on another object: the player's hooks (the player is Qt-free; this adapter turns them
#: into signals) and Python's own exception hook.
HOOKS_SET_IN = {"PlayerReports.__init__", "install_exception_hook"}


def _ui_modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(UI.rglob("*.py")):
        parts = path.relative_to(UI.parent).with_suffix("").parts
        yield ".".join(part for part in parts if part != "__init__"), path


def _ui_classes() -> list[type]:
    classes: list[type] = []
    for info in pkgutil.walk_packages(flushscope.ui.__path__, "flushscope.ui."):
        module = importlib.import_module(info.name)
        classes += [
            cls for _, cls in inspect.getmembers(module, inspect.isclass) if cls.__module__ == module.__name__
        ]
    return classes


def _own_signals(cls: type) -> dict[str, tuple[bytes, ...]]:
    """The signals ``cls`` declares itself, with their parameter types as the meta-object has them."""
    meta = cls.staticMetaObject  # type: ignore[attr-defined]
    signals: dict[str, tuple[bytes, ...]] = {}
    for i in range(meta.methodOffset(), meta.methodCount()):
        method = meta.method(i)
        if method.methodType() == QMetaMethod.MethodType.Signal:
            signals[method.name().data().decode()] = tuple(t.data() for t in method.parameterTypes())
    return signals


def _signal_docstrings(cls: type) -> dict[str, str | None]:
    """For each ``name = Signal(...)`` of the class body, the string right under it (None: none)."""
    source = ast.parse(inspect.getsource(inspect.getmodule(cls)))  # type: ignore[arg-type]
    body = next(n for n in ast.walk(source) if isinstance(n, ast.ClassDef) and n.name == cls.__name__).body
    found: dict[str, str | None] = {}
    for statement, after in zip(body, [*body[1:], None], strict=True):
        if (
            isinstance(statement, ast.Assign)
            and isinstance(statement.value, ast.Call)
            and isinstance(statement.value.func, ast.Name)
            and statement.value.func.id == "Signal"
        ):
            doc = (
                after.value.value
                if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                else None
            )
            for target in statement.targets:
                assert isinstance(target, ast.Name)
                found[target.id] = doc if isinstance(doc, str) else None
    return found


def test_only_the_window_is_a_main_window_and_no_class_has_two_project_bases() -> None:
    classes = _ui_classes()
    assert len(classes) > 40  # the walk found the package
    assert [cls for cls in classes if issubclass(cls, QMainWindow)] == [MainWindow]
    for cls in classes:
        own = [base for base in cls.__bases__ if base.__module__.startswith("flushscope.")]
        assert len(own) <= 1, f"{cls.__qualname__} has two project bases: {own}"


def test_every_controller_is_a_qobject_in_the_controllers_room() -> None:
    found = {
        cls
        for cls in _ui_classes()
        if cls.__module__.startswith("flushscope.ui.controllers.") and issubclass(cls, QObject)
    }
    assert found == set(CONTROLLERS)
    for controller in CONTROLLERS:
        assert not issubclass(controller, QMainWindow)


def _talkers() -> list[type]:
    """Every class of the package that declares signals of its own: controllers and views."""
    return [cls for cls in _ui_classes() if issubclass(cls, QObject) and _own_signals(cls)]


def test_controllers_own_signals_that_say_status_or_error() -> None:
    for controller in CONTROLLERS:
        signals = _own_signals(controller)
        declared = {name for name, value in vars(controller).items() if isinstance(value, Signal)}
        # Declared on the class itself: PySide builds the meta-object from the signals of the class body.
        assert signals and set(signals) == declared, controller.__name__
        if controller is not AnalysisModel:
            assert "status" in signals or "error" in signals, controller.__name__


@pytest.mark.parametrize("cls", _talkers(), ids=lambda cls: cls.__name__)
def test_signals_are_named_one_way_each_with_its_docstring(cls: type) -> None:
    signals = _own_signals(cls)
    docs = _signal_docstrings(cls)
    assert set(docs) == set(signals), cls.__name__
    for name, types in signals.items():
        where = f"{cls.__name__}.{name}"
        assert docs[name], f"{where} has no docstring"
        assert CAMEL.fullmatch(name), f"{where} is not lowerCamelCase"
        if name in ("status", "error"):
            # A message for the status bar; a failure in words.
            assert types == (b"QString",), where
            continue
        # Everything else names its thing: a state that changed is <thing>Changed, an event what happened.
        assert name != "changed", f"{where}: say what changed"
        assert not re.search(r"status|error|message|occurred", name, re.IGNORECASE), where


def test_nothing_in_the_window_imports_the_command_line() -> None:
    modules = list(_ui_modules())
    assert len(modules) > 60
    for module, path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any(name.startswith("flushscope.cli") for name in names), f"{module} imports {names}"


class _Pokes(ast.NodeVisitor):
    """``other.attribute = <lambda or attribute>`` statements, with the qualified name of the function."""

    def __init__(self) -> None:
        self.scope: list[str] = []
        self.found: list[tuple[str, str]] = []

    def _nested(self, node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _nested

    def visit_Assign(self, node: ast.Assign) -> None:
        if isinstance(node.value, ast.Lambda | ast.Attribute):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and ast.unparse(target.value) != "self":
                    self.found.append((".".join(self.scope), ast.unparse(node)))
        self.generic_visit(node)


def test_no_hook_is_poked_into_another_object() -> None:
    """``other.attribute = <function or method>`` sets a hook from outside: signals say it instead."""
    poked: list[tuple[str, str]] = []
    for _, path in _ui_modules():
        pokes = _Pokes()
        pokes.visit(ast.parse(path.read_text(encoding="utf-8")))
        poked += pokes.found
    assert {scope for scope, _ in poked} == HOOKS_SET_IN, poked


def test_tests_import_only_public_names_of_the_window_package() -> None:
    private: list[str] = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flushscope.ui"):
                private += [
                    f"{path.name}: {alias.name}" for alias in node.names if alias.name.startswith("_")
                ]
    assert private == []


def test_state_signals_say_something_new_each_time(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    """Every <thing>Changed with arguments, over a connection, a script's worth of sends and a disconnect:
    no two emissions in a row carry the same value."""
    window = make_window()
    heard: dict[str, list[tuple[object, ...]]] = {}
    for controller in (window.live_control, window.captures, window.playback, window.scripts):
        for name, types in _own_signals(type(controller)).items():
            if name.endswith("Changed") and types:
                said = heard.setdefault(f"{type(controller).__name__}.{name}", [])
                getattr(controller, name).connect(lambda *args, said=said: said.append(args))
    composer, acts = window.composer, window.action_set
    assert not acts.new_context.isEnabled()
    window.connection_bar.connect_button.click()
    qtbot.waitUntil(lambda: window.live.status.state is ConnectionState.CONNECTED, timeout=WAIT_MS)
    assert acts.new_context.isEnabled()
    for text in ("One. ", "Two. "):
        composer.text_edit.setPlainText(text)
        acts.send_flush.trigger()
        qtbot.waitUntil(lambda: composer.text() == "", timeout=WAIT_MS)
    acts.end_context.trigger()
    qtbot.waitUntil(lambda: not window.live.open_contexts(), timeout=WAIT_MS)
    window.connection_bar.connect_button.click()
    qtbot.waitUntil(lambda: window.live.status.state is ConnectionState.DISCONNECTED, timeout=WAIT_MS)
    assert len(heard["LiveController.connectionChanged"]) >= 3
    for name, said in heard.items():
        repeated = [a for a, b in itertools.pairwise(said) if a == b]
        assert not repeated, f"{name} said {repeated[0]} twice in a row"
