"""Scanning a capture's lines in a second process, ahead of the model: the command line's way to open a big
capture on two cores.

Indexing a chunk line is two jobs of about equal cost: reading and scanning it (finding its base64, checking
it, parsing the members around it: :func:`~flushscope.core.store.chunk_scan.scan_chunk_line`), and giving it to
the model. The model keeps state from line to line; the scan does not. So a child process reads the file
block by block and scans every line, and sends back, per block, what it found as numpy columns (where each
line is, and for the chunk lines the scan took, their time, connection, context, flush_id, audio size and
where their base64 is); the parent gives them to the model as they come, and reads back only the few lines
the scan left (other frames, odd chunk lines), which it parses itself. The result is the same session as the
one-process pass (:meth:`~flushscope.core.formats.capture_index.CaptureIndexer.step`); only the wall time differs.

The child is forked (it needs nothing but the file's path and where to start), so this is offered where
``fork`` is a start method, and for files big enough to pay for it; the caller falls back to one process
otherwise. The child holds at most a few blocks' results ahead of the parent.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from flushscope.core.forked_child import fork_available
from flushscope.core.store.chunk_scan import scan_chunk_line
from flushscope.core.store.line_format import MAX_LINE_BYTES

__all__ = ["NO_FLUSH_ID", "ScanAhead", "ScannedBlock", "scan_ahead_available", "scan_block"]

#: Bytes the child reads at a time.
BLOCK_BYTES: Final = 8 << 20
#: Files smaller than this are indexed in one process: starting another costs more than it saves.
WORTHWHILE_BYTES: Final = 64 << 20
#: ``flush_id`` column value of a chunk that carried none.
NO_FLUSH_ID: Final = np.iinfo(np.int64).min


@dataclass(frozen=True, eq=False)
class ScannedBlock:
    """The whole lines of one block of the file, in order, as the scan saw them."""

    #: Where each line starts in the file, and its bytes (its ``\\n`` included).
    offset: npt.NDArray[np.int64]
    size: npt.NDArray[np.int64]
    #: Whether the scan took the line as a chunk (the columns below are then its values).
    chunk: npt.NDArray[np.bool_]
    t: npt.NDArray[np.float64]
    conn: npt.NDArray[np.int64]
    #: Index into :attr:`contexts`.
    context: npt.NDArray[np.int64]
    flush_id: npt.NDArray[np.int64]
    nbytes: npt.NDArray[np.int64]
    #: Where the base64 starts in the line, in bytes.
    audio: npt.NDArray[np.int64]
    #: :func:`~flushscope.core.store.chunk_scan.chunk_digest` of the chunk.
    digest: npt.NDArray[np.int64]
    contexts: list[str]


def scan_block(buf: bytes | bytearray, start: int, end: int, base: int) -> tuple[ScannedBlock, int]:
    """Scan the whole lines of ``buf[start:end]`` (``base``: the file offset of ``buf[0]``); returns them and
    where the first line not whole yet starts in ``buf``."""
    offsets: list[int] = []
    sizes: list[int] = []
    chunks: list[bool] = []
    times: list[float] = []
    conns: list[int] = []
    codes: list[int] = []
    flush_ids: list[int] = []
    nbytes: list[int] = []
    audio: list[int] = []
    digests: list[int] = []
    contexts: dict[str, int] = {}
    find = buf.find
    pos = start
    while True:
        nl = find(b"\n", pos, end)
        if nl < 0:
            break
        # A line over the limit is the parent's to leave out: it sees the size.
        scanned = scan_chunk_line(buf, pos, nl) if nl - pos <= MAX_LINE_BYTES else None
        offsets.append(base + pos)
        sizes.append(nl + 1 - pos)
        if scanned is None:
            chunks.append(False)
            times.append(0.0)
            conns.append(0)
            codes.append(-1)
            flush_ids.append(NO_FLUSH_ID)
            nbytes.append(0)
            audio.append(-1)
            digests.append(0)
        else:
            chunks.append(True)
            times.append(scanned.t)
            conns.append(scanned.conn)
            code = contexts.get(scanned.context_id)
            if code is None:
                code = contexts[scanned.context_id] = len(contexts)
            codes.append(code)
            flush_ids.append(NO_FLUSH_ID if scanned.flush_id is None else scanned.flush_id)
            nbytes.append(scanned.nbytes)
            audio.append(scanned.start - pos)
            digests.append(scanned.digest)
        pos = nl + 1
    block = ScannedBlock(
        offset=np.array(offsets, np.int64),
        size=np.array(sizes, np.int64),
        chunk=np.array(chunks, np.bool_),
        t=np.array(times, np.float64),
        conn=np.array(conns, np.int64),
        context=np.array(codes, np.int64),
        # Python ints beyond 64 bits never come from the scan (orjson reads them as floats, which it refuses).
        flush_id=np.array(flush_ids, np.int64),
        nbytes=np.array(nbytes, np.int64),
        audio=np.array(audio, np.int64),
        digest=np.array(digests, np.int64),
        contexts=list(contexts),
    )
    return block, pos


def _overlong_block(offset: int, size: int) -> ScannedBlock:
    """A block of one line over :data:`MAX_LINE_BYTES` (``size`` bytes, its newline included), which the
    scan skipped: the parent leaves it out with a warning, seeing its size."""
    return ScannedBlock(
        offset=np.array([offset], np.int64),
        size=np.array([size], np.int64),
        chunk=np.zeros(1, np.bool_),
        t=np.zeros(1, np.float64),
        conn=np.zeros(1, np.int64),
        context=np.full(1, -1, np.int64),
        flush_id=np.full(1, NO_FLUSH_ID, np.int64),
        nbytes=np.zeros(1, np.int64),
        audio=np.full(1, -1, np.int64),
        digest=np.zeros(1, np.int64),
        contexts=[],
    )


def _skip_line(file: io.FileIO, buf: bytearray) -> tuple[int, int] | None:
    """Read on to the end of an overlong line, keeping nothing of it: the bytes read up to its newline
    (included) and how many bytes after it ``buf`` now holds; None when the file ends first."""
    skipped = 0
    while True:
        with memoryview(buf) as view:
            got = file.readinto(view) or 0
        if not got:
            return None
        nl = buf.find(b"\n", 0, got)
        if nl >= 0:
            buf[: got - nl - 1] = buf[nl + 1 : got]
            return skipped + nl + 1, got - nl - 1
        skipped += got


def _child(path: str, start: int, out: Connection) -> None:
    """Read the file from ``start`` and send a :class:`ScannedBlock` per block, then ``("end", tail)``: the
    offset after the last whole line. Errors go back in words."""
    try:
        buf = bytearray(BLOCK_BYTES)
        filled = 0
        base = start
        with open(path, "rb", buffering=0) as file:
            file.seek(start)
            while True:
                if filled > MAX_LINE_BYTES:
                    # No frame is this long: skip to its end instead of holding it.
                    skipped = _skip_line(file, buf)
                    if skipped is None:
                        break  # cut off: what is left is the parent's to read (and skip) in steps
                    read, after = skipped
                    out.send(_overlong_block(base, filled + read))
                    base += filled + read
                    filled = after
                if filled == len(buf):
                    buf.extend(bytes(len(buf)))  # a line longer than the buffer
                with memoryview(buf) as view:
                    got = file.readinto(view[filled:]) or 0
                if not got:
                    break
                filled += got
                block, used = scan_block(buf, 0, filled, base)
                if len(block.offset):
                    out.send(block)
                buf[: filled - used] = buf[used:filled]
                filled -= used
                base += used
        out.send(("end", base))
    except Exception as exc:
        out.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        out.close()


def scan_ahead_available(size: int) -> bool:
    """Whether a file of ``size`` bytes is worth scanning in a second process here."""
    return size >= WORTHWHILE_BYTES and fork_available()


class ScanAhead:
    """The child process that scans ``path`` from byte ``start``; iterate for its blocks, in order. Closing it
    (or leaving the ``with``) stops the child and waits for it."""

    def __init__(self, path: str | os.PathLike[str], start: int) -> None:
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        self._receive = receive
        self._process = context.Process(
            target=_child, args=(os.fspath(path), start, send), name="flushscope scan", daemon=True
        )
        self._process.start()
        send.close()
        #: The file offset after the last whole line, once the child reached the end.
        self.end: int | None = None

    def __iter__(self) -> Iterator[ScannedBlock]:
        while True:
            try:
                message: Any = self._receive.recv()
            except EOFError:
                raise OSError("the process scanning the capture ended early") from None
            if isinstance(message, ScannedBlock):
                yield message
                continue
            kind, value = message
            if kind == "error":
                raise OSError(f"the process scanning the capture failed: {value}")
            self.end = int(value)
            return

    def close(self) -> None:
        """Stop the child (if it still runs) and wait for it."""
        self._receive.close()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()

    def __enter__(self) -> ScanAhead:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
