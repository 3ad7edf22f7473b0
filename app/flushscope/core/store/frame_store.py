"""Every frame of a session, indexed: numpy columns in memory, the text in the capture file.

A session's frames are ``session.frames``. Per frame the store keeps 26 bytes in numpy columns: time (8),
connection (4), direction (1), which backing holds the line (1), the line's byte offset (8) and length (4).
The text is read back from the line when a frame is asked for (``frames[i]``), parsed, checked against the
columns, and kept in a small cache; views that only need times or directions read the columns.

Frames reach the store in one of two ways:

- :meth:`FrameStore.append`: a frame given as text (a live session, a session rebuilt from frames). Its line
  is written to the capture file when one is attached (:meth:`attach`), else kept in memory. A capture file
  that fails is given up (the reason in :attr:`FrameStore.problem`) and later frames are kept in memory.
- :meth:`FrameStore.append_line`: a line the index pass found in the capture file it reads.

A line read back that no longer parses, or whose time, connection or direction differ from the columns,
means the file changed under the session: :class:`~flushscope.core.store.line_storage.StoreError` says so in words.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, Final, overload

import numpy as np
import numpy.typing as npt

from flushscope.core.frames import Direction, Frame
from flushscope.core.growable import BatchedColumns
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.core.store.line_format import line_fields, line_text
from flushscope.core.store.line_storage import Backing, FileBacking, MemoryBacking, StoreError

__all__ = ["DIRECTIONS", "FrameStore"]

log = logging.getLogger("flushscope.store")

#: Direction codes of the ``dir`` column.
DIRECTIONS: Final[tuple[Direction, ...]] = (Direction.SEND, Direction.RECV, Direction.META)
_CODE: Final = {d: i for i, d in enumerate(DIRECTIONS)}
_FIELDS: Final[tuple[tuple[str, Any], ...]] = (
    ("t", np.float64),
    ("conn", np.int32),
    ("dir", np.int8),
    ("source", np.int8),
    ("offset", np.int64),
    ("size", np.int32),
)
_CACHED_FRAMES: Final = 256
_BATCH: Final = 4096


def same_time(written: float, kept: float) -> bool:
    """Whether a line's time is the time kept for it: equal, or equal as the writer prints it (microseconds)."""
    return written == kept or f"{written:.6f}" == f"{kept:.6f}"


