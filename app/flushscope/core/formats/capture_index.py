"""Opening a capture: one streaming pass that indexes the file into a session, without decoding any audio.

The file is read in binary, in large blocks. A chunk line (nearly every line of a long session) takes the
fast path of :func:`~flushscope.core.store.chunk_scan.scan_chunk_line`: a few ``find`` calls locate its base64, the
hundred-odd bytes around it are parsed, and the model learns where the audio is and how long it is. Any other
line, or a chunk line that does not look exactly as the writer writes it, is parsed whole and given to the
model as its text. The session's store keeps per frame where its line is, not the line.

The pass runs in steps (:meth:`CaptureIndexer.step`: so many lines, or so many seconds), so that a window can
index on its loop between paints and show the session as it grows; :meth:`CaptureIndexer.run` does it all at
once (the command line), with the scan of a big file in a second process ahead of the model
(:mod:`~flushscope.core.formats.scan_ahead`). A file still being written can be followed: a step at the end of the file reads
whatever was appended since.

Bad lines lose nothing else: each is left out with a warning naming its line, and the pass goes on. An
incomplete last line waits (the writer may still be writing it) until :meth:`CaptureIndexer.finish` says
it is cut off.
"""

from __future__ import annotations

import io
import logging
import os
import time
from pathlib import Path
from typing import Final

from flushscope.core.formats.scan_ahead import NO_FLUSH_ID, ScanAhead, scan_ahead_available
from flushscope.core.frames import Frame
from flushscope.core.model.findings import Thresholds
from flushscope.core.model.session import Session
from flushscope.core.store.capture_header import MAX_HEADER_BYTES, CaptureHeader, parse_header
from flushscope.core.store.capture_reader import LineProblems
from flushscope.core.store.chunk_scan import scan_chunk_line
from flushscope.core.store.frame_store import FrameStore
from flushscope.core.store.line_format import MAX_LINE_BYTES, CaptureError, overlong_line, parse_line
from flushscope.core.store.line_storage import FileBacking

__all__ = ["BLOCK_BYTES", "CaptureIndexer", "index_capture"]

log = logging.getLogger("flushscope.capture")

#: How much of the file one read takes.
BLOCK_BYTES: Final = 8 << 20
# How many lines pass between two looks at the clock.
_CLOCK_EVERY: Final = 256


