"""A dataset's summary above its calls: two lines of totals, then three small tables side by side (findings
by kind, time to first audio by model and voice, and by client), a few rows each, the rest in a tooltip.

The texts come from capture files (an app's User-Agent, a model or voice it asked for): every one is escaped
before it goes into the labels' rich text.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from flushscope.ui.look.palette import ERROR_COLOUR, WARNING_COLOUR, is_dark
from flushscope.ui.tables.calls import MISSING, OWN_CLIENT

if TYPE_CHECKING:
    from flushscope.dataset.summary import KindRate, Latency, PeriodSummary, Totals

#: Rows a small table shows; the others are counted under it, and listed in its tooltip.
ROWS: Final = 5
#: Room for a name in a small table (a client, a model, a kind) before it is shortened.
NAME: Final = 30
#: A voice id (a UUID) is shown by its first characters.
VOICE: Final = 8


def short(text: str, width: int = NAME) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def group_name(group: tuple[str | None, ...]) -> str:
    """A model and voice (the voice id shortened; ``-`` for one nobody sent), or a client."""
    if len(group) == 2:
        model, voice = group
        shown = voice if voice is None or len(voice) <= VOICE + 4 else voice[:VOICE] + "…"
        return f"{model or '-'} · {shown or '-'}"
    (client,) = group
    return OWN_CLIENT if client is None else client


def ms(value: float | None) -> str:
    return MISSING if value is None else f"{value:.0f}"


def share(part: int, whole: int) -> str:
    return f"{part:,} ({100 * part / whole:.0f}%)" if whole else f"{part:,}"


class _Colours:
    """The colours of the summary's rich text, from the palette it is shown with."""

    def __init__(self, palette: QPalette) -> None:
        theme = "dark" if is_dark(palette) else "light"
        self.muted = palette.color(QPalette.ColorRole.PlaceholderText).name()
        self.severity = {"error": ERROR_COLOUR[theme], "warning": WARNING_COLOUR[theme]}


def _cell(text: str, right: bool = False, colour: str | None = None) -> str:
    style = "padding: 0 6px 0 0; white-space: nowrap;" + (f" color: {colour};" if colour else "")
    return f'<td style="{style}"{" align=right" if right else ""}>{escape(text)}</td>'


def _table(head: Sequence[str], rows: Sequence[str], colours: _Colours, limit: int | None = ROWS) -> str:
    """An HTML table: a muted header of ``head`` (numbers from the second column on, right-aligned) and
    ``rows`` (each ``<tr>`` already), cut at ``limit`` with a line that counts the rest."""
    header = "".join(_cell(h, right=i > 0, colour=colours.muted) for i, h in enumerate(head))
    shown = list(rows if limit is None else rows[:limit])
    if limit is not None and len(rows) > limit:
        more = f"… and {len(rows) - limit} more (hover to see them all)"
        shown.append(f'<tr><td colspan={len(head)} style="color: {colours.muted};">{escape(more)}</td></tr>')
    return f"<table cellspacing=0 cellpadding=1><tr>{header}</tr>{''.join(shown)}</table>"


def _b(text: str) -> str:
    return f"<b>{escape(text)}</b>"


def audio_text(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.1f} s"


def totals_html(totals: Totals, first_audio: Latency, colours: _Colours) -> str:
    """Two lines: how much the dataset holds, then its problems and time to first audio."""
    if not totals.calls:
        return "This dataset holds no calls yet: build it from a folder of captures."
    first, last = totals.first_started, totals.last_started
    when = ""
    if first is not None and last is not None:
        end = f"{last:%H:%M}" if last.date() == first.date() else f"{last:%Y-%m-%d %H:%M}"
        when = f" · started {first:%Y-%m-%d %H:%M} to {end} UTC"
    line1 = (
        f"{_b(f'{totals.calls:,}')} {'call' if totals.calls == 1 else 'calls'} in "
        f"{_b(f'{totals.captures:,}')} {'capture' if totals.captures == 1 else 'captures'} · "
        f"{_b(f'{totals.contexts:,}')} contexts · {_b(f'{totals.segments:,}')} segments · "
        f"{_b(audio_text(totals.audio_seconds))} of audio{escape(when)}"
    )
    problems = share(totals.calls_with_problems, totals.calls)
    cuts = share(totals.calls_with_word_cuts, totals.calls)
    alarm = colours.severity["error"] if totals.calls_with_problems else None
    problem_text = f'<span style="color: {alarm};">{_b(problems)}</span>' if alarm else _b(problems)
    line2 = (
        f"Calls with problems: {problem_text} · with a cut word: {_b(cuts)} · time to first audio "
        f"p50 {_b(ms(first_audio.p50_ms))} · p95 {_b(ms(first_audio.p95_ms))} · "
        f"p99 {_b(ms(first_audio.p99_ms))} ms"
    )
    return f"{line1}<br>{line2}"


