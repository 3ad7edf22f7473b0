"""The tabs under the timeline: the transcripts, frames, anomalies, lints and boundaries tables, each titled
with its count (zero included); stepping through them from the keyboard; a frame number in a finding's text
bringing up that frame in the Frames tab.

The counts follow the session a few times a second at most (every frame received would otherwise retitle
the tabs); the analysis is brought up to date at once when a tab that shows it is opened.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTabWidget, QWidget

from flushscope.ui.bridge import SessionBridge
from flushscope.ui.controllers.analysis import AnalysisModel
from flushscope.ui.pacing import Paced
from flushscope.ui.panels import AnomaliesPanel, BoundariesPanel, FramesPanel, LintsPanel, TranscriptsPanel
from flushscope.ui.widgets.status_bar import REFRESH_MS, anomaly_counts


class TableTabs(QObject):
    """The tab widget (:attr:`widget`) of the five tables, titled with their counts from ``bridge`` and
    ``analysis``."""

    status = Signal(str)
    """A message for the status bar."""

    def __init__(
        self,
        bridge: SessionBridge,
        analysis: AnalysisModel,
        panels: tuple[TranscriptsPanel, FramesPanel, AnomaliesPanel, LintsPanel, BoundariesPanel],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._analysis = analysis
        self.transcripts, self.frames, self.anomalies, self.lints, self.boundaries = panels
        self.widget = tabs = QTabWidget(parent)
        tabs.setDocumentMode(True)
        for panel, title in zip(
            panels, ("Transcripts", "Frames", "Anomalies", "Lints", "Boundaries"), strict=True
        ):
            tabs.addTab(panel, f"{title} (0)")
        tabs.setMinimumHeight(150)
        self._due = Paced(REFRESH_MS, self)
        self._due.due.connect(self.refresh)
        bridge.framesAdded.connect(lambda _first, _last: self._due.request())
        bridge.segmentsChanged.connect(lambda _segments: self._due.request())
        bridge.anomaliesAdded.connect(lambda _first, _last: self._due.request())
        bridge.anomaliesChanged.connect(self._due.request)
        bridge.sessionReplaced.connect(self.refresh)
        analysis.resultsChanged.connect(self._show_analysis)
        tabs.currentChanged.connect(self._opened)
        self.lints.frameLinkActivated.connect(self.go_to_frame)
        self.anomalies.frameLinkActivated.connect(self.go_to_frame)

    def refresh(self) -> None:
        """Retitle the session's tabs with their counts now."""
        session = self._bridge.session
        counted, info = anomaly_counts(session)
        tabs = self.widget
        tabs.setTabText(tabs.indexOf(self.transcripts), f"Transcripts ({self.transcripts.model.rowCount()})")
        tabs.setTabText(tabs.indexOf(self.frames), f"Frames ({len(session.frames):,})")
        tabs.setTabText(tabs.indexOf(self.anomalies), f"Anomalies ({counted + info})")

    def step(self, step: int) -> None:
        """Show the tab ``step`` tabs on (back when negative), round the end."""
        tabs = self.widget
        tabs.setCurrentIndex((tabs.currentIndex() + step) % tabs.count())

    def go_to_frame(self, frame: int) -> None:
        """Select frame ``frame`` in the Frames tab, and show that tab."""
        if not 0 <= frame < self.frames.model.rowCount():
            self.status.emit(f"Frame {frame} is not in the session shown")
            return
        self.widget.setCurrentWidget(self.frames)
        self.frames.highlight_frames([frame])

    def _show_analysis(self) -> None:
        analysis, tabs = self._analysis, self.widget
        lints, boundaries, flagged = len(analysis.lints), len(analysis.boundaries), analysis.flagged
        tabs.setTabText(tabs.indexOf(self.lints), f"Lints ({lints})")
        counts = f"{boundaries}, {flagged} flagged" if flagged else f"{boundaries}"
        tabs.setTabText(tabs.indexOf(self.boundaries), f"Boundaries ({counts})")

    def _opened(self, index: int) -> None:
        if self.widget.widget(index) in (self.lints, self.boundaries):
            self._analysis.refresh_now()