class FrameStore:
    """The frames of one session in arrival order (``session.frames``): ``len``, ``frames[i]`` (a
    :class:`Frame`, read back when asked), iteration (every frame read back: for small sessions and tests),
    and the columns :meth:`column`, :meth:`time`, :meth:`direction`, :meth:`conn` without reading anything.

    ``file``: the capture file whose lines :meth:`append_line` indexes."""

    def __init__(self, file: FileBacking | None = None) -> None:
        self._sources: list[Backing] = []
        self._file = -1
        self._memory = -1
        if file is not None:
            self._file = self._add_source(file)
        self._writer: CaptureWriter | None = None
        self._columns = BatchedColumns(_FIELDS, _BATCH)
        self._cache: OrderedDict[int, Frame] = OrderedDict()
        #: Time of the last frame (0.0 before any).
        self.last_t = 0.0
        #: Why frames are kept in memory although a capture file was given (it failed), or None.
        self.problem: str | None = None

    # --- where the lines are -------------------------------------------------------------------------

    def _add_source(self, backing: Backing) -> int:
        self._sources.append(backing)
        return len(self._sources) - 1

    def _memory_source(self) -> MemoryBacking:
        if self._memory < 0:
            self._memory = self._add_source(MemoryBacking())
        memory = self._sources[self._memory]
        assert isinstance(memory, MemoryBacking)
        return memory

    @property
    def sources(self) -> tuple[Backing, ...]:
        """Every backing that holds lines of this store (a frame's ``source`` column indexes it)."""
        return tuple(self._sources)

    @property
    def file(self) -> FileBacking | None:
        """The capture file the frames are read from (the one written to, or indexed), if any."""
        if self._file < 0:
            return None
        backing = self._sources[self._file]
        return backing if isinstance(backing, FileBacking) else None

    @property
    def writer(self) -> CaptureWriter | None:
        """The capture file :meth:`append` writes to, or None (frames are then kept in memory)."""
        return self._writer

    @property
    def memory_bytes(self) -> int:
        """Bytes of lines kept in memory (no capture file to read them from)."""
        return self._sources[self._memory].size() if self._memory >= 0 else 0

    def attach(self, writer: CaptureWriter) -> None:
        """From now on, write each frame's line to ``writer``'s file and read it back from there. OSError if
        the file cannot be opened for reading (the writer is then not used)."""
        backing = FileBacking(writer.path)
        if self._writer is not None:
            self._writer.close()
        self._writer = writer
        self._file = self._add_source(backing)

    def detach(self) -> CaptureWriter | None:
        """Stop writing to the capture file (frames already written are still read from it); returns the
        writer, for the caller to close."""
        writer, self._writer = self._writer, None
        return writer

    def close(self) -> None:
        """Close the capture file, written or read; the columns stay, the lines in the file cannot be read."""
        writer = self.detach()
        if writer is not None:
            writer.close()
        for backing in self._sources:
            backing.close()

    # --- appending ----------------------------------------------------------------------------------

    def append(
        self, frame: Frame, *, json_object: bool, span: tuple[int, int] | None = None
    ) -> tuple[int, int]:
        """Keep ``frame`` as the next frame: its line goes to the capture file (or memory). Returns its index
        and where the characters ``span`` of its text (a chunk's base64) start in its line, in bytes (-1 when
        not asked, or not there verbatim)."""
        writer = self._writer
        written = None
        source = self._file
        if writer is not None:
            try:
                written = writer.write(frame, valid_json=json_object, span=span)
            except (OSError, ValueError) as exc:
                self._writer = None
                self.problem = f"the capture file stopped recording: {exc}; frames from {len(self)} on are kept in memory"
                log.error("%s", self.problem)
                writer.close()
        if written is None:
            memory = self._memory_source()
            written = memory.write(frame, valid_json=json_object, span=span)
            source = self._memory
        index = self._push(frame.t, frame.conn, frame.dir, source, written.offset, written.size)
        if frame.index == index:
            self._remember(index, frame)
        return index, written.found

    def append_line(self, t: float, conn: int, direction: Direction, offset: int, size: int) -> int:
        """Index a line of the capture file this store reads; returns the frame's index."""
        return self._push(t, conn, direction, self._file, offset, size)

    def _push(self, t: float, conn: int, direction: Direction, source: int, offset: int, size: int) -> int:
        self.last_t = t
        return self._columns.append((t, conn, _CODE[direction], source, offset, size))

    # --- columns ------------------------------------------------------------------------------------

    @property
    def nbytes(self) -> int:
        """Bytes of the columns, spare capacity included (the lines in memory not counted)."""
        return self._columns.nbytes

    def column(self, name: str) -> npt.NDArray[Any]:
        """The filled part of a column: ``t``, ``conn``, ``dir`` (codes into :data:`DIRECTIONS`), ``source``,
        ``offset`` or ``size`` (a view; do not keep it across appends)."""
        return self._columns.column(name)

    def _row(self, index: int) -> tuple[float, int, int, int, int, int]:
        t, conn, direction, source, offset, size = self._columns.row(index)
        return t, conn, direction, source, offset, size

    def _index(self, index: int) -> int:
        size = len(self)
        at = index + size if index < 0 else index
        if not 0 <= at < size:
            raise IndexError(f"frame {index} out of range ({size} frames)")
        return at

    def time(self, index: int) -> float:
        """Frame ``index``'s time, without reading its line."""
        return self._row(self._index(index))[0]

    def conn(self, index: int) -> int:
        """Frame ``index``'s connection, without reading its line."""
        return self._row(self._index(index))[1]

    def direction(self, index: int) -> Direction:
        """Frame ``index``'s direction, without reading its line."""
        return DIRECTIONS[self._row(self._index(index))[2]]

    def indices(self, direction: Direction, among: npt.ArrayLike | None = None) -> npt.NDArray[np.int64]:
        """The indices of the frames that went ``direction``, in order: of all frames, or of those ``among``
        (indices)."""
        dirs = self.column("dir")
        if among is None:
            return np.flatnonzero(dirs == _CODE[direction])
        chosen: npt.NDArray[np.int64] = np.asarray(among, dtype=np.int64)
        picked: npt.NDArray[np.int64] = chosen[dirs[chosen] == _CODE[direction]]
        return picked

    # --- reading back -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._columns.size

    def __bool__(self) -> bool:
        return self._columns.size > 0

    @overload
    def __getitem__(self, index: int) -> Frame: ...
    @overload
    def __getitem__(self, index: slice) -> list[Frame]: ...
    def __getitem__(self, index: int | slice) -> Frame | list[Frame]:
        """Frame ``index`` (negative counts from the end), read back from its line; StoreError if the line
        cannot be read or is no longer the one indexed. A slice gives a list of frames."""
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        at = self._index(index)
        cache = self._cache
        frame = cache.get(at)
        if frame is not None:
            cache.move_to_end(at)
            return frame
        frame = self._read(at)
        self._remember(at, frame)
        return frame

    def __iter__(self) -> Iterator[Frame]:
        for index in range(len(self)):
            yield self[index]

    def _remember(self, index: int, frame: Frame) -> None:
        cache = self._cache
        cache[index] = frame
        if len(cache) > _CACHED_FRAMES:
            cache.popitem(last=False)

    def source_of(self, index: int) -> Backing:
        """The backing that holds frame ``index``'s line."""
        return self._sources[self._row(self._index(index))[3]]

    def line(self, index: int) -> bytes:
        """Frame ``index``'s line as stored, bytes."""
        _, _, _, source, offset, size = self._row(self._index(index))
        return self._sources[source].read(offset, size)

    def locate(self, index: int) -> tuple[Backing, int, float]:
        """Where frame ``index``'s line is: its backing, its offset there, and the time the line must carry."""
        t, _, _, source, offset, _ = self._row(self._index(index))
        return self._sources[source], offset, t

    def _read(self, index: int) -> Frame:
        t, conn, code, source, offset, size = self._row(index)
        backing = self._sources[source]
        raw = backing.read(offset, size)
        direction = DIRECTIONS[code]
        try:
            obj = json.loads(raw)
            if isinstance(backing, FileBacking):
                written_t, written_conn, written_dir = line_fields(obj)
                if not same_time(written_t, t) or (written_conn, written_dir) != (conn, direction):
                    raise ValueError("another frame is there now")
            text = line_text(obj, raw, direction)
        except (ValueError, RecursionError) as exc:
            raise StoreError(
                f"{backing.name} changed: frame {index} is no longer where it was read ({exc})"
            ) from None
        return Frame(index, t, conn, direction, text)

    def text(self, index: int) -> str:
        """Frame ``index``'s text (StoreError if it cannot be read back)."""
        return self[index].text