class CaptureIndexer:
    """Indexes the capture at ``path`` into :attr:`session`, a step at a time.

    The header is read on construction (:class:`CaptureError` if the file is not a capture, or cannot be
    opened). :attr:`warnings` fills as the pass forgives things; :attr:`progress` says how far it got."""

    def __init__(self, path: str | os.PathLike[str], thresholds: Thresholds | None = None) -> None:
        self.path = Path(path)
        self.name = os.fspath(path)
        self.warnings: list[str] = []
        self._problems = LineProblems(self.warnings)
        try:
            self._file: io.FileIO = open(path, "rb", buffering=0)  # noqa: SIM115
        except OSError as exc:
            raise CaptureError(self.name, None, f"cannot open: {exc.strerror or exc}") from None
        try:
            head = self._file.readline(MAX_HEADER_BYTES)
            self.header: CaptureHeader = parse_header(head, self.name, self.warnings)
            backing = FileBacking(path)
        except OSError as exc:
            self._file.close()
            raise CaptureError(self.name, None, f"cannot read: {exc.strerror or exc}") from None
        except BaseException:
            self._file.close()
            raise
        self.session = Session(thresholds, FrameStore(backing))
        # One buffer, read into again and again: bytes [pos, filled) are not indexed yet.
        self._buf = bytearray(BLOCK_BYTES)
        self._pos = 0
        self._filled = 0
        # File offset of self._buf[0].
        self._base = len(head)
        self._lineno = 2
        # While a line over MAX_LINE_BYTES is skipped: the file offset where it starts.
        self._skipping: int | None = None
        self._eof = False
        self._closed = False
        self._size = max(1, backing.size())

    # --- progress -----------------------------------------------------------------------------------

    @property
    def indexed_bytes(self) -> int:
        """Bytes of the file indexed so far (the header included)."""
        return self._base + self._pos

    @property
    def progress(self) -> float:
        """How much of the file is indexed, 0 to 1 (of its size when last read)."""
        return min(1.0, self.indexed_bytes / self._size)

    @property
    def at_end(self) -> bool:
        """The last step reached the end of the file (more may be appended later)."""
        return self._eof

    @property
    def pending(self) -> int:
        """Bytes at the end of the file that do not make a whole line yet."""
        return self._filled - self._pos

    # --- the pass -----------------------------------------------------------------------------------

    def step(self, max_lines: int | None = None, seconds: float | None = None) -> bool:
        """Index up to ``max_lines`` lines, or for about ``seconds``; whichever comes first (neither: to the
        end). True while there is more of the file to index now; False at its end (a later step takes what
        is appended by then)."""
        if self._closed:
            return False
        deadline = None if seconds is None else time.perf_counter() + seconds
        session = self.session
        frames = session.frames
        add_chunk = session.add_chunk_line
        scan = scan_chunk_line
        buf, pos, filled, base = self._buf, self._pos, self._filled, self._base
        done = 0
        self._eof = False
        try:
            while True:
                nl = buf.find(b"\n", pos, filled)
                if nl < 0:
                    self._pos = pos
                    more = self._fill()
                    buf, pos, filled, base = self._buf, self._pos, self._filled, self._base
                    if not more:
                        self._eof = True
                        return False
                    continue
                if nl - pos > MAX_LINE_BYTES:
                    self._problems.bad(overlong_line(self.name, self._lineno, nl - pos))
                elif (scanned := scan(buf, pos, nl)) is not None:
                    index = len(frames)
                    try:
                        add_chunk(
                            scanned.t,
                            scanned.conn,
                            scanned.context_id,
                            scanned.flush_id,
                            scanned.nbytes,
                            base + pos,
                            nl + 1 - pos,
                            scanned.start - pos,
                            scanned.digest,
                        )
                    except Exception as exc:
                        self._model_fault(bytes(buf[pos : nl + 1]), index, exc)
                else:
                    self._line(bytes(buf[pos : nl + 1]), base + pos)
                self._lineno += 1
                pos = nl + 1
                done += 1
                if max_lines is not None and done >= max_lines:
                    return True
                if deadline is not None and done % _CLOCK_EVERY == 0 and time.perf_counter() >= deadline:
                    return True
        finally:
            self._pos = pos

    def _fill(self) -> bool:
        """Move the unfinished line to the front of the buffer and read more after it; False when the file
        has nothing more now. A line over :data:`MAX_LINE_BYTES` is skipped on the way, never held."""
        buf, pos, filled = self._buf, self._pos, self._filled
        carry = filled - pos
        if self._skipping is None and carry > MAX_LINE_BYTES:
            self._skipping = self._base + pos
            self._base, self._pos, self._filled = self._base + filled, 0, 0
        if self._skipping is not None:
            return self._skip()
        if carry:
            buf[:carry] = buf[pos:filled]
        if carry == len(buf):
            # A line longer than the buffer: make room, up to the longest line a reader takes.
            buf.extend(bytes(len(buf)))
        self._base += pos
        self._pos, self._filled = 0, carry
        try:
            with memoryview(buf) as view:
                got = self._file.readinto(view[carry:]) or 0
        except OSError as exc:
            raise CaptureError(self.name, self._lineno, f"cannot read: {exc.strerror or exc}") from None
        self._filled = carry + got
        self._size = max(self._size, self._base + self._filled)
        return got > 0

    def _skip(self) -> bool:
        """Read on to the end of the line being skipped, keeping nothing of it; then say it was left out.
        False when the file ends first (a later step goes on skipping what is appended)."""
        assert self._skipping is not None
        buf = self._buf
        while True:
            try:
                with memoryview(buf) as view:
                    got = self._file.readinto(view) or 0
            except OSError as exc:
                raise CaptureError(self.name, self._lineno, f"cannot read: {exc.strerror or exc}") from None
            if not got:
                return False
            nl = buf.find(b"\n", 0, got)
            if nl < 0:
                self._base += got
                continue
            self._problems.bad(overlong_line(self.name, self._lineno, self._base + nl - self._skipping))
            self._lineno += 1
            self._skipping = None
            self._pos, self._filled = nl + 1, got
            self._size = max(self._size, self._base + got)
            return True

    def _line(self, raw: bytes, offset: int) -> None:
        """A line the fast path left: parsed whole, or left out with a warning."""
        try:
            t, conn, direction, text = parse_line(raw, self.name, self._lineno)
        except CaptureError as exc:
            if raw.strip():
                self._problems.bad(exc)
            return
        session = self.session
        frame = Frame(len(session.frames), t, conn, direction, text)
        try:
            session.add_line(frame, offset, len(raw), raw)
        except Exception as exc:
            log.exception("flushscope could not interpret frame %d of the capture", frame.index)
            session.add_uninterpreted(frame, exc)

    def _model_fault(self, raw: bytes, index: int, exc: Exception) -> None:
        """The model failed on chunk line ``index``: keep the frame and flag it, as the recorder does live."""
        log.exception("flushscope could not interpret frame %d of the capture", index)
        t, conn, direction, text = parse_line(raw, self.name, self._lineno)
        self.session.add_uninterpreted(Frame(index, t, conn, direction, text), exc)

    def run(self, *, parallel: bool | None = False) -> Session:
        """Index the whole file now; :meth:`finish` it; returns the session. ``parallel``: scan the lines in
        a second process, ahead of the model (:mod:`~flushscope.core.formats.scan_ahead`); None: when the file is
        big enough for it to pay, and the system can fork. Only for a process without threads of its own
        (the command line): a forked child gets a copy of them all."""
        if parallel is None:
            parallel = scan_ahead_available(self._size)
        if parallel and not self._closed and self._pos == self._filled == 0:
            self._run_ahead()
        while self.step():
            pass
        self.finish()
        return self.session

    def _run_ahead(self) -> None:
        """The pass with the scan in a second process: the same lines given to the same model."""
        session = self.session
        frames = session.frames
        backing = frames.file
        assert backing is not None
        add_chunk = session.add_chunk_line
        try:
            with ScanAhead(self.path, self._base) as ahead:
                for block in ahead:
                    contexts = block.contexts
                    for offset, size, chunk, t, conn, code, flush_id, nbytes, audio, digest in zip(
                        block.offset.tolist(),
                        block.size.tolist(),
                        block.chunk.tolist(),
                        block.t.tolist(),
                        block.conn.tolist(),
                        block.context.tolist(),
                        block.flush_id.tolist(),
                        block.nbytes.tolist(),
                        block.audio.tolist(),
                        block.digest.tolist(),
                        strict=True,
                    ):
                        if size > MAX_LINE_BYTES + 1:
                            self._problems.bad(overlong_line(self.name, self._lineno, size - 1))
                        elif chunk:
                            index = len(frames)
                            try:
                                add_chunk(
                                    t,
                                    conn,
                                    contexts[code],
                                    None if flush_id == NO_FLUSH_ID else flush_id,
                                    nbytes,
                                    offset,
                                    size,
                                    audio,
                                    digest,
                                )
                            except Exception as exc:
                                self._model_fault(backing.read(offset, size), index, exc)
                        else:
                            self._line(backing.read(offset, size), offset)
                        self._lineno += 1
                end = ahead.end
        except OSError as exc:
            raise CaptureError(self.name, self._lineno, f"cannot read: {exc}") from None
        # What follows the last whole line (an unfinished one, if any) is the steps' to read.
        assert end is not None
        self._file.seek(end)
        self._base = end
        self._size = max(self._size, end)

    def finish(self) -> None:
        """The pass is over: an incomplete last line is cut off (said in :attr:`warnings`); the reading file
        is closed (the session still reads its frames through its own)."""
        if self._closed:
            return
        if self._skipping is not None:
            size = self._base - self._skipping
            self._problems.bad(overlong_line(self.name, self._lineno, size))
            self.close()
            return
        tail = bytes(self._buf[self._pos : self._filled])
        if tail.strip():
            # A whole line without its newline is a line; anything else was cut off.
            try:
                parse_line(tail, self.name, self._lineno)
            except CaptureError:
                self._problems.cut_off(self._lineno, len(self.session.frames))
            else:
                self._line(tail, self._base + self._pos)
                self._pos = self._filled
        self.close()

    def close(self) -> None:
        """Stop indexing and close the file this pass reads (not the session's)."""
        if not self._closed:
            self._closed = True
            self._file.close()
            self._buf = bytearray()


def index_capture(
    path: str | os.PathLike[str], thresholds: Thresholds | None = None, *, parallel: bool | None = False
) -> tuple[Session, CaptureHeader, list[str]]:
    """Index a whole capture file: the session, its header and the warnings (bad lines left out, a cut-off
    end). :class:`CaptureError` if it is not a capture. ``parallel`` as for :meth:`CaptureIndexer.run`."""
    indexer = CaptureIndexer(path, thresholds)
    session = indexer.run(parallel=parallel)
    return session, indexer.header, indexer.warnings
