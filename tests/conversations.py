"""Generated conversations for property tests: several connections, interleaved contexts, and everything a
server or a client may get wrong, as the frames a recorder would see."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from flushscope.core.frames import Direction, meta_text
from flushscope.core.model.findings import Thresholds

#: Short enough that generated gaps cross them.
THRESHOLDS = Thresholds(stall_s=0.5, flush_done_s=2.0, done_s=3.0)
URL = "ws://127.0.0.1:1/tts/websocket"
CONTEXT_IDS = ("a", "b", "c")
FORMATS: tuple[dict[str, Any] | None, ...] = (
    {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 24000},
    {"container": "raw", "encoding": "pcm_f32le", "sample_rate": 16000},
    {"container": "raw", "encoding": "pcm_mulaw", "sample_rate": 8000},
    {"container": "raw", "encoding": "mp3", "sample_rate": 24000},
    None,
)
#: Kinds of step, repeated to weigh them.
KINDS = (
    *["send"] * 4, *["flush"] * 2, "end", "cancel",
    *["chunk"] * 6, "words", "phonemes", *["flush_done"] * 2, "done", "error", "unknown",
    "bad_client", "bad_server", "connect", "close", "meta_error", "binary",
)  # fmt: skip
BAD_CLIENT = ("{oops", "[1, 2]", '{"transcript": 5}', '{"cancel": false, "context_id": "a"}', "")
BAD_SERVER = ("not json", '"a string"', '{"type": 5}', '{"type": "chunk", "context_id": 7, "data": ""}', "{")
ERRORS = (
    "transcript empty or contains only punctuation",
    "concurrency limit exceeded",
    "Invalid voice",
    "boom",
)


@dataclass
class Step:
    """One frame at ``ms`` milliseconds, and maybe a timer tick at ``tick_ms`` just before it."""

    ms: int
    conn: int
    dir: Direction
    text: str
    tick_ms: int | None = None


@dataclass
class Stream:
    """What the generator remembers of one context id on one connection, to make plausible flush_ids."""

    base: int
    flushes: int = 0
    last_done: int | None = None
    seen: set[str] = field(default_factory=set)


def dumps(draw: st.DrawFn, obj: dict[str, Any]) -> str:
    compact = draw(st.booleans())
    return json.dumps(obj, separators=(",", ":") if compact else None, ensure_ascii=draw(st.booleans()))


def audio_data(draw: st.DrawFn) -> str:
    size = draw(st.sampled_from([0, 1, 3, 4, 480, 4800]))
    if draw(st.integers(0, 9)) == 9:
        return "@@@ not base64"
    return base64.b64encode(bytes((i * 7 + size) % 256 for i in range(size))).decode()


@st.composite
def conversations(draw: st.DrawFn) -> list[Step]:
    """Several connections, interleaved contexts, and everything a server or a client may get wrong."""
    steps: list[Step] = []
    streams: dict[tuple[int, str], Stream] = {}
    ms = 0
    for _ in range(draw(st.integers(1, 45))):
        dt = draw(st.sampled_from([0, 1, 10, 120, 600, 2100, 3500]))
        tick = draw(st.none() | st.integers(0, dt))
        tick_ms = None if tick is None else ms + tick
        ms += dt
        conn = draw(st.integers(1, 2))
        ctx_id = draw(st.sampled_from(CONTEXT_IDS))
        stream = streams.setdefault((conn, ctx_id), Stream(base=draw(st.integers(0, 1))))
        kind = draw(st.sampled_from(KINDS))
        direction = Direction.RECV
        expected = stream.base if stream.last_done is None else stream.last_done + 1
        segment_ids = [None, expected, expected + 1, stream.base + stream.flushes, -1, 9]
        text: str
        if kind in ("send", "flush", "end"):
            direction = Direction.SEND
            request: dict[str, Any] = {"context_id": ctx_id, "model_id": "sonic-3"}
            if draw(st.integers(0, 15)) == 15:
                del request["context_id"]
            request["transcript"] = (
                "" if kind != "send" else draw(st.sampled_from(["Hello. ", "world", " ", "ok.", "Two words"]))
            )
            fmt = draw(st.sampled_from(FORMATS))
            if fmt is not None:
                request["output_format"] = fmt
            request["continue"] = kind != "end"
            if kind == "flush" or (kind == "send" and draw(st.integers(0, 4)) == 4):
                request["flush"] = True
                stream.flushes += 1
            delay = draw(st.sampled_from([None, 0, 500]))
            if delay is not None:
                request["max_buffer_delay_ms"] = delay
            if draw(st.integers(0, 3)) == 3:
                request["add_timestamps"] = True
            if draw(st.integers(0, 7)) == 7:
                request["voice"] = {"mode": "id", "id": draw(st.sampled_from(["v1", "v2"]))}
            text = dumps(draw, request)
        elif kind == "cancel":
            direction = Direction.SEND
            text = dumps(draw, {"context_id": ctx_id, "cancel": True})
        elif kind == "bad_client":
            direction = Direction.SEND
            text = draw(st.sampled_from(BAD_CLIENT))
        elif kind == "chunk":
            data = audio_data(draw)
            chunk: dict[str, Any] = {"type": "chunk", "context_id": ctx_id, "status_code": 206, "done": False}
            if draw(st.integers(0, 9)) == 9:
                del chunk["context_id"]
            if draw(st.integers(0, 9)) == 9 and len(data) > 40:
                # A member named "data" before the real one, alike at first: the audio must not be cut from it.
                chunk["x"] = {"data": data[:-4] + ("AAAA" if not data.endswith("AAAA") else "BBBB")}
            flush_id = draw(st.sampled_from(segment_ids))
            members = [("data", data), ("step_time", 1.5), ("flush_id", flush_id)]
            for key, value in draw(st.permutations(members)):
                if value is not None:
                    chunk[key] = value
            text = dumps(draw, chunk)
        elif kind in ("words", "phonemes"):
            tokens = draw(st.lists(st.sampled_from(["Hi", "there", "h", "ai"]), max_size=3))
            key, inner = (
                ("word_timestamps", "words") if kind == "words" else ("phoneme_timestamps", "phonemes")
            )
            kind_name = "timestamps" if kind == "words" else "phoneme_timestamps"
            times = {
                inner: tokens,
                "start": [i / 4 for i in range(len(tokens))],
                "end": [i / 4 + 0.25 for i in range(len(tokens))],
            }
            obj: dict[str, Any] = {
                "type": kind_name,
                "context_id": ctx_id,
                "status_code": 206,
                "done": False,
                key: times,
            }
            flush_id = draw(st.sampled_from(segment_ids))
            if flush_id is not None:
                obj["flush_id"] = flush_id
            text = dumps(draw, obj)
        elif kind == "flush_done":
            flush_id = draw(
                st.sampled_from([expected, expected, expected + 1, stream.last_done, None, "one"])
            )
            obj = {"type": "flush_done", "context_id": ctx_id, "status_code": 206, "done": False, "data": ""}
            if flush_id is not None:
                obj["flush_id"] = flush_id
            obj["flush_done"] = True
            if isinstance(flush_id, int):
                stream.last_done = max(
                    flush_id, stream.last_done if stream.last_done is not None else flush_id
                )
            text = dumps(draw, obj)
        elif kind == "done":
            text = dumps(draw, {"type": "done", "context_id": ctx_id, "status_code": 206, "done": True})
        elif kind == "error":
            obj = {"type": "error", "status_code": draw(st.sampled_from([400, 401, 429, None])), "done": True}
            if draw(st.integers(0, 4)) < 4:
                obj["context_id"] = ctx_id
            obj["error"] = draw(st.sampled_from(ERRORS))
            text = dumps(draw, obj)
        elif kind == "unknown":
            text = dumps(draw, {"type": "mystery", "context_id": ctx_id, "status_code": 206, "done": False})
        elif kind == "bad_server":
            text = draw(st.sampled_from(BAD_SERVER))
        else:
            direction = Direction.META
            if kind == "connect":
                text = meta_text("connect", url=URL)
            elif kind == "close":
                code = draw(st.sampled_from([1000, 1001, 1006, 1011, None]))
                text = meta_text("close", code=code, reason=draw(st.sampled_from(["", "bye"])))
            elif kind == "meta_error":
                text = meta_text("error", message="send failed")
            else:
                text = meta_text("binary", bytes=12)
        steps.append(Step(ms, conn, direction, text, tick_ms))
    return steps
