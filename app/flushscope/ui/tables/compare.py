"""The comparison table: one row per flush strategy, with the figures that tell them apart."""

from __future__ import annotations

from typing import Any, ClassVar

from flushscope.core.analysis.compare import CompareResult, StrategyResult
from flushscope.ui.tables.base import _RIGHT
from flushscope.ui.tables.result_rows import _ItemsModel


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.0f} ms"


class CompareModel(_ItemsModel):
    """The strategies of one comparison, in the order they ran; a new comparison replaces them all."""

    STRATEGY, STATE, SEGMENTS, FIRST_AUDIO, TOTAL, AUDIO, OUTLIERS, LINTS = range(8)
    HEADERS = ("strategy", "state", "segments", "first audio", "total", "audio", "outliers", "lints")
    HEADER_TIPS: ClassVar[dict[int, str]] = {
        FIRST_AUDIO: "From the context's first input to its first audio",
        TOTAL: "From the context's first input to its done (or its last chunk without one)",
        OUTLIERS: "Flush boundaries that stand out (a cut word, a long pause, a level step, a late segment)",
        LINTS: "Advice on what the strategy sent",
    }

    def set_result(self, result: CompareResult | None) -> None:
        """Show this comparison's strategies (none: empty)."""
        self.set_items(result.strategies if result is not None else ())

    def strategy(self, row: int) -> StrategyResult:
        strategy: StrategyResult = self._rows[row]
        return strategy

    def _display(self, s: StrategyResult, column: int) -> Any:
        if column == self.STRATEGY:
            return s.name
        if column == self.STATE:
            return s.state if s.complete or s.state == "not run" else f"{s.state} (incomplete)"
        if column == self.SEGMENTS:
            return str(len(s.segments))
        if column == self.FIRST_AUDIO:
            return _ms(s.ttfa_ms)
        if column == self.TOTAL:
            return _ms(s.total_ms)
        if column == self.AUDIO:
            return f"{s.audio_seconds:.2f} s"
        if column == self.OUTLIERS:
            return str(sum(1 for b in s.boundaries if b.outlier))
        if column == self.LINTS:
            return str(len(s.lints))
        return None

    def _tooltip(self, s: StrategyResult, column: int) -> Any:
        if column == self.STRATEGY:
            return " | ".join(piece.strip() for piece in s.pieces)
        if column == self.OUTLIERS:
            return "\n".join(flag.reason for b in s.boundaries for flag in b.flags) or None
        if column == self.LINTS:
            return "\n".join(f"[{lint.id.value}] {lint.message}" for lint in s.lints) or None
        if column == self.STATE and s.anomalies:
            return "anomalies: " + ", ".join(s.anomalies)
        return None

    def _alignment(self, s: StrategyResult, column: int) -> Any:
        return _RIGHT if column >= self.SEGMENTS else None

    def sort_key(self, s: StrategyResult, column: int) -> Any:
        if column == self.FIRST_AUDIO:
            return s.ttfa_ms
        if column == self.TOTAL:
            return s.total_ms
        if column == self.AUDIO:
            return s.audio_seconds
        if column in (self.SEGMENTS, self.OUTLIERS, self.LINTS):
            return int(self._display(s, column))
        return self._display(s, column)
