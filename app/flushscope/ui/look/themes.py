"""The window's colours: the platform's own look, or Fusion with a light or a dark palette; switched at start
(``--theme``, or the theme remembered) and from View > Theme while the window runs.

Whatever the theme, a Fusion style draws its focus through :class:`~flushscope.ui.look.focus.FocusStyle`,
so that where keys go shows in both palettes. The platform's style and palette are noted the first time a
theme is applied, so that "system" can go back to them later.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from flushscope.ui.look.focus import FocusStyle
from flushscope.ui.options import Theme

_SYSTEM_STYLE = "flushscope-system-style"
_SYSTEM_PALETTE: dict[int, QPalette] = {}


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style (used when the theme is forced dark)."""
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    palette = QPalette()
    colours = {
        role.Window: "#2b2d30",
        role.WindowText: "#e4e4e4",
        role.Base: "#1e1f22",
        role.AlternateBase: "#26282b",
        role.ToolTipBase: "#3c3f41",
        role.ToolTipText: "#e4e4e4",
        role.PlaceholderText: "#8a8d91",
        role.Text: "#e4e4e4",
        role.Button: "#3a3c40",
        role.ButtonText: "#e4e4e4",
        role.BrightText: "#ff6b6b",
        role.Light: "#4a4d52",
        role.Midlight: "#3f4246",
        role.Mid: "#2f3134",
        role.Dark: "#1b1c1e",
        role.Shadow: "#0e0e10",
        role.Highlight: "#2f6ea5",
        role.HighlightedText: "#ffffff",
        role.Link: "#56b4e9",
        role.LinkVisited: "#cc79a7",
    }
    for colour_role, colour in colours.items():
        palette.setColor(colour_role, QColor(colour))
    for colour_role in (role.WindowText, role.Text, role.ButtonText, role.HighlightedText):
        palette.setColor(group.Disabled, colour_role, QColor("#7c7f84"))
    palette.setColor(group.Disabled, role.Highlight, QColor("#3d4349"))
    return palette


def apply_theme(app: QApplication, theme: Theme) -> None:
    """``system``: the platform's style and palette (Qt follows the system's light or dark scheme);
    ``light`` and ``dark``: the Fusion style with a palette of that kind."""
    if app.property(_SYSTEM_STYLE) is None:
        app.setProperty(_SYSTEM_STYLE, app.style().name())
        _SYSTEM_PALETTE[0] = QPalette(app.palette())
    name = str(app.property(_SYSTEM_STYLE)) if theme is Theme.SYSTEM else "Fusion"
    style = QStyleFactory.create(name) or QStyleFactory.create("Fusion")
    if style.name().lower() == "fusion":
        # Native styles draw their own focus rings; Fusion's vanish on a dark palette.
        app.setStyle(FocusStyle(style))
    else:
        app.setStyle(style)
    hints = app.styleHints()
    if hasattr(hints, "setColorScheme"):  # Qt 6.8+: lets palette-aware code ask for the scheme
        if theme is Theme.SYSTEM:
            hints.unsetColorScheme()
        else:
            hints.setColorScheme(Qt.ColorScheme.Dark if theme is Theme.DARK else Qt.ColorScheme.Light)
    if theme is Theme.SYSTEM:
        app.setPalette(_SYSTEM_PALETTE[0])
    else:
        app.setPalette(dark_palette() if theme is Theme.DARK else app.style().standardPalette())
