"""A script's context names in the window: the lanes and their hover text, the tables, the composer; and a
lane of an app the proxy recorded, labelled with its connection and its client (elided in the middle,
whole on hover)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFontMetrics
from pytestqt.qtbot import QtBot

from flushscope.core.frames import Direction, meta_text
from flushscope.core.inputs.scenario import parse_scenario
from flushscope.core.model.session import Session
from flushscope.ui.bridge import SessionBridge
from flushscope.ui.controllers.analysis import AnalysisModel
from flushscope.ui.tables import AnomaliesModel, LintsModel, TranscriptsModel
from flushscope.ui.timeline.gutter import lane_detail
from flushscope.ui.window import MainWindow
from session_wire import Wire
from window_support import WAIT_MS, run, shown_timeline

pytestmark = [pytest.mark.gui, pytest.mark.qt_log_ignore("does not support propagateSizeHints")]

GREETING = "9d8f23e0-1111-4c1e-9a55-0123456789ab"
APP = "cartesia-python/4.2.0"


def named_and_proxied(wire: Wire) -> None:
    """A context a script named on connection 1; an unnamed one of an app the proxy saw on connection 2."""
    wire.connect()
    wire.name(GREETING, "greeting")
    wire.turn(GREETING, ["Hello there. "])
    wire.name(GREETING, "again")
    wire.send(GREETING, "After its end.")  # the id reused: a context of its own, never ended (a lint)
    wire.conn = 2
    wire.add(
        Direction.META, meta_text("connect", url="ws://127.0.0.1:1/tts/websocket", client=APP, port=54321)
    )
    wire.turn("app-context", ["From the app."])


@pytest.fixture
def wire(bridge: SessionBridge) -> Iterator[Wire]:
    wire = Wire(bridge.session)
    named_and_proxied(wire)
    bridge.flush()
    yield wire


def test_lanes_are_labelled_by_name_and_say_it_all_on_hover(qtbot: QtBot) -> None:
    wire = Wire()
    named_and_proxied(wire)
    view, _, _ = shown_timeline(qtbot, wire.session)
    assert view.lane_count() == 3
    assert [c.name for c in wire.session.contexts] == ["greeting", "again", None]
    gutter_x = 20
    first = view.describe_at(QPoint(gutter_x, view.lane_rect(0).center().y()))
    assert first == f"context #1 greeting · {GREETING}\ndone\nconnection 1"
    app = view.describe_at(QPoint(gutter_x, view.lane_rect(2).center().y()))
    assert app == f"context #3 app-context\ndone\nconnection 2 · {APP} :54321"


def test_a_proxied_lane_says_its_connection_and_elides_its_client_in_the_middle(qtbot: QtBot) -> None:
    wire = Wire()
    named_and_proxied(wire)
    ctx = wire.session.contexts[-1]
    fm = QFontMetrics(shown_timeline(qtbot, wire.session)[0].font())
    whole = lane_detail(ctx, fm, 10_000)
    assert whole == f"conn 2 · {APP} :54321"
    narrow = lane_detail(ctx, fm, fm.horizontalAdvance(whole) - 30)
    assert narrow.startswith("conn 2 · cartes") and narrow.endswith(":54321") and "…" in narrow
    assert lane_detail(wire.session.contexts[0], fm, 10_000) == "done"


def test_tables_name_a_named_context_by_its_name(bridge: SessionBridge, wire: Wire) -> None:
    transcripts = TranscriptsModel(bridge)
    contexts = [transcripts.index(r, TranscriptsModel.CONTEXT).data() for r in range(transcripts.rowCount())]
    assert contexts[0] == "1 · greeting" and contexts[-1] == "3 · app-cont…"
    tip = transcripts.index(0, TranscriptsModel.CONTEXT).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == f"context #1 greeting · {GREETING} (connection 1)"

    # The session shown is not the live one: it is over, and a context never ended is a lint.
    analysis = AnalysisModel(bridge, Session(), follow=False)
    lints = LintsModel(analysis)
    analysis.refresh_now()
    assert [lints.index(r, LintsModel.CONTEXT).data() for r in range(lints.rowCount())] == ["2 · again"]
    assert lints.index(0, LintsModel.MESSAGE).data().startswith("Context again was never ended")

    wire.conn = 1
    wire.end(GREETING)
    # As the live window's timer does: the recording goes on past the wait, so it is a timeout.
    bridge.session.check_timeouts(math.inf)
    bridge.flush()
    anomalies = AnomaliesModel(bridge)
    timeout = next(
        r
        for r in range(anomalies.rowCount())
        if "no done" in anomalies.index(r, AnomaliesModel.MESSAGE).data()
    )
    assert anomalies.index(timeout, AnomaliesModel.CONTEXT).data() == "2 · again"
    assert anomalies.index(timeout, AnomaliesModel.MESSAGE).data().startswith("no done for context again")
    analysis.deleteLater()


def test_a_script_in_the_window_names_its_contexts_everywhere(
    qtbot: QtBot, make_window: Callable[..., MainWindow]
) -> None:
    window = make_window()
    assert run(qtbot, window, window.live_control.connect_target("emulator"))
    script = parse_scenario("context greeting\nsend Hello there.\nflush\ncontext weather\nsend Sunny.\n")
    assert run(qtbot, window, window.scripts.play(script, timeout=WAIT_MS / 1000)) is None
    window.bridge.flush()
    session = window.live.session
    assert [c.name for c in session.contexts] == ["greeting", "weather"]
    combo = window.composer.context_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["1 · greeting", "2 · weather"]
    history = window.composer.history
    assert history.item(0).text() == "greeting · send “Hello there.”"
    model = window.transcripts.model
    assert model.index(0, TranscriptsModel.CONTEXT).data() == "1 · greeting"
    assert window.timeline.describe_at(QPoint(20, window.timeline.lane_rect(1).center().y())) == (
        f"context #2 weather · {session.contexts[1].context_id}\nopen\nconnection 1"
    )
