"""Exports and copies from the window: segment and context audio as WAV (read from the capture and written on
an executor thread, a block at a time, so long audio neither freezes the window nor sits in memory; every
segment at once with Audacity label tracks on request), the timeline as PNG, and segment timings or a
context_id on the clipboard."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QWidget

from flushscope.audio.wav import ExportError, context_file_stem, segment_file_name, write_wav
from flushscope.core.analysis.report import reported_segments
from flushscope.core.formats.audacity_labels import label_path, segment_labels, write_labels
from flushscope.core.model.records import Context, Segment, SegmentState
from flushscope.core.store.whole_file import all_or_none
from flushscope.net.live import CAPTURE_SUFFIX
from flushscope.tasks import OwnedTasks
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.look.wording import plural


def segment_timings(segment: Segment) -> str:
    """One line on a segment's timing, for the clipboard: ``context <id> flush_id 2: 1.84 s of audio,
    21 chunks, first audio 99 ms, flush_done 1266 ms, transcripts: "..."``."""
    ctx = segment.context
    fid = segment.flush_id
    name = f"flush_id {fid}" if fid is not None else f"segment {segment.label} (no flush_id yet)"
    first = segment.first_audio_ms
    if first is not None:
        first_text = f"first audio {first:.0f} ms"
    else:
        first_text = "no audio yet" if not segment.nbytes else "first audio unknown"
    done = segment.flush_done_ms
    if done is not None:
        done_text = f"flush_done {done:.0f} ms"
    elif segment.flush_done_t is not None:
        done_text = "flush_done unrequested"
    elif segment.state is SegmentState.FLUSHING:
        done_text = "flush_done pending"
    else:
        done_text = "no flush_done"
    texts = " ".join(json.dumps(t.text, ensure_ascii=False) for t in segment.transcripts) or "none"
    return (
        f"context {ctx.context_id} {name}: {segment.audio_seconds:.2f} s of audio, "
        f"{plural(segment.chunk_count, 'chunk')}, {first_text}, {done_text}, transcripts: {texts}"
    )


class ExportController(QObject):
    """Writes audio and images to files and timings to the clipboard. ``render_png`` draws the timeline into
    a file; file dialogs belong to ``window``."""

    status = Signal(str)
    """A message for the status bar: what was written or copied, or why not."""

    def __init__(
        self,
        bridge: SessionBridge,
        selection: Selection,
        render_png: Callable[[str], bool],
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self._bridge = bridge
        self._selection = selection
        self._render_png = render_png
        self._window = window
        self.tasks = OwnedTasks(lambda exc: self.status.emit(str(exc)), (ExportError,))
        #: The name PNG exports are suggested under (the capture shown, without its suffix).
        self.png_stem = "timeline"

    # --- clipboard ---------------------------------------------------------------------------------

    def copy_segment_timings(self, what: Segment | Context | None = None) -> str | None:
        """Put the timings of a segment (one line), or of each segment of a context, on the clipboard;
        the selection's when not given. Returns the text copied."""
        what = what or self._selection.segment or self._selection.context
        if what is None:
            self.status.emit("Select a segment to copy its timings")
            return None
        if isinstance(what, Segment):
            text = segment_timings(what)
            said = f"segment {what.label}"
        else:
            text = "\n".join(segment_timings(s) for s in reported_segments(what))
            said = f"the segments of context {what.title}"
        QGuiApplication.clipboard().setText(text)
        self.status.emit(f"Copied the timings of {said}")
        return text

    def copy_context_id(self, context: Context | None = None) -> str | None:
        """Put a context's id (the selected one's when not given) on the clipboard."""
        context = context or self._selection.context
        if context is None:
            self.status.emit("Select a context to copy its context_id")
            return None
        QGuiApplication.clipboard().setText(context.context_id)
        self.status.emit(f"Copied {context.context_id}")
        return context.context_id

    # --- WAV ---------------------------------------------------------------------------------------

    async def save_wav(self, what: Segment | Context, path: str | Path) -> bool:
        """Write a segment's or a context's audio to a 16-bit WAV file on an executor thread; the outcome
        through :attr:`status`."""
        ctx = what if isinstance(what, Context) else what.context
        fmt = ctx.format
        name = f"segment {what.label}" if isinstance(what, Segment) else f"context {ctx.title}"
        if fmt is None:
            self.status.emit(f"Cannot export {name}: its output format is not known")
            return False
        # Where the audio is, taken here: the model is only touched on this thread.
        plan = self._bridge.session.audio.plan(what)
        if not plan.total_bytes:
            self.status.emit(f"Cannot export {name}: it has no audio")
            return False
        target = Path(path)
        self.status.emit(f"Writing {target}…")
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: write_wav(target, plan.blocks(), fmt)
            )
        except ExportError as exc:
            self.status.emit(str(exc))
            return False
        self.status.emit(f"Saved {target} ({fmt.duration(plan.total_bytes):.2f} s of audio)")
        return True

    async def save_all_wav(self, directory: str | Path, *, labels: bool = False) -> list[Path] | None:
        """One WAV per segment with audio in ``directory`` (named as ``flushscope export`` names them), and
        with ``labels`` an Audacity label track beside each (``<name>.txt``: the segment's flush_id and text,
        and its words), written on an executor thread; None when it failed (said through :attr:`status`)."""
        folder = Path(directory)
        session = self._bridge.session
        segments = [s for s in session.segments() if s.nbytes and s.context.format is not None]
        jobs = [(folder / segment_file_name(s), session.audio.plan(s), s.context.format) for s in segments]
        # Taken here, with the audio: the model is only touched on this thread.
        tracks = [
            (label_path(path), segment_labels(s)) for (path, _, _), s in zip(jobs, segments, strict=True)
        ]
        if not jobs:
            self.status.emit("No segment has audio to export")
            return []

        def write_all() -> list[Path]:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ExportError(f"cannot create {folder}: {exc.strerror or exc}") from exc
            writes = [
                partial(write_wav, path, plan.blocks(), fmt) for path, plan, fmt in jobs if fmt is not None
            ]
            if labels:
                writes += [partial(write_labels, path, track) for path, track in tracks]
            # One export: if a file cannot be written, the ones written before it are removed too.
            return all_or_none(writes)

        what = plural(len(jobs), "WAV file") + (" with their label tracks" if labels else "")
        self.status.emit(f"Writing {what} to {folder}…")
        try:
            paths = await asyncio.get_running_loop().run_in_executor(None, write_all)
        except ExportError as exc:
            self.status.emit(str(exc))
            return None
        self.status.emit(f"Saved {what} to {folder}")
        return paths

    def export_selected_segment(self) -> None:
        """Ask where to write the selected segment's audio, then write it."""
        segment = self._selection.segment
        if segment is None or not segment.nbytes:
            self.status.emit("Select a segment with audio to export it")
            return
        self._choose_wav_path(segment)

    def export_selected_context(self) -> None:
        """Ask where to write the selected context's audio, then write it."""
        context = self._selection.context
        if context is None or not context.total_bytes:
            self.status.emit("Select a context with audio to export it")
            return
        self._choose_wav_path(context)

    def export_all_segments(self, labels: bool = False) -> None:
        """Ask for a folder, then write one WAV per segment into it (and its label track, with
        ``labels``)."""
        title = (
            "Export every segment as WAV with labels into" if labels else "Export every segment as WAV into"
        )
        folder = QFileDialog.getExistingDirectory(self._window, title, str(Path.home()))
        if folder:
            self.tasks.spawn(self.save_all_wav(folder, labels=labels), "export wavs")

    def _choose_wav_path(self, what: Segment | Context) -> None:
        suggested = segment_file_name(what) if isinstance(what, Segment) else f"{context_file_stem(what)}.wav"
        path, _ = QFileDialog.getSaveFileName(self._window, "Export WAV", suggested, "WAV audio (*.wav)")
        if path:
            self.tasks.spawn(self.save_wav(what, path), "export wav")

    # --- PNG ---------------------------------------------------------------------------------------

    def export_timeline(self, path: str | Path) -> bool:
        """Draw the timeline into a PNG file."""
        ok = self._render_png(str(path))
        self.status.emit(f"Saved the timeline to {path}" if ok else f"Cannot write {path}")
        return ok

    def choose_and_export_timeline(self) -> None:
        """Ask where to write the timeline's PNG, then write it."""
        path, _ = QFileDialog.getSaveFileName(
            self._window, "Export timeline", f"{self.png_stem}.png", "PNG images (*.png)"
        )
        if path:
            self.export_timeline(path)

    def name_after(self, capture: Path | None) -> None:
        """Suggest PNG names after ``capture`` (the file shown), or the default name."""
        self.png_stem = capture.name.removesuffix(CAPTURE_SUFFIX) if capture is not None else "timeline"

    async def aclose(self) -> None:
        """Stop writing: files still being written are left as they are."""
        await self.tasks.aclose()
