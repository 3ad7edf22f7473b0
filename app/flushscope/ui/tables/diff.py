"""The diff table: one row per difference between the session shown and another capture."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from flushscope.core.analysis.diff import Change, SessionDiff
from flushscope.ui.tables.base import _RIGHT
from flushscope.ui.tables.result_rows import _ItemsModel


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in value) or "(none)"
    return str(value)


def where(change: Change) -> str:
    """``context 2 segment 3``, ``context 2``, or ``session``."""
    if change.context is None:
        return "session"
    return f"context {change.context}" + (f" segment {change.segment}" if change.segment is not None else "")


class DiffModel(_ItemsModel):
    """The changes from the session shown (before) to the other capture (after), in the diff's order:
    differences of structure count, differences of timing or volume are shown for information."""

    KIND, WHERE, BEFORE, AFTER, COUNTED, MESSAGE = range(6)
    HEADERS = ("kind", "where", "shown", "other", "counts", "message")
    HEADER_TIPS: ClassVar[dict[int, str]] = {
        WHERE: "Contexts by the order of their first send, segments by their order in the context",
        BEFORE: "The value in the session shown",
        AFTER: "The value in the other capture",
        COUNTED: "Differences of structure count; chunk counts and audio lengths move with timing",
    }

    def set_diff(self, diff: SessionDiff | None) -> None:
        self.set_items(diff.changes if diff is not None else ())

    def change(self, row: int) -> Change:
        change: Change = self._rows[row]
        return change

    def _display(self, c: Change, column: int) -> Any:
        if column == self.KIND:
            return c.kind.value.replace("_", " ")
        if column == self.WHERE:
            return where(c)
        if column == self.BEFORE:
            return _value(c.before)
        if column == self.AFTER:
            return _value(c.after)
        if column == self.COUNTED:
            return "counted" if c.counted else "timing only"
        if column == self.MESSAGE:
            return c.message
        return None

    def _tooltip(self, c: Change, column: int) -> Any:
        if column in (self.BEFORE, self.AFTER, self.MESSAGE):
            return self._display(c, column)
        return None

    def _alignment(self, c: Change, column: int) -> Any:
        return (
            _RIGHT
            if column in (self.BEFORE, self.AFTER)
            and isinstance(c.before if column == self.BEFORE else c.after, int | float)
            else None
        )

    def sort_key(self, c: Change, column: int) -> Any:
        if column == self.WHERE:
            return (c.context or 0, c.segment or 0)
        if column == self.COUNTED:
            return int(not c.counted)
        return self._display(c, column)
