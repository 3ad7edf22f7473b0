"""The inspector's table panels: transcripts, frames (with filters and a raw-frame pane), anomalies, and the
analysis: lints and flush boundaries.

Each panel builds its model on the :class:`~flushscope.ui.bridge.SessionBridge` and follows the shared
:class:`~flushscope.ui.bridge.Selection`: picking a row updates the selection, and a selection made
elsewhere (timeline, another table) is shown here, without either side echoing the other back.
"""

from flushscope.ui.panels.anomalies import AnomaliesPanel
from flushscope.ui.panels.boundaries import BoundariesPanel
from flushscope.ui.panels.frames import FramesPanel, pretty_frame_text
from flushscope.ui.panels.lints import LintsPanel
from flushscope.ui.panels.transcripts import TranscriptsPanel

__all__ = [
    "AnomaliesPanel",
    "BoundariesPanel",
    "FramesPanel",
    "LintsPanel",
    "TranscriptsPanel",
    "pretty_frame_text",
]
