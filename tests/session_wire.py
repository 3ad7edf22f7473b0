"""Writes realistic frames into a session, as a client and a Cartesia server would (shared by the tests)."""

from __future__ import annotations

import base64
import json
from typing import Any

from flushscope.core.frames import Direction, Frame, meta_text
from flushscope.core.model.anomalies import AnomalyKind
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.session import Session
from flushscope.core.store.capture_writer import CaptureWriter

FORMAT = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000}
AUDIO = bytes(range(200)) * 24  # 4800 bytes = 2400 samples = 0.1 s


class Wire:
    """Appends frames to :attr:`session` with increasing times (``dt`` apart)."""

    def __init__(self, session: Session | None = None, conn: int = 1) -> None:
        self.session = session or Session()
        self.conn = conn
        self.t = 0.0

    def add(self, direction: Direction, obj: dict[str, Any] | str, dt: float = 0.01) -> Frame:
        self.t += dt
        text = obj if isinstance(obj, str) else json.dumps(obj)
        return self.session.add_text(self.t, self.conn, direction, text)

    def connect(self) -> Frame:
        return self.add(Direction.META, meta_text("connect", url="ws://127.0.0.1:1/tts/websocket"))

    def name(self, ctx: str, name: str) -> Frame:
        """The name a scenario gives the next context opened with id ``ctx``, as the client records it."""
        return self.add(Direction.META, meta_text("context_name", context_id=ctx, name=name))

    def close(self, code: int = 1000, reason: str = "") -> Frame:
        return self.add(Direction.META, meta_text("close", code=code, reason=reason))

    def send(
        self, ctx: str, transcript: str, *, cont: bool = True, flush: bool = False, **extra: Any
    ) -> Frame:
        request = {
            "context_id": ctx,
            "model_id": "sonic-3",
            "transcript": transcript,
            "voice": {"mode": "id", "id": "v"},
            "output_format": FORMAT,
            "continue": cont,
            "max_buffer_delay_ms": 0,
            **extra,
        }
        if flush:
            request["flush"] = True
        return self.add(Direction.SEND, request)

    def flush(self, ctx: str) -> Frame:
        return self.send(ctx, "", flush=True)

    def end(self, ctx: str) -> Frame:
        return self.send(ctx, "", cont=False)

    def recv(self, obj: dict[str, Any] | str) -> Frame:
        """Any server frame, as given."""
        return self.add(Direction.RECV, obj)

    def kinds(self) -> list[AnomalyKind]:
        return [a.kind for a in self.session.anomalies]

    def cancel(self, ctx: str) -> Frame:
        return self.add(Direction.SEND, {"context_id": ctx, "cancel": True})

    def chunk(self, ctx: str, flush_id: int | None, audio: bytes = AUDIO, dt: float = 0.01) -> Frame:
        frame: dict[str, Any] = {
            "type": "chunk",
            "context_id": ctx,
            "status_code": 206,
            "done": False,
            "data": base64.b64encode(audio).decode(),
            "step_time": 1.0,
        }
        if flush_id is not None:
            frame["flush_id"] = flush_id
        return self.add(Direction.RECV, frame, dt)

    def words(self, ctx: str, flush_id: int, words: list[str]) -> Frame:
        times = [0.1 * i for i in range(len(words) + 1)]
        return self.add(
            Direction.RECV,
            {"type": "timestamps", "context_id": ctx, "status_code": 206, "done": False, "flush_id": flush_id,
             "word_timestamps": {"words": words, "start": times[:-1], "end": times[1:]}},
        )  # fmt: skip

    def flush_done(self, ctx: str, flush_id: int) -> Frame:
        return self.add(
            Direction.RECV,
            {"type": "flush_done", "context_id": ctx, "status_code": 206, "done": False, "data": "",
             "flush_id": flush_id, "flush_done": True},
        )  # fmt: skip

    def done(self, ctx: str) -> Frame:
        return self.add(Direction.RECV, {"type": "done", "context_id": ctx, "status_code": 206, "done": True})

    def error(self, ctx: str, message: str) -> Frame:
        return self.add(
            Direction.RECV,
            {"type": "error", "context_id": ctx, "status_code": 400, "done": True, "title": "Invalid request",
             "message": message, "error_code": "invalid_request"},
        )  # fmt: skip

    def turn(self, ctx: str, texts: list[str], chunks: int = 2, base: int = 1) -> None:
        """A whole context: each text sent and flushed, its audio, flush_done, then end and done."""
        for text in texts:
            self.send(ctx, text)
            self.flush(ctx)
        self.end(ctx)
        for ordinal in range(len(texts)):
            for _ in range(chunks):
                self.chunk(ctx, base + ordinal)
            self.flush_done(ctx, base + ordinal)
        self.done(ctx)


class RecordedWire(Wire):
    """A :class:`Wire` whose frames also go, whole, into a capture file (the session keeps no chunk data)."""

    def __init__(self, capture: CaptureWriter, conn: int = 1) -> None:
        super().__init__(conn=conn)
        self.recorder = Recorder(self.session, capture, clock=lambda: self.t)

    def add(self, direction: Direction, obj: dict[str, Any] | str, dt: float = 0.01) -> Frame:
        self.t += dt
        return self.recorder.record(self.conn, direction, obj if isinstance(obj, str) else json.dumps(obj))
