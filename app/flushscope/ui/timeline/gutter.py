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
    state_w = fm.horizontalAdvance(state) + 6
    painter.setFont(bold)
    painter.setPen(theme.text)
    two_lines = h >= 2 * fm.height() + 6
    # An app's lane says its connection and client below; its state then goes beside its name.
    state_beside = not two_lines or ctx.client is not None
    line_h = fm.height() if two_lines else h
    y0 = (h - 2 * line_h) // 2 if two_lines else 0
    align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    painter.drawText(QRect(rect.left(), y0, head_w, line_h), align, head)
    painter.setFont(font)
    ident_w = rect.width() - head_w - (state_w if state_beside else 0)
    ident = fm.elidedText(ctx.title, Qt.TextElideMode.ElideMiddle, ident_w)
    painter.drawText(QRect(rect.left() + head_w, y0, ident_w, line_h), align, ident)
    painter.setPen(state_colour)
    if state_beside:
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRect(rect.left(), y0, rect.width(), line_h), right, state)
    if two_lines:
        if ctx.client is not None:
            painter.setPen(theme.faint)
        painter.drawText(
            QRect(rect.left(), y0 + line_h, rect.width(), line_h), align, lane_detail(ctx, fm, rect.width())
        )
    painter.end()
    return image


def lane_detail(ctx: Context, fm: QFontMetrics, width: int) -> str:
    """The second line of a lane's label: its state (and error); for an app the proxy recorded, its
    connection and client instead, which tell its lanes from the other apps' (the client elided in its
    middle, so that its port stays)."""
    if ctx.client is None:
        detail = ctx.state.value if ctx.error is None else f"{ctx.state.value}: {ctx.error}"
        return fm.elidedText(detail, Qt.TextElideMode.ElideRight, width)
    head = f"conn {ctx.conn} · "
    return head + fm.elidedText(ctx.client, Qt.TextElideMode.ElideMiddle, width - fm.horizontalAdvance(head))