def kinds_rows(period: PeriodSummary, colours: _Colours) -> list[str]:
    """Anomalies, then lints, then boundary flags: each kind with the calls that had it and how often."""
    rows = []
    kinds: list[tuple[str, KindRate]] = [
        *((rate.severity or "anomaly", rate) for rate in period.anomalies),
        *(("lint", rate) for rate in period.lints),
        *(("flag", rate) for rate in period.boundary_flags),
    ]
    for what, rate in kinds:
        calls = f"{rate.calls:,} ({100 * rate.rate:.0f}%)"
        rows.append(
            "<tr>"
            + _cell(short(rate.kind.replace("_", " ")))
            + _cell(what, colour=colours.severity.get(what, colours.muted))
            + _cell(calls, right=True)
            + _cell(f"{rate.found:,}", right=True)
            + "</tr>"
        )
    return rows


def latency_rows(rows: Sequence[Latency]) -> list[str]:
    return [
        "<tr>"
        + _cell(short(group_name(r.group)))
        + "".join(
            _cell(text, right=True) for text in (f"{r.segments:,}", ms(r.p50_ms), ms(r.p95_ms), ms(r.p99_ms))
        )
        + "</tr>"
        for r in rows
    ]


class DatasetSummary(QWidget):
    """The summary of a dataset's period (:meth:`show_period`), or a line in its place (:meth:`clear`)."""

    KINDS_HEAD: Final = ("kind", "", "calls", "found")
    LATENCY_HEAD: Final = ("", "segments", "p50", "p95", "p99")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._period: PeriodSummary | None = None
        self.totals = self._label()
        self.totals.setWordWrap(True)
        self.kinds = self._label()
        self.by_model_voice = self._label()
        self.by_client = self._label()
        self._titles = [
            QLabel("<b>Anomalies, lints and flags by kind</b>", self),
            QLabel("<b>Time to first audio (ms) by model · voice</b>", self),
            QLabel("<b>… by client</b>", self),
        ]
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(2)
        for column, (title, body) in enumerate(
            zip(self._titles, (self.kinds, self.by_model_voice, self.by_client), strict=True)
        ):
            grid.addWidget(title, 0, column)
            grid.addWidget(body, 1, column)
        grid.setColumnStretch(3, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.totals)
        layout.addLayout(grid)
        self.clear("")

    def _label(self) -> QLabel:
        label = QLabel(self)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def clear(self, text: str) -> None:
        """No summary: ``text`` (plain) in its place."""
        self._period = None
        self.totals.setText(escape(text))
        for label in (self.kinds, self.by_model_voice, self.by_client, *self._titles):
            label.hide()

    def show_period(self, period: PeriodSummary) -> None:
        """Show the summary of ``period``."""
        self._period = period
        colours = _Colours(self.palette())
        self.totals.setText(totals_html(period.totals, period.first_audio, colours))
        has_calls = period.totals.calls > 0
        for label in (self.kinds, self.by_model_voice, self.by_client, *self._titles):
            label.setVisible(has_calls)
        kinds = kinds_rows(period, colours)
        self._fill(self.kinds, self.KINDS_HEAD, kinds, colours, "none found")
        for label, rows in ((self.by_model_voice, period.by_model_voice), (self.by_client, period.by_client)):
            self._fill(label, self.LATENCY_HEAD, latency_rows(rows), colours, "no segment with audio")

    def _fill(
        self, label: QLabel, head: Sequence[str], rows: list[str], colours: _Colours, none: str
    ) -> None:
        if not rows:
            label.setText(f'<span style="color: {colours.muted};">{escape(none)}</span>')
            label.setToolTip("")
            return
        label.setText(_table(head, rows, colours))
        label.setToolTip(_table(head, rows, colours, limit=None) if len(rows) > ROWS else "")

    def changeEvent(self, event: QEvent) -> None:
        # The colours of the rich text follow the palette.
        if event.type() == QEvent.Type.PaletteChange and self._period is not None:
            self.show_period(self._period)
        super().changeEvent(event)
