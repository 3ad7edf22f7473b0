"""Help > Keyboard shortcuts: every shortcut of the window, listed from the actions themselves (and the
timeline's own table of keys), so that the list says what the keys do today."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget


class ShortcutsDialog(QDialog):
    """The ``sections`` of :meth:`~flushscope.ui.actions.ActionSet.shortcuts`: keys, then what they do."""

    def __init__(
        self, sections: list[tuple[str, list[tuple[str, str]]]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts — flushscope")
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Keys", "What they do"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        for title, rows in sections:
            section = QTreeWidgetItem(self.tree, [title])
            font = section.font(0)
            font.setBold(True)
            section.setFont(0, font)
            section.setFirstColumnSpanned(True)
            for what, keys in rows:
                QTreeWidgetItem(section, [keys, what])
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)
        available = self.screen().availableGeometry()
        self.resize(min(640, available.width() - 40), min(620, available.height() - 60))

    def rows(self) -> list[tuple[str, str, str]]:
        """What the list shows: (section, keys, what they do), in order."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            section = self.tree.topLevelItem(i)
            assert section is not None
            for j in range(section.childCount()):
                child = section.child(j)
                assert child is not None
                out.append((section.text(0), child.text(0), child.text(1)))
        return out
