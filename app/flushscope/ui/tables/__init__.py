"""The inspector's table models: transcripts (one row per segment), frames and anomalies.

Each model follows the :class:`~flushscope.ui.bridge.SessionBridge`'s coalesced signals: rows are appended
with targeted inserts, changed rows are reported with ``dataChanged``, and a model is reset only when the
bridge shows a different session.

* :mod:`.base`: the roles every model answers and their shared plumbing.
* :mod:`.transcripts`, :mod:`.frames`, :mod:`.anomalies`: one model per table.
* :mod:`.frame_descriptions`: what a frame's text says (type, flush_id, summary), parsed once.
* :mod:`.sorting` and :mod:`.frames_filter`: the proxies views sit on.
* :mod:`.lints` and :mod:`.boundaries`: the analysis of the session (:mod:`.listed`: what they share).
* :mod:`.compare` and :mod:`.diff`: a strategy comparison and a diff with a capture (:mod:`.items`).
"""

from flushscope.ui.tables.anomalies import AnomaliesModel
from flushscope.ui.tables.base import (
    ANOMALY_ROLE,
    FRAME_INDEX_ROLE,
    SEGMENT_ROLE,
    SORT_ROLE,
    AnyIndex,
    SegmentRole,
    context_label,
    row_ranges,
)
from flushscope.ui.tables.boundaries import BoundariesModel
from flushscope.ui.tables.compare import CompareModel
from flushscope.ui.tables.diff import DiffModel
from flushscope.ui.tables.frames import KNOWN_TYPES, FrameFilter, FramesModel
from flushscope.ui.tables.frames_filter import FramesFilterProxy
from flushscope.ui.tables.lints import LintsModel
from flushscope.ui.tables.result_rows import ITEM_ROLE
from flushscope.ui.tables.sorting import SortProxy, TranscriptsSortProxy
from flushscope.ui.tables.transcripts import TranscriptsModel

__all__ = [
    "ANOMALY_ROLE",
    "FRAME_INDEX_ROLE",
    "ITEM_ROLE",
    "KNOWN_TYPES",
    "SEGMENT_ROLE",
    "SORT_ROLE",
    "AnomaliesModel",
    "AnyIndex",
    "BoundariesModel",
    "CompareModel",
    "DiffModel",
    "FrameFilter",
    "FramesFilterProxy",
    "FramesModel",
    "LintsModel",
    "SegmentRole",
    "SortProxy",
    "TranscriptsModel",
    "TranscriptsSortProxy",
    "context_label",
    "row_ranges",
]
