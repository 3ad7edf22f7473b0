"""The composer: pick or start a context, set how it speaks, type a transcript, send it and flush.

A view only: it says what the user asked for through signals and is told what is possible (connected,
which contexts are open). The window does the sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
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
from flushscope.ui.widgets.connection_bar import ElidedLabel

MODELS: Final = ("sonic-3", "sonic-2", "sonic-turbo")
HISTORY_LIMIT: Final = 1000
LANGUAGES: Final = ("en", "fr", "de", "es", "pt", "it", "nl", "pl", "ru", "sv", "tr", "zh", "ja", "ko", "hi")


@dataclass(frozen=True)
class ComposerAction:
    """A button of the composer: its label, shortcut and what it does, in words for the tooltip."""

    label: str
    shortcut: str
    help: str


ACTIONS: Final[dict[str, ComposerAction]] = {
    "new": ComposerAction("New context", "Ctrl+N", "Start a new context with the settings below"),
    "send": ComposerAction("Send", "Ctrl+Return", "Send the transcript (continue: true)"),
    "flush": ComposerAction("Flush", "Ctrl+Shift+F", "Manual flush: close the current segment"),
    "send_flush": ComposerAction("Send + Flush", "Ctrl+Shift+Return", "Send the transcript, then flush"),
    "end": ComposerAction("End context", "Ctrl+E", "The last input: empty transcript, continue: false"),
    "cancel": ComposerAction("Cancel", "Ctrl+Shift+X", "Cancel the context: stop its audio"),
}


def _tooltip(key: str) -> str:
    action = ACTIONS[key]
    shortcut = QKeySequence(action.shortcut).toString(QKeySequence.SequenceFormat.NativeText)
    return f"{action.help} ({shortcut})"


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

    changed = Signal()
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
            combo.currentTextChanged.connect(self.changed)
        self.voice.textChanged.connect(self.changed)
        self.word_timestamps.toggled.connect(self.changed)
        self.phoneme_timestamps.toggled.connect(self.changed)
        self.buffer_delay.valueChanged.connect(self.changed)
        self.speed.valueChanged.connect(self.changed)

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
    """Context picker, generation settings (folded away), transcript box and the send buttons.

    Buttons are enabled only when they can work: connected and not read-only; Flush, End and Cancel also
    need an open context selected; Send needs text (it starts a context when none is selected).
    """

    newContextRequested = Signal()
    """Start a new context with :meth:`settings`."""
    sendRequested = Signal(str)
    """Send this transcript to the selected context (flushing after it when auto-flush is on)."""
    sendFlushRequested = Signal(str)
    """Send this transcript, then flush."""
    flushRequested = Signal()
    """Flush the selected context."""
    endRequested = Signal()
    """End the selected context."""
    cancelRequested = Signal()
    """Cancel the selected context."""
    contextSelected = Signal(str)
    """The user picked a context in the picker (its id)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._connected = False
        self._read_only = False
        self._busy = False

        self.context_combo = QComboBox(self)
        self.context_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.context_combo.setMinimumContentsLength(12)
        self.context_combo.setPlaceholderText("no open context")
        self.context_combo.setToolTip("The open context the buttons act on (newest first chosen)")
        self.new_button = self._button("new")

        self.settings_form = SettingsForm(self)
        self.settings_section = CollapsibleSection("Generation settings", self.settings_form, self)

        self.text_edit = QPlainTextEdit(self)
        self.text_edit.setPlaceholderText("Type a transcript…")
        self.text_edit.setTabChangesFocus(True)
        self.text_edit.setMinimumHeight(70)

        self.auto_flush = QCheckBox("Auto-flush after each send", self)
        self.auto_flush.setToolTip("Send becomes Send + Flush: every transcript is its own segment")

        self.send_button = self._button("send")
        self.flush_button = self._button("flush")
        self.send_flush_button = self._button("send_flush")
        self.end_button = self._button("end")
        self.cancel_button = self._button("cancel")
        # Ctrl+Enter on the keypad too.
        QShortcut(QKeySequence("Ctrl+Enter"), self, self._click_send)

        self.history = QListWidget(self)
        self.history.setUniformItemSizes(True)
        self.history.setWordWrap(False)
        self.history.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.history.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.history.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.history.setToolTip("What was sent, in order (typed or from a script)")
        self.history.setMinimumHeight(60)

        self.note_label = QLabel(self)
        self.note_label.setWordWrap(True)
        self.note_label.setTextFormat(Qt.TextFormat.PlainText)
        self.note_label.hide()

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
        layout.addWidget(self.note_label)
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

        self.new_button.clicked.connect(self.newContextRequested)
        self.send_button.clicked.connect(self._send_clicked)
        self.send_flush_button.clicked.connect(self._send_flush_clicked)
        self.flush_button.clicked.connect(self.flushRequested)
        self.end_button.clicked.connect(self.endRequested)
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.text_edit.textChanged.connect(self._update_enabled)
        self.context_combo.activated.connect(self._context_activated)
        self.context_combo.currentIndexChanged.connect(self._update_enabled)
        self.settings_form.changed.connect(self._update_summary)
        self._update_summary()
        self._update_enabled()

    def _button(self, key: str) -> QPushButton:
        action = ACTIONS[key]
        button = QPushButton(action.label, self)
        button.setShortcut(QKeySequence(action.shortcut))
        button.setToolTip(_tooltip(key))
        button.setAutoDefault(False)
        return button

    # --- what the window tells it --------------------------------------------------------------------

    def set_connected(self, connected: bool) -> None:
        self._connected = connected
        self._update_enabled()

    def set_read_only(self, read_only: bool) -> None:
        """A capture is shown: nothing can be sent."""
        self._read_only = read_only
        self.text_edit.setReadOnly(read_only)
        self._update_enabled()

    def set_note(self, text: str) -> None:
        """Say why the composer cannot be used (empty hides the note)."""
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))
        self.setToolTip(text)

    def set_busy(self, busy: bool) -> None:
        """A script is playing: the buttons wait for it."""
        self._busy = busy
        self._update_enabled()

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
        self._update_enabled()

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

    def _can_act(self) -> bool:
        return self._connected and not self._read_only and not self._busy

    def _update_enabled(self) -> None:
        can = self._can_act()
        has_text = bool(self.text().strip())
        has_context = self.current_context() is not None
        self.new_button.setEnabled(can)
        self.send_button.setEnabled(can and has_text)
        self.send_flush_button.setEnabled(can and has_text)
        self.flush_button.setEnabled(can and has_context)
        self.end_button.setEnabled(can and has_context)
        self.cancel_button.setEnabled(can and has_context)
        self.context_combo.setEnabled(not self._read_only and self.context_combo.count() > 0)

    def _update_summary(self) -> None:
        self.settings_section.summary.set_full_text(self.settings_form.summary())

    def _click_send(self) -> None:
        if self.send_button.isEnabled():
            self.send_button.click()

    def _send_clicked(self) -> None:
        text = self.text()
        if not text.strip():
            return
        if self.auto_flush.isChecked():
            self.sendFlushRequested.emit(text)
        else:
            self.sendRequested.emit(text)

    def _send_flush_clicked(self) -> None:
        text = self.text()
        if text.strip():
            self.sendFlushRequested.emit(text)

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
