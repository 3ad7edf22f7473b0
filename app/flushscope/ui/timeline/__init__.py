"""The timeline: one lane per context, audio chunks as blocks coloured by flush_id, and what was sent.

Drawing is built for sessions of a million chunks and more: a paint costs in proportion to the pixels it
fills, not to the chunks, and no Python loop runs per chunk or per marker in a paint. The parts:

* :mod:`.model` (no Qt), what is drawn, with public names the painters and tests share:

  * :mod:`.model.lanes` and :mod:`.model.lane_cache`: per context, chunks as sorted numpy columns and
    markers (of a :class:`~.model.lanes.MarkerKind`) as flat arrays, taken in incrementally.
  * :mod:`.model.summary`: per lane and axis, the chunks summed up in bins at a few resolutions, kept up to
    date as chunks arrive.
  * :mod:`.model.lod`: what each lane's row of pixel columns shows, from the summary's bins at the zoom's
    level, or every chunk zoomed in.
  * :mod:`.model.shown_lanes`: which lanes are shown, in which rows: every context's, or one connection's.
  * :mod:`.model.playhead`: where a play position falls on a lane; :mod:`.model.tooltips`: hover texts.

* :mod:`.layout` and :mod:`.theme`: where things go and in what colours.
* :mod:`.blocks`, :mod:`.markers`, :mod:`.ruler`, :mod:`.gutter`, :mod:`.legend`: drawing each part.
* :mod:`.viewport` and :mod:`.view`: the widget, its visible range, painting order, hit testing and input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flushscope.ui.timeline.model.lanes import AxisMode

if TYPE_CHECKING:
    from flushscope.ui.timeline.view import TimelineView

__all__ = ["AxisMode", "TimelineView"]


def __getattr__(name: str) -> object:
    # The widget is imported on first use, so that the numpy parts (lanes, lane_cache, summary, lod, shown)
    # load without Qt.
    if name == "TimelineView":
        from flushscope.ui.timeline.view import TimelineView

        return TimelineView
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
