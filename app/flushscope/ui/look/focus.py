"""A focus ring that shows in both themes: where keys go must be visible at a glance.

Fusion draws focus in a shade of the palette's highlight that vanishes on a dark background (and, for a
table or a text box, not at all). :class:`FocusStyle` wraps the style in use and draws one ring, in
:func:`focus_colour`, around whatever has the keyboard focus: buttons, check boxes, tabs, fields, combo
boxes, tables and text boxes. Custom-painted widgets (the timeline) call :func:`paint_focus_ring`.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QProxyStyle,
    QStyle,
    QStyleOption,
    QStyleOptionComplex,
    QWidget,
)

from flushscope.ui.look.palette import is_dark

#: The ring's width in pixels.
RING = 2


def focus_colour(palette: QPalette) -> QColor:
    """A blue that stands out on the theme's background (and from its selection colour)."""
    return QColor("#6cb6ff" if is_dark(palette) else "#1565c0")


def paint_focus_ring(painter: QPainter, rect: QRect, palette: QPalette) -> None:
    """A ring just inside ``rect``."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(focus_colour(palette), RING))
    half = RING / 2
    painter.drawRect(QRectF(rect).adjusted(half, half, -half, -half))
    painter.restore()


_RINGED_CONTROLS = (QStyle.ComplexControl.CC_ComboBox, QStyle.ComplexControl.CC_SpinBox)
# Looked up once: every primitive of every paint (each cell of a table) goes through drawPrimitive.
_FOCUS_RECT = QStyle.PrimitiveElement.PE_FrameFocusRect
_LINE_EDIT = QStyle.PrimitiveElement.PE_FrameLineEdit
_FRAME = QStyle.PrimitiveElement.PE_Frame
_HAS_FOCUS = QStyle.StateFlag.State_HasFocus


class FocusStyle(QProxyStyle):
    """The style in use, with :func:`paint_focus_ring` wherever it would draw focus its own way."""

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        if element is _FOCUS_RECT:
            rect = option.rect
            if rect.width() > 2 * RING and rect.height() > 2 * RING:
                paint_focus_ring(painter, rect, option.palette)
            return
        super().drawPrimitive(element, option, painter, widget)
        # Identity first: the state is only looked at for the two frames that get a ring.
        if (element is _LINE_EDIT or (element is _FRAME and isinstance(widget, QAbstractScrollArea))) and (
            option.state & _HAS_FOCUS
        ):
            paint_focus_ring(painter, option.rect, option.palette)

    def drawComplexControl(
        self,
        control: QStyle.ComplexControl,
        option: QStyleOptionComplex,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawComplexControl(control, option, painter, widget)
        if control in _RINGED_CONTROLS and option.state & QStyle.StateFlag.State_HasFocus:
            paint_focus_ring(painter, option.rect, option.palette)
