"""The gutter left of the timeline's plot: each lane's label (context number, name or id, state and, for an
app recorded by the proxy, its connection and client), drawn into an image once and reused until one of them
changes. The whole of it is the lane's tooltip (:func:`~flushscope.ui.timeline.model.tooltips.describe_lane`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QImage, QPainter

from flushscope.core.model.records import Context, ContextState
from flushscope.ui.timeline.layout import Geometry
from flushscope.ui.timeline.model.lanes import Lane
from flushscope.ui.timeline.theme import Theme, mix


def paint_gutter(
    painter: QPainter,
    geo: Geometry,
    theme: Theme,
    font: QFont,
    lanes: range,
    all_lanes: Sequence[Lane],
    selected: Context | None,
    labels: dict[int, tuple[tuple[Any, ...], QImage]],
) -> None:
    """Label the lanes at indexes ``lanes``, reusing the images kept in ``labels`` (by lane index)."""
    gutter = QRect(0, geo.plot.top(), geo.gutter, geo.plot.height())
    painter.fillRect(gutter, theme.window)
    painter.setClipRect(gutter)
    for i in lanes:
        ctx = all_lanes[i].context
        key = (
            ctx.number,
            ctx.context_id,
            ctx.name,
            ctx.state,
            ctx.error,
            ctx.client,
            ctx is selected,
            geo.lane_h,
            geo.gutter,
        )
        cached = labels.get(i)
        if cached is None or cached[0] != key:
            cached = labels[i] = (
                key,
                _render_label(ctx, ctx is selected, i % 2 == 1, geo, theme, font),
            )
        painter.drawImage(QPoint(0, geo.lane_top(i)), cached[1])
    painter.setClipping(False)
    painter.fillRect(QRect(geo.gutter - 1, geo.plot.top(), 1, geo.plot.height()), theme.grid)


def _render_label(
    ctx: Context, selected: bool, odd: bool, geo: Geometry, theme: Theme, font: QFont
) -> QImage:
    """A lane's label (number, name or id, state, connection and client), drawn once and reused until one of
    them changes."""
    image = QImage(geo.gutter - 1, geo.lane_h, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(mix(theme.text, theme.window, 0.035) if odd else theme.window)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    fm = QFontMetrics(font)
    bold = QFont(font)
    bold.setBold(True)
    h = geo.lane_h
    rect = QRect(8, 0, geo.gutter - 14, h)
    if selected:
        painter.fillRect(QRect(0, 2, 4, h - 4), theme.highlight)
    state = ctx.state.value
    state_colour = theme.faint
    if ctx.state is ContextState.FAILED:
        state_colour = theme.error
    elif ctx.state is ContextState.CANCELLED:
        state_colour = theme.warning
    head = f"#{ctx.number}"
    head_w = QFontMetrics(bold).horizontalAdvance(head + " ")
    painter.setFont(bold)
    painter.setPen(theme.text)
    if h >= 2 * fm.height() + 6:
        line_h = fm.height()
        y0 = (h - 2 * line_h) // 2
        painter.drawText(QRect(rect.left(), y0, head_w, line_h), Qt.AlignmentFlag.AlignLeft, head)
        painter.setFont(font)
        ident = fm.elidedText(ctx.title, Qt.TextElideMode.ElideMiddle, rect.width() - head_w)
        painter.drawText(
            QRect(rect.left() + head_w, y0, rect.width() - head_w, line_h),
            Qt.AlignmentFlag.AlignLeft,
            ident,
        )
        painter.setPen(state_colour)
        painter.drawText(
            QRect(rect.left(), y0 + line_h, rect.width(), line_h),
            Qt.AlignmentFlag.AlignLeft,
            lane_detail(ctx, fm, rect.width()),
        )
    else:
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRect(rect.left(), 0, head_w, h), align, head)
        painter.setFont(font)
        state_w = fm.horizontalAdvance(state) + 6
        ident = fm.elidedText(ctx.title, Qt.TextElideMode.ElideMiddle, rect.width() - head_w - state_w)
        painter.drawText(QRect(rect.left() + head_w, 0, rect.width(), h), align, ident)
        painter.setPen(state_colour)
        painter.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, state)
    painter.end()
    return image


def lane_detail(ctx: Context, fm: QFontMetrics, width: int) -> str:
    """The second line of a lane's label: its state (and error), and for an app the proxy recorded, its
    connection and client, told apart from the other apps' lanes here. The client elides in its middle, so
    that its port stays."""
    detail = ctx.state.value if ctx.error is None else f"{ctx.state.value}: {ctx.error}"
    if ctx.client is None:
        return fm.elidedText(detail, Qt.TextElideMode.ElideRight, width)
    head = f"{ctx.state.value} · conn {ctx.conn} · "
    return head + fm.elidedText(ctx.client, Qt.TextElideMode.ElideMiddle, width - fm.horizontalAdvance(head))
