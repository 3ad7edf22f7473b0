"""The table of a dataset's calls, without a view: what each column says, sorting (numbers as numbers,
missing values last in either order, back to the ranking), the filter, and the model's contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from pytestqt.modeltest import ModelTester

from flushscope.dataset.calls import CallRow
from flushscope.ui.tables import ITEM_ROLE, SORT_ROLE
from flushscope.ui.tables.calls import CallsFilter, CallsModel

START = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)
M = CallsModel
ASC, DESC = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder


def call(n: int, **fields: Any) -> CallRow:
    values: dict[str, Any] = {
        "capture_id": f"id{n}",
        "capture_path": f"/captures/call-{n}.jsonl",
        "conn": 1,
        "client": "cartesia-python/4.2.0",
        "started": START + timedelta(minutes=n),
        "duration_s": 10.0 * n,
        "contexts": 1,
        "segments": 2,
        "problems": 0,
        "anomalies": 0,
        "lints": 0,
        "word_cuts": 0,
        "first_audio_p95_ms": 100.0 + n,
    }
    values.update(fields)
    return CallRow(**values)


#: As the dataset ranks them: problems, then cut words, lints, slow first audio.
RANKED = [
    call(1, problems=3, anomalies=4, client="pipecat-ai/1.14"),
    call(2, word_cuts=1, first_audio_p95_ms=None, duration_s=9.0),
    call(3, lints=2, client=None, started=None),
    call(4, first_audio_p95_ms=95.0, capture_path="/captures/both.jsonl", capture_id="both", conn=2),
    call(5, first_audio_p95_ms=None, capture_path="/captures/both.jsonl", capture_id="both", conn=1),
]


@pytest.fixture
def model(qapp: object) -> CallsModel:
    made = CallsModel()
    made.set_calls(RANKED)
    return made


def column(model: CallsModel, col: int, role: int = Qt.ItemDataRole.DisplayRole) -> list[Any]:
    return [model.index(row, col).data(role) for row in range(model.rowCount())]


def numbers(model: CallsModel) -> list[int]:
    """Which calls are shown, in order, by their number."""
    return [RANKED.index(model.index(row, 0).data(ITEM_ROLE)) + 1 for row in range(model.rowCount())]


def test_the_model_keeps_qt_s_contract_through_sorting_and_filtering(
    qtmodeltester: ModelTester, model: CallsModel
) -> None:
    qtmodeltester.check(model)
    proxy = CallsFilter()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy)
    proxy.sort(M.FIRST_AUDIO, DESC)
    proxy.set_text("both")
    proxy.set_problems_only(True)
    model.set_calls(RANKED[:2])
    qtmodeltester.check(proxy)


def test_each_column_says_what_the_call_holds(model: CallsModel) -> None:
    assert M.HEADERS[M.FIRST_AUDIO] == "first audio\np95"
    assert [model.index(0, c).data() for c in range(model.columnCount())] == [
        "pipecat-ai/1.14", "2026-01-12 10:01:00", "10.0 s", "1", "2", "3", "4", "0", "0", "101 ms",
        "call-1.jsonl",
    ]  # fmt: skip
    # flushscope's own connection, an unknown start, a missing percentile: said, not left blank.
    assert model.index(2, M.CLIENT).data() == "flushscope's own"
    assert model.index(2, M.STARTED).data() == "—"
    assert model.index(1, M.FIRST_AUDIO).data() == "—"
    assert (
        model.index(1, M.FIRST_AUDIO).data(Qt.ItemDataRole.ToolTipRole) == "No segment of this call had audio"
    )
    # A capture of several calls names the connection; its path is in the tooltip.
    assert column(model, M.CAPTURE)[3:] == ["both.jsonl · connection 2", "both.jsonl · connection 1"]
    assert model.index(3, M.CAPTURE).data(Qt.ItemDataRole.ToolTipRole) == "/captures/both.jsonl\nconnection 2"
    assert column(model, M.DURATION) == ["10.0 s", "9.0 s", "30.0 s", "40.0 s", "50.0 s"]
    # Problems and cut words stand out; zero counts are muted.
    problems = model.index(0, M.PROBLEMS).data(Qt.ItemDataRole.ForegroundRole)
    quiet = model.index(1, M.PROBLEMS).data(Qt.ItemDataRole.ForegroundRole)
    assert isinstance(problems, QColor) and isinstance(quiet, QColor) and problems != quiet
    assert model.index(1, M.WORD_CUTS).data(Qt.ItemDataRole.ForegroundRole) == problems
    assert model.index(2, M.LINTS).data(Qt.ItemDataRole.ForegroundRole) is None


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.04, "0.0 s"), (59.94, "59.9 s"), (312.4, "5 min 12 s"), (7500, "2 h 05 min")]
)
def test_durations_read_at_a_glance(seconds: float, text: str) -> None:
    model = CallsModel()
    model.set_calls([call(1, duration_s=seconds)])
    assert model.index(0, M.DURATION).data() == text


def test_numbers_sort_as_numbers_and_missing_values_stay_last_in_either_order(model: CallsModel) -> None:
    assert numbers(model) == [1, 2, 3, 4, 5]  # the ranking
    model.sort(M.FIRST_AUDIO, ASC)
    assert column(model, M.FIRST_AUDIO) == ["95 ms", "101 ms", "103 ms", "—", "—"]
    model.sort(M.FIRST_AUDIO, DESC)
    assert column(model, M.FIRST_AUDIO) == ["103 ms", "101 ms", "95 ms", "—", "—"]
    # 9 s before 10 s: numbers, not their text.
    model.sort(M.DURATION, ASC)
    assert numbers(model) == [2, 1, 3, 4, 5]
    # Equal values keep the ranking, whichever the order.
    model.sort(M.CONTEXTS, DESC)
    assert numbers(model) == [1, 2, 3, 4, 5]
    model.sort(M.STARTED, DESC)
    assert numbers(model) == [5, 4, 2, 1, 3]  # the unknown start last
    model.sort(M.CLIENT, ASC)
    assert column(model, M.CLIENT)[:3] == ["cartesia-python/4.2.0"] * 3
    assert column(model, M.CLIENT)[3:] == ["flushscope's own", "pipecat-ai/1.14"]
    assert model.index(0, M.CLIENT).data(SORT_ROLE) == "cartesia-python/4.2.0"
    model.sort(-1, ASC)
    assert numbers(model) == [1, 2, 3, 4, 5]


def test_a_row_picked_stays_picked_as_the_rows_are_sorted(model: CallsModel) -> None:
    picked = QPersistentModelIndex(model.index(1, M.LINTS))
    model.sort(M.DURATION, ASC)
    assert picked.row() == 0 and picked.column() == M.LINTS
    assert picked.data(ITEM_ROLE) is RANKED[1]


def test_the_filter_keeps_calls_by_client_or_capture_path_and_by_problems(model: CallsModel) -> None:
    proxy = CallsFilter()
    proxy.setSourceModel(model)

    def shown() -> list[CallRow]:
        return [proxy.call(row) for row in range(proxy.rowCount())]

    proxy.set_text("  PIPECAT ")
    assert shown() == [RANKED[0]]
    proxy.set_text("BOTH.json")
    assert shown() == RANKED[3:]
    proxy.set_text("own")  # flushscope's own connection, by the name the table gives it
    assert shown() == [RANKED[2]]
    proxy.set_text("")
    proxy.set_problems_only(True)
    assert shown() == RANKED[:2]  # a warning or error anomaly, or a cut word; lints alone are not problems
    # Sorting the view sorts the model beneath; the filter still holds.
    proxy.sort(M.DURATION, ASC)
    assert shown() == [RANKED[1], RANKED[0]]
    assert proxy.sortColumn() == -1
    proxy.set_problems_only(False)
    assert shown() == [RANKED[1], RANKED[0], *RANKED[2:]]


def test_new_calls_keep_the_sort_chosen(model: CallsModel) -> None:
    model.sort(M.DURATION, DESC)
    model.set_calls(RANKED[:3])
    assert numbers(model) == [3, 1, 2]
