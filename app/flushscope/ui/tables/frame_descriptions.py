"""What a frame's text says, for the frames table: its type, the flush_id and context_id it carried, and a
one-line summary. Each frame's JSON is parsed once, when its row is appended."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from flushscope.core.frames import Direction

# The frames table stores flush_ids as int64 with this as "none": only ids above it are taken.
_NO_ID = np.iinfo(np.int64).min
_I64_MAX = np.iinfo(np.int64).max
_SUMMARY_MAX = 200


def _clip(text: str, limit: int = _SUMMARY_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _int_id(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and _NO_ID < value <= _I64_MAX:
        return value
    return None


def _load(text: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


@dataclass(frozen=True, slots=True)
class _Described:
    type: str
    flush_id: int | None
    summary: str
    context_id: str | None


def _describe_send(text: str) -> _Described:
    obj = _load(text)
    if obj is None:
        return _Described("raw", None, _clip(text), None)
    cid = obj.get("context_id")
    cid = cid if isinstance(cid, str) else None
    if obj.get("cancel") is True and "transcript" not in obj:
        return _Described("cancel", None, "cancel", cid)
    transcript = obj.get("transcript")
    if not isinstance(transcript, str):
        return _Described("raw", None, _clip(text), cid)
    kind = "flush" if obj.get("flush") is True else "end" if obj.get("continue") is not True else "transcript"
    quoted = _clip(json.dumps(transcript, ensure_ascii=False))
    if kind != "transcript":
        quoted = f"{quoted} + {kind}" if transcript else kind
    return _Described(kind, None, quoted, cid)


def _tokens(obj: dict[str, Any], outer: str, inner: str) -> str:
    timings = obj.get(outer)
    tokens = timings.get(inner) if isinstance(timings, dict) else None
    if not isinstance(tokens, list):
        return ""
    return _clip(" ".join(str(t) for t in tokens[:40]))


def _describe_recv(text: str) -> _Described:
    obj = _load(text)
    if obj is None:
        return _Described("raw", None, _clip(text), None)
    cid = obj.get("context_id")
    cid = cid if isinstance(cid, str) else None
    flush_id = _int_id(obj.get("flush_id"))
    kind = obj.get("type")
    if not isinstance(kind, str) or not kind:
        kind = "error" if "error" in obj else "raw"
    if kind == "chunk":
        data = obj.get("data")
        size = len(data) * 3 // 4 - len(data) + len(data.rstrip("=")) if isinstance(data, str) else 0
        summary = f"{size} bytes audio"
    elif kind == "timestamps":
        summary = "words: " + _tokens(obj, "word_timestamps", "words")
    elif kind == "phoneme_timestamps":
        summary = "phonemes: " + _tokens(obj, "phoneme_timestamps", "phonemes")
    elif kind == "flush_done":
        summary = f"flush_done {flush_id if flush_id is not None else '(no flush_id)'}"
    elif kind == "done":
        summary = "done"
    elif kind == "error":
        parts = [obj.get(k) for k in ("title", "message", "error")]
        words = [p for p in parts if isinstance(p, str) and p]
        status = obj.get("status_code")
        prefix = f"{status} " if isinstance(status, int) else ""
        summary = _clip(prefix + (": ".join(words[:2]) if words else "error with no description"))
    else:
        summary = _clip(text)
    return _Described(kind, flush_id, summary, cid)


def _describe_meta(text: str) -> _Described:
    obj = _load(text) or {}
    event = obj.get("event")
    kind = event if isinstance(event, str) and event else "meta"
    details = {k: v for k, v in obj.items() if k != "event"}
    if kind == "connect" and isinstance(details.get("url"), str):
        summary = f"connect {details['url']}"
    elif kind == "close":
        summary = f"close {details.get('code', '')} {details.get('reason') or ''}".strip()
    elif kind == "error" and "message" in details:
        summary = f"error: {details['message']}"
    else:
        summary = kind + (" " + json.dumps(details, ensure_ascii=False) if details else "")
    return _Described(kind, None, _clip(summary), None)


_DESCRIBE: dict[Direction, Callable[[str], _Described]] = {
    Direction.SEND: _describe_send,
    Direction.RECV: _describe_recv,
    Direction.META: _describe_meta,
}
