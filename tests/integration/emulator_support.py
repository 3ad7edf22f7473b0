"""Helpers for driving the embedded emulator over real loopback sockets (imported by the tests here)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from websockets.asyncio.client import ClientConnection

from flushscope.emulator.config import EmulatorConfig, Pacing
from flushscope.emulator.espeak import Synthesizer
from flushscope.emulator.server import EmulatorServer
from flushscope.protocol.audio import Encoding, decode
from flushscope.protocol.messages import decode_base64

#: A safety net for every wait on the network; never the thing a test measures.
TIMEOUT = 20.0

VOICE_ID = "a0e99841-438c-4a64-b679-ae501e7d6091"
OTHER_VOICE_ID = "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"
FMT: dict[str, Any] = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000}


def config(**overrides: Any) -> EmulatorConfig:
    """Instant pacing unless a test asks for something else."""
    overrides.setdefault("pacing", Pacing.instant())
    return EmulatorConfig(**overrides)


def req(context_id: str | None, transcript: str, *, cont: bool | None = True, **extra: Any) -> dict[str, Any]:
    """A full generation request as current clients send it; ``cont=None`` leaves ``continue`` out."""
    obj: dict[str, Any] = {
        "model_id": "sonic-3",
        "transcript": transcript,
        "voice": {"mode": "id", "id": VOICE_ID},
        "output_format": dict(FMT),
        "language": "en",
        "max_buffer_delay_ms": 0,
    }
    if context_id is not None:
        obj["context_id"] = context_id
    if cont is not None:
        obj["continue"] = cont
    obj.update(extra)
    return obj


async def send(ws: ClientConnection, *objs: dict[str, Any]) -> None:
    for obj in objs:
        await ws.send(json.dumps(obj))


async def recv(ws: ClientConnection, timeout: float = TIMEOUT) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(raw, str), f"server sent a binary frame: {raw!r}"
    obj: dict[str, Any] = json.loads(raw)
    return obj


@dataclass
class Frame:
    """A received frame and the loop time it arrived at."""

    obj: dict[str, Any]
    at: float

    def __getitem__(self, key: str) -> Any:
        return self.obj[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.obj.get(key, default)

    @property
    def type(self) -> str:
        kind: str = self.obj["type"]
        return kind


@dataclass
class Transcript:
    """Everything received on one socket, in order."""

    frames: list[Frame] = field(default_factory=list)

    def of(self, context_id: str) -> list[Frame]:
        return [f for f in self.frames if f.get("context_id") == context_id]

    def types(self, context_id: str) -> list[str]:
        return [f.type for f in self.of(context_id)]


async def recv_frame(ws: ClientConnection, timeout: float = TIMEOUT) -> Frame:
    obj = await recv(ws, timeout)
    return Frame(obj, asyncio.get_running_loop().time())


async def collect(
    ws: ClientConnection,
    until_done: Sequence[str],
    into: Transcript | None = None,
    *,
    terminal: Sequence[str] = ("done", "error"),
) -> Transcript:
    """Read frames until every context in ``until_done`` has had a terminal frame."""
    log = into if into is not None else Transcript()
    waiting = set(until_done)
    while waiting:
        frame = await recv_frame(ws)
        log.frames.append(frame)
        if frame.type in terminal and frame.get("context_id") in waiting:
            waiting.discard(frame["context_id"])
    return log


async def read_until(ws: ClientConnection, log: Transcript, predicate: Any) -> Frame:
    """Read frames into ``log`` until one satisfies ``predicate``; return it."""
    while True:
        frame = await recv_frame(ws)
        log.frames.append(frame)
        if predicate(frame):
            return frame


async def read_until_closed(ws: ClientConnection, log: Transcript) -> None:
    """Read every remaining frame until the server closes the socket (cleanly or not)."""
    from websockets.exceptions import ConnectionClosed

    while True:
        try:
            frame = await recv_frame(ws)
        except ConnectionClosed:
            return
        log.frames.append(frame)


def audio_bytes(frames: Sequence[Frame]) -> bytes:
    return b"".join(decode_base64(f["data"]) for f in frames if f.type == "chunk")


def samples(frames: Sequence[Frame], encoding: str = FMT["encoding"]) -> npt.NDArray[np.float32]:
    return decode(audio_bytes(frames), Encoding(encoding))


def rms(x: npt.NDArray[np.float32]) -> float:
    return float(np.sqrt(np.mean(np.square(x.astype(np.float64))))) if x.size else 0.0


def duration(
    frames: Sequence[Frame], encoding: str = FMT["encoding"], rate: int = FMT["sample_rate"]
) -> float:
    return len(audio_bytes(frames)) / Encoding(encoding).sample_width / rate


def words(frames: Sequence[Frame]) -> list[str]:
    out: list[str] = []
    for f in frames:
        if f.type == "timestamps":
            out.extend(f["word_timestamps"]["words"])
    return out


def assert_common_shape(log: Transcript, context_ids: Sequence[str]) -> None:
    """What every client relies on: a context id on every frame, ``done`` true only on the final frame,
    exactly one final frame per context, after all of that context's output."""
    for frame in log.frames:
        assert frame.get("context_id") in context_ids, frame.obj
        assert frame.type in {"chunk", "timestamps", "phoneme_timestamps", "flush_done", "done", "error"}
        assert isinstance(frame.get("status_code"), int), frame.obj
        if frame.type in ("done", "error"):
            assert frame["done"] is True, frame.obj
        else:
            assert frame["done"] is False, frame.obj
    for context_id in context_ids:
        kinds = log.types(context_id)
        finals = [k for k in kinds if k in ("done", "error")]
        assert len(finals) == 1, (context_id, kinds)
        assert kinds[-1] in ("done", "error"), (context_id, kinds)


def serve(synth: Synthesizer, **overrides: Any) -> EmulatorServer:
    """An emulator on 127.0.0.1, port 0, sharing the session's synthesizer; use with ``async with``."""
    return EmulatorServer(config(**overrides), synth)
