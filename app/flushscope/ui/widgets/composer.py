"""The composer: pick or start a context, set how it speaks, type a transcript, send it and flush.

A view only: its buttons show the window's actions (New context, Send, Flush, Send + Flush, End context,
Cancel), which the window enables and connects; it says what is typed and chosen, and is told which contexts
are open and whether a capture is shown (then nothing can be sent).
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flushscope.core.inputs.generation_settings import (
    ENCODINGS,
    MAX_BUFFER_DELAY_MS,
    SAMPLE_RATES,
    GenerationSettings,
    SettingsError,
)
from flushscope.ui.actions import ActionSet
from flushscope.ui.widgets.connection_bar import ElidedLabel

MODELS: Final = ("sonic-3", "sonic-2", "sonic-turbo")
HISTORY_LIMIT: Final = 1000
LANGUAGES: Final = ("en", "fr", "de", "es", "pt", "it", "nl", "pl", "ru", "sv", "tr", "zh", "ja", "ko", "hi")


class CollapsibleSection(QWidget):
    """A header button with an arrow that shows or hides its body; folded until clicked."""

    toggled = Signal(bool)
    """The body was shown (True) or hidden (False)."""

    def __init__(self, title: str, body: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.body = body
        self._expanded = False
        # Not a checkable button: a checked tool button draws sunken, which reads as "pressed", not "open".
        self.button = QToolButton(self)
        self.button.setText(title)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setArrowType(Qt.ArrowType.RightArrow)
        self.button.setAutoRaise(True)
        self.button.setToolTip(f"Show or hide the {title.lower()}")
        self.summary = ElidedLabel(self)
        self.summary.setMinimumWidth(0)  # the title keeps its words; the hint gives way
        self.summary.setEnabled(False)  # drawn in the palette's disabled text colour: a quiet hint
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)
        header.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(header)
        layout.addWidget(body)
        body.setVisible(False)
        self.button.clicked.connect(lambda: self.set_expanded(not self._expanded))

    def is_expanded(self) -> bool:
        return self._expanded

    def set_expanded(self, expanded: bool) -> None:
        if expanded == self._expanded:
            return
        self._expanded = expanded
        self.button.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        self.body.setVisible(expanded)
        self.summary.setVisible(not expanded)
        self.toggled.emit(expanded)


class SettingsForm(QFrame):
    """The generation settings of new contexts, checked by :class:`GenerationSettings`."""

    settingsChanged = Signal()
    """A field changed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        defaults = GenerationSettings()

        self.model = QComboBox(self)
        self.model.setEditable(True)
        self.model.addItems(MODELS)
        self.voice = QLineEdit(self)
        self.voice.setToolTip('A voice id, sent as {"mode": "id", "id": ...}')
        self.language = QComboBox(self)
        self.language.setEditable(True)
        self.language.addItems(LANGUAGES)
        self.encoding = QComboBox(self)
        self.encoding.addItems(ENCODINGS)
        self.sample_rate = QComboBox(self)
        for rate in SAMPLE_RATES:
            self.sample_rate.addItem(f"{rate} Hz", rate)
        self.word_timestamps = QCheckBox("Word timestamps", self)
        self.phoneme_timestamps = QCheckBox("Phoneme timestamps", self)
        self.buffer_delay = QSpinBox(self)
        self.buffer_delay.setRange(0, MAX_BUFFER_DELAY_MS)
        self.buffer_delay.setSingleStep(100)
        self.buffer_delay.setSuffix(" ms")
        self.buffer_delay.setToolTip("max_buffer_delay_ms: how long the server may wait for more text")
        self.speed = QDoubleSpinBox(self)
        self.speed.setRange(0.0, 3.0)
        self.speed.setSingleStep(0.05)
        self.speed.setDecimals(2)
        self.speed.setSpecialValueText("default")
        self.speed.setToolTip("generation_config.speed; 'default' leaves it out")

        form = QFormLayout(self)
        form.setContentsMargins(8, 8, 8, 8)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Model", self.model)
        form.addRow("Voice id", self.voice)
        form.addRow("Language", self.language)
        form.addRow("Encoding", self.encoding)
        form.addRow("Sample rate", self.sample_rate)
        form.addRow("", self.word_timestamps)
        form.addRow("", self.phoneme_timestamps)
        form.addRow("Buffer delay", self.buffer_delay)
        form.addRow("Speed", self.speed)
        note = QLabel("Applies to contexts created from now on.", self)
        note.setEnabled(False)
        note.setWordWrap(True)
        form.addRow(note)

        self.set_settings(defaults)
        for combo in (self.model, self.language, self.encoding, self.sample_rate):
            combo.currentTextChanged.connect(self.settingsChanged)
        self.voice.textChanged.connect(self.settingsChanged)
        self.word_timestamps.toggled.connect(self.settingsChanged)
        self.phoneme_timestamps.toggled.connect(self.settingsChanged)
        self.buffer_delay.valueChanged.connect(self.settingsChanged)
        self.speed.valueChanged.connect(self.settingsChanged)

    def set_settings(self, settings: GenerationSettings) -> None:
        self.model.setCurrentText(settings.model_id)
        self.voice.setText(settings.voice_id)
        self.voice.setCursorPosition(0)
        self.language.setCurrentText(settings.language)
        self.encoding.setCurrentText(settings.encoding)
        self.sample_rate.setCurrentIndex(max(0, self.sample_rate.findData(settings.sample_rate)))
        self.word_timestamps.setChecked(settings.add_timestamps)
        self.phoneme_timestamps.setChecked(settings.add_phoneme_timestamps)
        self.buffer_delay.setValue(settings.max_buffer_delay_ms)
        self.speed.setValue(settings.speed or 0.0)

    def settings(self) -> GenerationSettings:
        """The settings as entered; SettingsError says which field is wrong."""
        speed = self.speed.value()
        return GenerationSettings(
            model_id=self.model.currentText().strip(),
            voice_id=self.voice.text().strip(),
            language=self.language.currentText().strip(),
            encoding=self.encoding.currentText(),
            sample_rate=int(self.sample_rate.currentData()),
            add_timestamps=self.word_timestamps.isChecked(),
            add_phoneme_timestamps=self.phoneme_timestamps.isChecked(),
            max_buffer_delay_ms=self.buffer_delay.value(),
            speed=speed if speed > 0 else None,
        )

    def summary(self) -> str:
        """The settings in a few words, for the folded header."""
        try:
            s = self.settings()
        except SettingsError:
            return "check the settings"
        rate = f"{s.sample_rate / 1000:g} kHz"
        return f"{s.model_id} · {s.encoding.removeprefix('pcm_')} · {rate}"


