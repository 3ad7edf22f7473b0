"""The anomalies table: one row per anomaly, with its severity as an icon."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, QObject
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

from flushscope.core.model.anomalies import Anomaly, Severity
from flushscope.ui.bridge import SessionBridge
from flushscope.ui.tables.base import (
    _DECORATION,
    _DISPLAY,
    _NO_INDEX,
    _RIGHT,
    ANOMALY_ROLE,
    SORT_ROLE,
    AnyIndex,
    _TableModel,
    context_label,
)

_SEVERITY_ICON = {
    Severity.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
    Severity.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Severity.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
}


#: Sorting by severity puts errors first.
_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class AnomaliesModel(_TableModel):
    """One row per anomaly, appended on ``anomaliesAdded``; counts refresh on ``anomaliesChanged``."""

    SEVERITY, KIND, CONTEXT, FLUSH_ID, COUNT, MESSAGE = range(6)
    HEADERS = ("severity", "kind", "context", "flush_id", "count", "message")
    HEADER_TIPS: ClassVar[dict[int, str]] = {COUNT: "Frames involved (repeats are folded into one row)"}

    def __init__(self, bridge: SessionBridge, parent: QObject | None = None) -> None:
        super().__init__(bridge, parent)
        self._roles[ANOMALY_ROLE] = self._anomaly
        self._roles[_DECORATION] = self._decoration
        self._roles[SORT_ROLE] = self.sort_key
        self._icons: dict[Severity, QIcon] = {}
        self._load()
        bridge.anomaliesAdded.connect(self._on_added)
        bridge.anomaliesChanged.connect(self._on_changed)

    def _load(self) -> None:
        self._rows: list[Anomaly] = list(self.session.anomalies)

    def rowCount(self, parent: AnyIndex = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def connection_of(self, row: int) -> int | None:
        return self.anomaly(row).conn

    def anomaly(self, row: int) -> Anomaly:
        return self._rows[row]

    def _on_added(self, first: int, last: int) -> None:
        anomalies = self.session.anomalies
        first = max(first, len(self._rows))
        last = min(last, len(anomalies) - 1)
        if last < first:
            return
        self.beginInsertRows(QModelIndex(), first, last)
        self._rows.extend(anomalies[first : last + 1])
        self.endInsertRows()

    def _on_changed(self) -> None:
        if self._rows:
            self.dataChanged.emit(
                self.index(0, self.COUNT), self.index(len(self._rows) - 1, self.COUNT), [_DISPLAY, SORT_ROLE]
            )

    def _where(self, a: Anomaly) -> str:
        if a.context_number is not None and 0 < a.context_number <= len(self.session.contexts):
            return context_label(self.session.contexts[a.context_number - 1])
        if a.context_id is not None:
            return a.context_id
        return f"connection {a.conn}"

    def _display(self, row: int, column: int) -> Any:
        a = self._rows[row]
        if column == self.SEVERITY:
            return a.severity.value
        if column == self.KIND:
            return a.kind.value.replace("_", " ")
        if column == self.CONTEXT:
            return self._where(a)
        if column == self.FLUSH_ID:
            return "" if a.flush_id is None else str(a.flush_id)
        if column == self.COUNT:
            return str(len(a.frames))
        if column == self.MESSAGE:
            return a.message
        return None

    def _tooltip(self, row: int, column: int) -> Any:
        a = self._rows[row]
        if column == self.MESSAGE:
            return a.message
        if column == self.COUNT and a.frames:
            shown = ", ".join(str(f) for f in a.frames[:20])
            return f"frames {shown}" + (" …" if len(a.frames) > 20 else "")
        return None

    def _alignment(self, row: int, column: int) -> Any:
        return _RIGHT if column in (self.FLUSH_ID, self.COUNT) else None

    def _decoration(self, row: int, column: int) -> Any:
        if column != self.SEVERITY:
            return None
        severity = self._rows[row].severity
        icon = self._icons.get(severity)
        if icon is None:
            icon = self._icons[severity] = QApplication.style().standardIcon(_SEVERITY_ICON[severity])
        return icon

    def sort_key(self, row: int, column: int) -> Any:
        a = self._rows[row]
        if column == self.SEVERITY:
            return _SEVERITY_RANK[a.severity]
        if column == self.COUNT:
            return len(a.frames)
        if column == self.FLUSH_ID:
            return a.flush_id
        if column == self.CONTEXT:
            return a.context_number
        return self._display(row, column)

    def _anomaly(self, row: int, column: int) -> Anomaly:
        return self._rows[row]
