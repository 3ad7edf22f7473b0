"""Exports and copies from the window: segment and context audio as WAV (written on an executor thread, so
long audio does not freeze the window), the timeline as PNG, and segment timings or a context_id on the
clipboard."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from flushscope.audio.wav import ExportError, safe_name, segment_file_name, write_wav
from flushscope.core.report import reported_segments
from flushscope.core.session import Context, Segment, SegmentState
from flushscope.net.live import CAPTURE_SUFFIX
from flushscope.ui.live_controller import LiveController
from flushscope.ui.wording import MESSAGE_MS, plural


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


class ExportActions(LiveController):
    """The window's part that writes audio and images to files and timings to the clipboard."""

    def copy_segment_timings(self, what: Segment | Context | None = None) -> str | None:
        """Put the timings of a segment (one line), or of each segment of a context, on the clipboard;
        the selection's when not given. Returns the text copied."""
        what = what or self.selection.segment or self.selection.context
        if what is None:
            self.status.showMessage("Select a segment to copy its timings", MESSAGE_MS)
            return None
        if isinstance(what, Segment):
            text = segment_timings(what)
            said = f"segment {what.label}"
        else:
            text = "\n".join(segment_timings(s) for s in reported_segments(what))
            said = f"the segments of context {what.context_id}"
        QGuiApplication.clipboard().setText(text)
        self.status.showMessage(f"Copied the timings of {said}", MESSAGE_MS)
        return text

    def copy_context_id(self, context: Context | None = None) -> str | None:
        """Put a context's id (the selected one's when not given) on the clipboard."""
        context = context or self.selection.context
        if context is None:
            self.status.showMessage("Select a context to copy its context_id", MESSAGE_MS)
            return None
        QGuiApplication.clipboard().setText(context.context_id)
        self.status.showMessage(f"Copied {context.context_id}", MESSAGE_MS)
        return context.context_id

    # --- WAV export ---------------------------------------------------------------------------------

    def export_segment_wav(self, segment: Segment, path: str | Path) -> bool:
        """Write a segment's audio to a WAV file now, on this thread (:meth:`save_wav` does it on an
        executor)."""
        fmt = segment.context.format
        try:
            if fmt is None:
                raise ExportError(f"context {segment.context.context_id} has no known output format")
            write_wav(Path(path), segment.audio(), fmt)
        except ExportError as exc:
            self.status.showMessage(str(exc), MESSAGE_MS)
            return False
        self.status.showMessage(f"Saved {path}", MESSAGE_MS)
        return True

    async def save_wav(self, what: Segment | Context, path: str | Path) -> bool:
        """Write a segment's or a context's audio to a 16-bit WAV file on an executor thread; the outcome in
        the status bar."""
        ctx = what if isinstance(what, Context) else what.context
        fmt = ctx.format
        name = f"segment {what.label}" if isinstance(what, Segment) else f"context {ctx.context_id}"
        if fmt is None:
            self.status.showMessage(f"Cannot export {name}: its output format is not known", MESSAGE_MS)
            return False
        audio = what.audio()  # taken here: the model is only touched on this thread
        if not audio:
            self.status.showMessage(f"Cannot export {name}: it has no audio", MESSAGE_MS)
            return False
        target = Path(path)
        self.status.showMessage(f"Writing {target}…")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, write_wav, target, audio, fmt)
        except ExportError as exc:
            self.status.showMessage(str(exc), MESSAGE_MS)
            return False
        self.status.showMessage(f"Saved {target} ({fmt.duration(len(audio)):.2f} s of audio)", MESSAGE_MS)
        return True

    async def save_all_wav(self, directory: str | Path) -> list[Path] | None:
        """One WAV per segment with audio in ``directory`` (named as ``flushscope export`` names them),
        written on an executor thread; None when it failed (said in the status bar)."""
        folder = Path(directory)
        jobs = [
            (folder / segment_file_name(s), s.audio(), s.context.format)
            for s in self.bridge.session.segments()
            if s.nbytes and s.context.format is not None
        ]
        if not jobs:
            self.status.showMessage("No segment has audio to export", MESSAGE_MS)
            return []

        def write_all() -> list[Path]:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ExportError(f"cannot create {folder}: {exc.strerror or exc}") from exc
            return [write_wav(path, audio, fmt) for path, audio, fmt in jobs if fmt is not None]

        self.status.showMessage(f"Writing {plural(len(jobs), 'WAV file')} to {folder}…")
        try:
            paths = await asyncio.get_running_loop().run_in_executor(None, write_all)
        except ExportError as exc:
            self.status.showMessage(str(exc), MESSAGE_MS)
            return None
        self.status.showMessage(f"Saved {plural(len(paths), 'WAV file')} to {folder}", MESSAGE_MS)
        return paths

    def _export_selected_segment(self) -> None:
        segment = self.selection.segment
        if segment is None or not segment.nbytes:
            self.status.showMessage("Select a segment with audio to export it", MESSAGE_MS)
            return
        self._choose_wav_path(segment)

    def _export_selected_context(self) -> None:
        context = self.selection.context
        if context is None or not context.total_bytes:
            self.status.showMessage("Select a context with audio to export it", MESSAGE_MS)
            return
        self._choose_wav_path(context)

    def _choose_wav_path(self, what: Segment | Context) -> None:
        if isinstance(what, Segment):
            suggested = segment_file_name(what)
        else:
            suggested = f"{what.number}-{safe_name(what.context_id)}.wav"
        path, _ = QFileDialog.getSaveFileName(self, "Export WAV", suggested, "WAV audio (*.wav)")
        if path:
            self.spawn(self.save_wav(what, path), "export wav")

    def _choose_wav_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export every segment as WAV into", str(Path.home()))
        if folder:
            self.spawn(self.save_all_wav(folder), "export wavs")

    def export_timeline(self, path: str | Path) -> bool:
        ok = self.timeline.export_png(str(path))
        self.status.showMessage(f"Saved the timeline to {path}" if ok else f"Cannot write {path}", MESSAGE_MS)
        return ok

    def _choose_png_path(self) -> None:
        stem = self.viewing.name.removesuffix(CAPTURE_SUFFIX) if self.viewing else "timeline"
        path, _ = QFileDialog.getSaveFileName(self, "Export timeline", f"{stem}.png", "PNG images (*.png)")
        if path:
            self.export_timeline(path)
