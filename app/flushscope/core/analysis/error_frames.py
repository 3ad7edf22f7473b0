"""Whether the server failed a context with an error frame, read a frame at a time (no Qt)."""

from __future__ import annotations

import time
from collections import deque

import numpy as np

from flushscope.core.frames import Direction
from flushscope.core.model.records import Context
from flushscope.core.model.session import Session
from flushscope.protocol.messages import ProtocolError, load_object


class ErrorFrames:
    """Whether the server failed one context with an error frame, read from the context's frames as they
    come (each once, in as many steps as deadlines make)."""

    def __init__(self) -> None:
        self._looked = 0
        self._unread: deque[int] = deque()
        self._found = False

    def failed(self, session: Session, model: Context | None, deadline: float | None) -> bool | None:
        """Whether one of the frames of ``model`` is an error frame; None if the deadline came first."""
        if model is None or self._found:
            return self._found
        frames = model.frames.values
        if self._looked < len(frames):
            received = session.frames.indices(Direction.RECV, frames[self._looked :])
            # Chunks are most of them and never errors.
            chunks = session.chunks.column("frame")
            at = np.minimum(np.searchsorted(chunks, received), max(len(chunks) - 1, 0))
            chunk = chunks[at] == received if len(chunks) else np.zeros(len(received), bool)
            self._unread.extend(received[~chunk].tolist())
            self._looked = len(frames)
        while self._unread:
            if deadline is not None and time.perf_counter() >= deadline:
                return None
            text = session.frames[self._unread[0]].text
            self._unread.popleft()
            if '"error"' in text and _is_error(text):
                self._found = True
                self._unread.clear()
        return self._found


def _is_error(text: str) -> bool:
    try:
        return load_object(text).get("type") == "error"
    except ProtocolError:
        return False
