"""The strategy comparison window: one text cut by two or more flush strategies, each spoken as its own
context on the current target, shown one above the other from each context's first send.

The run goes through :func:`flushscope.net.comparison.compare_into` (and so
:func:`flushscope.core.analysis.compare.run_compare`) on a connection and a session of its own: the live session
is not mixed with it. The target is the one the live session is connected to, or, when it is not connected,
an embedded emulator started for the run with the live session's emulator settings. The generation settings
are the composer's.

Below the timeline: a row of figures per strategy, and buttons that play each version whole or one
sentence of the text in each version (the span of the context's audio its words' timestamps give), through
the window's :class:`~flushscope.ui.controllers.playback.PlaybackController`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from flushscope.core.analysis.compare import CompareResult, StrategyResult
from flushscope.core.analysis.sentence_spans import Sentence, sentence_span, sentences
from flushscope.core.inputs.generation_settings import GenerationSettings, SettingsError
from flushscope.core.inputs.strategies import StrategyError, plan_strategies
from flushscope.core.model.records import Context
from flushscope.core.model.session import Session
from flushscope.net.client import ClientError, Target
from flushscope.net.comparison import compare_into
from flushscope.net.live import LiveSession
from flushscope.tasks import OwnedTasks
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.controllers.playback import PlaybackController
from flushscope.ui.look.wording import sentence
from flushscope.ui.panels.table_view import sorted_table
from flushscope.ui.tables import CompareModel
from flushscope.ui.timeline import AxisMode, TimelineView

#: What the text box holds when the window opens: three sentences with clauses, so that every strategy
#: cuts it differently.
SAMPLE_TEXT: Final = (
    "Hello there, and welcome back. Today we will look at how a text is cut before it is spoken, "
    "and what each cut sounds like. Listen closely to the joins."
)


#: What the timeline says before the first run.
EMPTY_TEXT: Final = (
    "Pick two or more strategies and press Run: each one is spoken here as a context of its own."
)


class CompareView(QWidget):
    """A window that compares flush strategies on the current target (see the module docstring)."""

    status = Signal(str)
    """What the window is doing or why it cannot, in words."""
    finished = Signal(object)
    """A comparison ended: its :class:`~flushscope.core.analysis.compare.CompareResult`, or None if it failed."""

    def __init__(
        self,
        live: LiveSession,
        settings: Callable[[], GenerationSettings],
        playback: PlaybackController,
        parent: QWidget | None = None,
        *,
        timeout: float = 60.0,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Compare flush strategies — flushscope")
        self._live = live
        self._settings = settings
        self._playback = playback
        self.timeout = timeout
        self.tasks = OwnedTasks(lambda exc: self._say(sentence(str(exc))), (ClientError,))
        self.session = Session()
        self.bridge = SessionBridge(self.session, self)
        self.selection = Selection(self)
        #: The last comparison, and the text it spoke.
        self.result: CompareResult | None = None
        self._text = ""
        self._sentences: list[Sentence] = []
        self._running = False

        self.text_edit = QPlainTextEdit(self)
        self.text_edit.setPlaceholderText("The text to speak, cut by each strategy")
        self.text_edit.setPlainText(SAMPLE_TEXT)
        self.text_edit.setFixedHeight(self.text_edit.fontMetrics().lineSpacing() * 4 + 12)
        self.sentence_check = QCheckBox("sentence", self)
        self.sentence_check.setToolTip("Flush after every sentence")
        self.punctuation_check = QCheckBox("punctuation", self)
        self.punctuation_check.setToolTip("Flush after every clause or sentence punctuation")
        self.one_check = QCheckBox("one", self)
        self.one_check.setToolTip("The whole text as one segment")
        self.words_check = QCheckBox("words =", self)
        self.words_check.setToolTip("Flush after every N words")
        self.words_spin = QSpinBox(self)
        self.words_spin.setRange(1, 999)
        self.words_spin.setValue(4)
        self.custom_check = QCheckBox("custom:", self)
        self.custom_check.setToolTip("The text with | where it is to be cut")
        self.custom_edit = QLineEdit(self)
        self.custom_edit.setPlaceholderText("Hello there, and welcome back.|Today we will …")
        self.custom_edit.textEdited.connect(lambda text: self.custom_check.setChecked(bool(text.strip())))
        for check in (self.sentence_check, self.punctuation_check, self.words_check):
            check.setChecked(True)
        self.target_label = QLabel(self)
        self.target_label.setTextFormat(Qt.TextFormat.PlainText)
        self.run_button = QPushButton("Run", self)
        self.run_button.setDefault(True)
        self.run_button.setToolTip("Speak the text once per strategy, one context after another")
        self.state_label = QLabel(self)
        self.state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.state_label.setWordWrap(True)

        self.timeline = TimelineView(self.bridge, self.selection)
        self.timeline.set_axis_mode(AxisMode.SINCE_SEND)
        self.timeline.set_empty_text(EMPTY_TEXT)
        self.model = CompareModel(self)
        m = CompareModel
        self.proxy, self.table = sorted_table(
            self,
            self.model,
            {
                m.STRATEGY: "punctuation",
                m.STATE: "ending (late)",
                m.SEGMENTS: "segments",
                m.FIRST_AUDIO: "first audio",
                m.TOTAL: "00000 ms",
                m.AUDIO: "000.00 s",
                m.OUTLIERS: "outliers",
            },
            selection=QAbstractItemView.SelectionMode.NoSelection,
        )
        self.sentence_combo = QComboBox(self)
        self.sentence_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.sentence_combo.setMinimumContentsLength(24)
        self.sentence_combo.setToolTip("The sentence the Sentence buttons play, in each version")
        self.play_panel = QWidget(self)
        self._play_grid = QGridLayout(self.play_panel)
        self._play_grid.setContentsMargins(0, 0, 0, 0)
        #: Per strategy name: its "whole" and its "sentence" button.
        self.play_buttons: dict[str, tuple[QPushButton, QPushButton]] = {}
        self._lay_out()

        self.run_button.clicked.connect(self.start)
        playback.playheadMoved.connect(self.timeline.set_playhead)
        self.show_target()
        self._say("Pick two or more strategies and run them.")

    def _lay_out(self) -> None:
        strategies = QHBoxLayout()
        strategies.addWidget(QLabel("Strategies:", self))
        for widget in (self.sentence_check, self.punctuation_check, self.one_check):
            strategies.addWidget(widget)
        strategies.addSpacing(8)
        strategies.addWidget(self.words_check)
        strategies.addWidget(self.words_spin)
        strategies.addSpacing(8)
        strategies.addWidget(self.custom_check)
        strategies.addWidget(self.custom_edit, 1)
        run_row = QHBoxLayout()
        run_row.addWidget(self.target_label, 1)
        run_row.addWidget(self.run_button)

        play_box = QWidget(self)
        play_layout = QVBoxLayout(play_box)
        play_layout.setContentsMargins(8, 0, 0, 0)
        play_layout.addWidget(QLabel("Play a sentence:", self))
        play_layout.addWidget(self.sentence_combo)
        play_layout.addWidget(self.play_panel)
        play_layout.addStretch(1)
        bottom = QWidget(self)
        bottom_layout = QHBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.table, 3)
        bottom_layout.addWidget(play_box, 2)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.timeline)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([380, 240])

        layout = QVBoxLayout(self)
        layout.addWidget(self.text_edit)
        layout.addLayout(strategies)
        layout.addLayout(run_row)
        layout.addWidget(self.state_label)
        layout.addWidget(splitter, 1)

    # --- what runs where ----------------------------------------------------------------------------

    def target(self) -> Target | None:
        """The live session's target while it is connected; None: an embedded emulator of the run's own."""
        client = self._live.client
        return client.target if client is not None and client.connected else None

    def show_target(self) -> None:
        """Say where the next run goes."""
        target = self.target()
        where = target.display_url if target is not None else "an embedded emulator started for the run"
        self.target_label.setText(f"Runs on {where}, on a connection of its own")

    def strategies(self) -> list[str]:
        """The strategies ticked, as the command line writes them. StrategyError for an unusable custom
        split."""
        specs = [
            name
            for name, check in (
                ("sentence", self.sentence_check),
                ("punctuation", self.punctuation_check),
                ("one", self.one_check),
            )
            if check.isChecked()
        ]
        if self.words_check.isChecked():
            specs.append(f"words={self.words_spin.value()}")
        if self.custom_check.isChecked():
            custom = self.custom_edit.text()
            if "|" not in custom:
                raise StrategyError("a custom split needs | where the text is to be cut")
            specs.append(custom)
        return specs

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Run the comparison (the Run button)."""
        if not self._running:
            self.tasks.spawn(self.run(), "compare strategies")

    async def run(self) -> CompareResult | None:
        """Speak the text with every strategy ticked and show the result; None, with the reason said, when
        the input is unusable or the target cannot be reached."""
        text = self.text_edit.toPlainText()
        try:
            specs = self.strategies()
            if len(specs) < 2:
                raise StrategyError("tick two or more strategies to compare")
            plans = plan_strategies(text, specs)
            settings = self._settings()
        except (StrategyError, SettingsError) as exc:
            self._say(sentence(str(exc)))
            self.finished.emit(None)
            return None
        self.show_target()
        target = self.target()
        self.session = Session()
        self.bridge.set_session(self.session)
        self.model.set_result(None)
        self._clear_play_panel()
        self.timeline.set_follow(True)
        self._set_running(True)
        where = target.display_url if target is not None else "an embedded emulator"
        self._say(f"Speaking {len(plans)} versions on {where}, one after another…")
        try:
            result = await compare_into(
                self.session, text, plans, settings, target, self._live.emulator_config, timeout=self.timeout
            )
        except ClientError as exc:
            self._say(f"Cannot compare: {exc}")
            self.finished.emit(None)
            return None
        finally:
            self._set_running(False)
        self.show_result(result)
        self.finished.emit(result)
        return result

    def _set_running(self, running: bool) -> None:
        self._running = running
        self.run_button.setEnabled(not running)
        self.run_button.setText("Running…" if running else "Run")

    def show_result(self, result: CompareResult) -> None:
        """Show a comparison: its lanes from each first send, its figures, and its play buttons."""
        self.result = result
        self._text = result.text
        self.bridge.flush()
        self.model.set_result(result)
        self.timeline.set_analysis(
            [lint for s in result.strategies for lint in s.lints],
            [b for s in result.strategies for b in s.boundaries],
        )
        self.timeline.set_follow(False)
        self.timeline.fit_all()
        self._fill_play_panel(result)
        incomplete = [s.name for s in result.strategies if not s.complete]
        if incomplete:
            self._say(f"Done, but {', '.join(incomplete)} did not finish in time.")
        else:
            self._say(f"Done: {len(result.strategies)} versions of the text, aligned at each first send.")

    # --- playing ------------------------------------------------------------------------------------

    def context_of(self, strategy: StrategyResult) -> Context | None:
        """The context that spoke ``strategy`` in the comparison's session."""
        if strategy.context_id is None:
            return None
        return self.session.context(strategy.context_id)

    def _clear_play_panel(self) -> None:
        while self._play_grid.count():
            item = self._play_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.play_buttons = {}
        self.sentence_combo.clear()
        self._sentences = []

    def _fill_play_panel(self, result: CompareResult) -> None:
        self._clear_play_panel()
        self._sentences = sentences(result.text)
        for found in self._sentences:
            self.sentence_combo.addItem(found.text)
        for row, strategy in enumerate(result.strategies):
            ctx = self.context_of(strategy)
            name = QLabel(strategy.name, self.play_panel)
            name.setTextFormat(Qt.TextFormat.PlainText)
            whole = QPushButton("▶ Whole", self.play_panel)
            whole.setToolTip(f"Play everything {strategy.name} spoke")
            part = QPushButton("▶ Sentence", self.play_panel)
            has_audio = ctx is not None and ctx.total_bytes > 0
            has_words = ctx is not None and any(s.words for s in ctx.segments)
            whole.setEnabled(has_audio)
            part.setEnabled(has_audio and has_words and bool(self._sentences))
            part.setToolTip(
                f"Play the chosen sentence as {strategy.name} spoke it"
                if has_words
                else "No word timestamps came back: the sentence cannot be found in the audio"
            )
            whole.clicked.connect(lambda _checked=False, s=strategy: self.play_whole(s))
            part.clicked.connect(lambda _checked=False, s=strategy: self.play_sentence(s))
            self._play_grid.addWidget(name, row, 0)
            self._play_grid.addWidget(whole, row, 1)
            self._play_grid.addWidget(part, row, 2)
            self.play_buttons[strategy.name] = (whole, part)

    def play_whole(self, strategy: StrategyResult) -> bool:
        """Play everything ``strategy``'s context spoke."""
        ctx = self.context_of(strategy)
        if ctx is None:
            self._say(f"{strategy.name} did not run: nothing to play")
            return False
        return self._played(self._playback.play_context(ctx, audio=self.session.audio), strategy.name)

    def sentence_span(self, strategy: StrategyResult) -> tuple[float, float] | None:
        """Where the sentence chosen in the combo box sounds in ``strategy``'s audio, in seconds."""
        ctx = self.context_of(strategy)
        index = self.sentence_combo.currentIndex()
        if ctx is None or not 0 <= index < len(self._sentences):
            return None
        return sentence_span(ctx, self._text, self._sentences[index])

    def play_sentence(self, strategy: StrategyResult) -> bool:
        """Play the chosen sentence as ``strategy`` spoke it."""
        ctx = self.context_of(strategy)
        span = self.sentence_span(strategy)
        if ctx is None or span is None:
            self._say(f"The sentence cannot be found in what {strategy.name} spoke (no word timestamps)")
            return False
        return self._played(self._playback.play_context(ctx, *span, audio=self.session.audio), strategy.name)

    def _played(self, started: bool, name: str) -> bool:
        if not started:
            self._say(self._playback.why_not() or f"Cannot play {name}")
        return started

    # --- closing ------------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.state_label.setText(text)
        self.status.emit(text)

    async def aclose(self) -> None:
        """Stop a comparison still running (its connection and emulator close)."""
        await self.tasks.aclose()
