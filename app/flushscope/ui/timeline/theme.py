"""The timeline's colours for a palette, with every tint mixed opaque up front."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette

from flushscope.ui.look.palette import error_colour, flush_colours, is_dark, warning_colour


@dataclass(frozen=True)
class Theme:
    """The timeline's colours for one palette: every tint mixed opaque, the flush_id colours, and those of
    warnings and errors."""

    dark: bool
    base: QColor
    stripe: QColor
    window: QColor
    text: QColor
    faint: QColor
    grid: QColor
    highlight: QColor
    blocks: list[QColor]
    error: QColor
    warning: QColor


def mix(a: QColor, b: QColor, weight: float) -> QColor:
    """``weight`` of ``a`` over ``b``, opaque."""
    return QColor.fromRgbF(
        a.redF() * weight + b.redF() * (1 - weight),
        a.greenF() * weight + b.greenF() * (1 - weight),
        a.blueF() * weight + b.blueF() * (1 - weight),
    )


def theme_for(pal: QPalette) -> Theme:
    dark = is_dark(pal)
    text = pal.color(QPalette.ColorRole.Text)
    base = pal.color(QPalette.ColorRole.Base)
    # Tints are mixed here rather than drawn with alpha: translucent fills of thin shapes (grid
    # lines, ticks) are many times slower for Qt's raster engine than opaque ones.
    faint = mix(text, base, 0.55)
    grid = mix(text, base, 0.13)
    stripe = mix(text, base, 0.035)
    return Theme(
        dark,
        base,
        stripe,
        pal.color(QPalette.ColorRole.Window),
        text,
        faint,
        grid,
        pal.color(QPalette.ColorRole.Highlight),
        flush_colours(dark),
        error_colour(dark),
        warning_colour(dark),
    )