class Composer(QWidget):
    """Context picker, generation settings (folded away), transcript box and the buttons of the composer's
    actions (``actions``: enabled by the window, only when they can work).
    """

    textChanged = Signal()
    """The transcript typed changed."""
    contextChanged = Signal()
    """The context the commands act on changed (:meth:`current_context`)."""
    contextSelected = Signal(str)
    """The user picked a context in the picker (its id)."""

    def __init__(self, actions: ActionSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._read_only = False
        self._context: str | None = None  # the context last said through contextChanged
        # A button that shows an action is a tool button, shorter than a push button: these keep the height
        # of push buttons, the composer's usual look.
        self._button_height = QPushButton("Send").sizeHint().height()

        self.context_combo = QComboBox(self)
        self.context_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.context_combo.setMinimumContentsLength(8)
        self.context_combo.setPlaceholderText("no open context")
        self.context_combo.setToolTip("The open context the buttons act on (newest first chosen)")
        self.new_button = self._button(actions.new_context, wide=False)

        self.settings_form = SettingsForm(self)
        self.settings_section = CollapsibleSection("Generation settings", self.settings_form, self)

        self.text_edit = QPlainTextEdit(self)
        self.text_edit.setPlaceholderText("Type a transcript…")
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setMinimumHeight(70)

        self.auto_flush = QCheckBox("Auto-flush after each send", self)
        self.auto_flush.setToolTip("Send becomes Send + Flush: every transcript is its own segment")

        self.send_button = self._button(actions.send)
        self.flush_button = self._button(actions.flush)
        self.send_flush_button = self._button(actions.send_flush)
        self.end_button = self._button(actions.end_context)
        self.cancel_button = self._button(actions.cancel_context)

        self.history = QListWidget(self)
        self.history.setUniformItemSizes(True)
        self.history.setWordWrap(False)
        self.history.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.history.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.history.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.history.setToolTip("What was sent, in order (typed or from a script)")
        self.history.setMinimumHeight(60)

        self.step_label = QLabel(self)
        self.step_label.setWordWrap(True)
        self.step_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.step_label.hide()

        context_row = QHBoxLayout()
        context_row.addWidget(self.context_combo, 1)
        context_row.addWidget(self.new_button)

        buttons = QGridLayout()
        buttons.setSpacing(4)
        buttons.addWidget(self.send_button, 0, 0)
        buttons.addWidget(self.flush_button, 0, 1)
        buttons.addWidget(self.send_flush_button, 1, 0, 1, 2)
        buttons.addWidget(self.end_button, 2, 0)
        buttons.addWidget(self.cancel_button, 2, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(_heading("Context", self))
        layout.addLayout(context_row)
        layout.addWidget(self.settings_section)
        layout.addWidget(_heading("Transcript", self))
        layout.addWidget(self.text_edit, 2)
        layout.addWidget(self.auto_flush)
        layout.addLayout(buttons)
        layout.addSpacing(4)
        layout.addWidget(_heading("Sent", self))
        layout.addWidget(self.history, 3)
        layout.addWidget(self.step_label)

        self.text_edit.textChanged.connect(self.textChanged)
        self.context_combo.activated.connect(self._context_activated)
        self.context_combo.currentIndexChanged.connect(self._context_changed)
        self.settings_form.settingsChanged.connect(self._update_summary)
        self._update_summary()
        self._update_picker()

    def _button(self, action: QAction, *, wide: bool = True) -> QToolButton:
        """A button that shows ``action`` (its text, tooltip, shortcut and whether it is enabled); ``wide``:
        as wide as the layout makes it."""
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setMinimumHeight(self._button_height)
        if wide:
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        return button

    # --- what the window tells it --------------------------------------------------------------------

    def set_read_only(self, read_only: bool) -> None:
        """A capture is shown: nothing can be typed (the window disables the commands)."""
        self._read_only = read_only
        self.text_edit.setReadOnly(read_only)
        self._update_picker()

    @property
    def read_only(self) -> bool:
        return self._read_only

    def set_contexts(self, contexts: list[tuple[str, str]], select: str | None = None) -> None:
        """The open contexts as (context_id, label), oldest first. Keeps the current choice if it is still
        there, else selects ``select``, else the newest."""
        current = select if select is not None else self.current_context()
        ids = [context_id for context_id, _ in contexts]
        if current not in ids:
            current = ids[-1] if ids else None
        existing = [
            (self.context_combo.itemData(i), self.context_combo.itemText(i))
            for i in range(self.context_combo.count())
        ]
        if existing != contexts:
            self.context_combo.blockSignals(True)
            self.context_combo.clear()
            for context_id, label in contexts:
                self.context_combo.addItem(label, context_id)
                self.context_combo.setItemData(
                    self.context_combo.count() - 1, context_id, Qt.ItemDataRole.ToolTipRole
                )
            self.context_combo.blockSignals(False)
        index = self.context_combo.findData(current) if current is not None else -1
        if index != self.context_combo.currentIndex():
            self.context_combo.setCurrentIndex(index)
        self._update_picker()
        # The list may have been replaced with the signals blocked: say the change here.
        self._context_changed()

    def current_context(self) -> str | None:
        data = self.context_combo.currentData()
        return data if isinstance(data, str) else None

    def settings(self) -> GenerationSettings:
        """The settings for a new context; SettingsError if a field is wrong."""
        return self.settings_form.settings()

    def text(self) -> str:
        return self.text_edit.toPlainText()

    def clear_text(self) -> None:
        self.text_edit.clear()

    def add_history(self, text: str) -> None:
        """One line in the list of what was sent (the oldest lines go beyond HISTORY_LIMIT)."""
        if self.history.count() >= HISTORY_LIMIT:
            self.history.takeItem(0)
        item = QListWidgetItem(text)
        item.setToolTip(text)
        self.history.addItem(item)
        self.history.scrollToBottom()

    def show_step(self, text: str) -> None:
        """What a playing script does now (empty hides it)."""
        self.step_label.setText(text)
        self.step_label.setVisible(bool(text))

    # --- internals -----------------------------------------------------------------------------------

    def _context_changed(self) -> None:
        context = self.current_context()
        if context != self._context:
            self._context = context
            self.contextChanged.emit()

    def _update_picker(self) -> None:
        self.context_combo.setEnabled(not self._read_only and self.context_combo.count() > 0)

    def _update_summary(self) -> None:
        self.settings_section.summary.set_full_text(self.settings_form.summary())

    def _context_activated(self, index: int) -> None:
        context_id = self.context_combo.itemData(index)
        if isinstance(context_id, str):
            self.contextSelected.emit(context_id)


def _heading(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label
