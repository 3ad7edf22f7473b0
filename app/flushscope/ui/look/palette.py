"""Colours shared by the views: one categorical colour per flush_id, and the light/dark theme test.

Segments are told apart by colour everywhere (timeline blocks, table swatches), so the mapping is fixed:
``flush_id mod 8`` picks one of the Okabe–Ito colours, which stay distinct under the common forms of colour
blindness. Two slots are adjusted per theme so that every block keeps its contrast: the neutral slot is
near-black on a light background and near-white on a dark one, and the yellow is deepened on light
backgrounds (pure Okabe–Ito yellow is almost invisible on white).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

# Index = flush_id mod 8. Under the documented numbering the first segments get blue, orange, green:
# neighbours are always far apart in hue.
_LIGHT: tuple[str, ...] = (
    "#3b3b3b",  # neutral (Okabe–Ito black, softened)
    "#0072b2",  # blue
    "#e69f00",  # orange
    "#009e73",  # bluish green
    "#cc79a7",  # reddish purple
    "#56b4e9",  # sky blue
    "#d55e00",  # vermillion
    "#d9c700",  # yellow, deepened for white backgrounds
)
_DARK: tuple[str, ...] = (
    "#d8d8d8",  # neutral, light on dark
    "#2f8fd6",  # blue, lifted: Okabe–Ito blue is dim on near-black
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#56b4e9",
    "#d55e00",
    "#f0e442",
)

FLUSH_COLOUR_COUNT = len(_LIGHT)

#: Marker colours for findings: errors and warnings (shapes tell them apart too).
ERROR_COLOUR = {"light": "#c8102e", "dark": "#ff5c5c"}
WARNING_COLOUR = {"light": "#b36b00", "dark": "#ffb000"}


def is_dark(palette: QPalette) -> bool:
    """Whether the palette draws light text on a dark background."""
    return (
        palette.color(QPalette.ColorRole.Window).lightnessF()
        < palette.color(QPalette.ColorRole.WindowText).lightnessF()
    )


def colour_index(flush_id: int) -> int:
    """The slot of a flush_id in the categorical palette (stable for the life of the session)."""
    return flush_id % FLUSH_COLOUR_COUNT


def flush_colours(dark: bool) -> list[QColor]:
    """The categorical palette for a theme, indexed by :func:`colour_index`."""
    return [QColor(c) for c in (_DARK if dark else _LIGHT)]


def flush_colour(flush_id: int, dark: bool) -> QColor:
    """The colour of a segment's blocks and swatches."""
    return QColor((_DARK if dark else _LIGHT)[colour_index(flush_id)])


def text_on(colour: QColor) -> QColor:
    """Black or white, whichever reads better on ``colour`` (labels drawn over blocks)."""
    r, g, b = colour.redF(), colour.greenF(), colour.blueF()
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return QColor("#000000") if luminance > 0.45 else QColor("#ffffff")


def error_colour(dark: bool) -> QColor:
    return QColor(ERROR_COLOUR["dark" if dark else "light"])


def warning_colour(dark: bool) -> QColor:
    return QColor(WARNING_COLOUR["dark" if dark else "light"])
