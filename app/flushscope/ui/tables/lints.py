"""The lints table: one row per piece of advice on what the client sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QObject

from flushscope.core.analysis.lints import Lint, rule_text
from flushscope.ui.look.analysis_words import lint_words
from flushscope.ui.tables.analysis_rows import _ListedModel
from flushscope.ui.tables.base import _RIGHT, SORT_ROLE, context_label
from flushscope.ui.tables.result_rows import ITEM_ROLE

if TYPE_CHECKING:
    from flushscope.ui.controllers.analysis import AnalysisModel


class LintsModel(_ListedModel):
    """One row per lint of the session shown, in the order of their first frame; the advice (what to do)
    is in the message's tooltip and under :data:`ITEM_ROLE`."""

    ID, CONTEXT, FLUSH_ID, MESSAGE = range(4)
    HEADERS = ("lint", "context", "flush_id", "message")
    HEADER_TIPS: ClassVar[dict[int, str]] = {
        ID: "Which rule: hover over an id for the rule in full",
        FLUSH_ID: "The segment the advice is about, where there is one",
    }

    def __init__(self, analysis: AnalysisModel, parent: QObject | None = None) -> None:
        super().__init__(analysis, parent)
        self._roles[ITEM_ROLE] = self._row_item
        self._roles[SORT_ROLE] = self.sort_key

    def _source(self) -> Sequence[Lint]:
        return self._analysis.lints

    def lint(self, row: int) -> Lint:
        lint: Lint = self._rows[row]
        return lint

    def _where(self, lint: Lint) -> str:
        contexts = self.session.contexts
        number = lint.context_number
        if number is not None and 0 < number <= len(contexts):
            return context_label(contexts[number - 1])
        return lint.context_id

    def _display(self, row: int, column: int) -> Any:
        lint = self.lint(row)
        if column == self.ID:
            return lint.id.value
        if column == self.CONTEXT:
            return self._where(lint)
        if column == self.FLUSH_ID:
            return "" if lint.flush_id is None else str(lint.flush_id)
        if column == self.MESSAGE:
            return lint.message
        return None

    def _tooltip(self, row: int, column: int) -> Any:
        lint = self.lint(row)
        if column == self.ID:
            return rule_text(lint.id)
        if column == self.MESSAGE:
            return lint_words(lint)
        if column == self.CONTEXT:
            return lint.context_id
        return None

    def _alignment(self, row: int, column: int) -> Any:
        return _RIGHT if column == self.FLUSH_ID else None

    def connection_of(self, row: int) -> int | None:
        return int(self.item(row).conn)

    def sort_key(self, row: int, column: int) -> Any:
        lint = self.lint(row)
        if column == self.CONTEXT:
            return lint.context_number
        if column == self.FLUSH_ID:
            return lint.flush_id
        return self._display(row, column)
