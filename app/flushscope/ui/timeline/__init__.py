"""The timeline: one lane per context, audio chunks as blocks coloured by flush_id, and what was sent.

Drawing is built for sessions of 100,000 chunks and more; no Python loop runs per chunk or per marker in a
paint. The parts:

* :mod:`.lanes` and :mod:`.lane_cache`: per context, chunks as sorted numpy columns and markers as flat
  arrays, taken in incrementally (no Qt).
* :mod:`.lod`: which pixel runs show the chunks, at most one per pixel column and lane (no Qt).
* :mod:`.layout` and :mod:`.theme`: where things go and in what colours.
* :mod:`.blocks`, :mod:`.markers`, :mod:`.ruler`, :mod:`.gutter`, :mod:`.legend`: drawing each part.
* :mod:`.tooltips`: hover texts (no Qt).
* :mod:`.viewport` and :mod:`.view`: the widget, its visible range, painting order, hit testing and input.
"""

from flushscope.ui.timeline.lanes import AxisMode
from flushscope.ui.timeline.layout import _Geometry as _Geometry
from flushscope.ui.timeline.lod import _merge_runs as _merge_runs
from flushscope.ui.timeline.theme import _Theme as _Theme
from flushscope.ui.timeline.view import TimelineView

__all__ = ["AxisMode", "TimelineView"]
