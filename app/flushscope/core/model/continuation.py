"""A connection recorded in parts: what one part hands to the next, so that every part opens on its own.

The proxy can cut a long connection's capture into parts (``flushscope proxy --capture-dir DIR --rotate-mb N``).
The cut falls between two frames, often in the middle of a context. So that each part loads alone without
false anomalies:

- a part that is not the last ends with a ``rotated`` meta event naming the next part
  (``{"event": "rotated", "next": "NAME-part2.jsonl"}``): what its contexts still await (a ``flush_done``, a
  ``done``) is awaited in the next part, so this part does not count it as never received;
- a later part starts with the connection's ``connect`` event (repeated, with ``part``), then a
  ``continued`` event that names the part before and carries the contexts still going on at the cut::

    {"event": "continued", "part": 2, "previous": "NAME.jsonl", "contexts": [
      {"context_id": "a", "state": "open", "request": {...}, "base": 3, "flushes_sent": 3,
       "last_flush_done_id": 2, "end_s_ago": null, "segments": [
         {"state": "flushing", "text": "How are you?", "sent_s_ago": 0.8, "flushed_s_ago": 0.4,
          "first_audio_s_ago": 0.1},
         {"state": "open", "text": "", "sent_s_ago": null, "flushed_s_ago": null, "first_audio_s_ago": null}]}]}

  ``request`` is the context's first request without its transcript (its voice and output format, which the
  audio needs). Only the segments from the first one not yet closed by ``flush_done`` on are carried, and
  ``base`` is the flush_id of the first carried one, so the server's numbering goes on where it was. Times
  are seconds before the previous part's last frame; in the later part they become times before the event
  (negative, near its start), so that a ``flush_done`` that arrives there is timed from its flush, and one
  that never does is flagged once its usual wait is over. ``overdue`` says that a wait (for a segment's
  ``flush_done``, an ended context's ``done``) was over at the cut: the part before flagged it, and the
  later part does not flag it again. A carried segment's text stands as one
  transcript, recorded by the ``continued`` event; its earlier chunks stay in the part before.

The event is read as untrusted input: a context entry that is not what this module writes is left out (its
frames are then flagged as frames of an unknown context, which is what they are to this part).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from flushscope.core.model.records import Context, ContextState, Segment, SegmentState, Transcript
from flushscope.protocol.audio import AudioFormat, AudioFormatError
from flushscope.protocol.messages import GenerationRequest, ProtocolError

__all__ = ["CONTINUED", "ROTATED", "Joined", "Waits", "carried_contexts", "carried_from", "joined_contexts"]

#: The meta event that opens a later part, and the one that ends a part the next one continues.
CONTINUED: Final = "continued"
ROTATED: Final = "rotated"

_CARRIED_STATES: Final = (ContextState.OPEN, ContextState.ENDING)
_CONTEXT_STATES: Final[dict[str, ContextState]] = {s.value: s for s in _CARRIED_STATES}
_SEGMENT_STATES: Final[dict[str, SegmentState]] = {s.value: s for s in SegmentState}


@dataclass(frozen=True)
class Waits:
    """How long the model waits for a flush's ``flush_done`` and an end's ``done``, in seconds."""

    flush_done_s: float
    done_s: float


def _ago(now: float, t: float | None) -> float | None:
    return None if t is None else round(max(0.0, now - t), 6)


def _carried_segment(segment: Segment, now: float, waits: Waits) -> dict[str, Any]:
    flush_t = segment.flush_t
    return {
        "state": segment.state.value,
        "overdue": segment.state is SegmentState.FLUSHING
        and flush_t is not None
        and flush_t + waits.flush_done_s <= now,
        "text": segment.text,
        "sent_s_ago": _ago(now, segment.first_send_t),
        "flushed_s_ago": _ago(now, flush_t),
        "first_audio_s_ago": _ago(now, segment.first_audio_t),
    }


def carried_from(ctx: Context) -> int | None:
    """The first segment of ``ctx`` that a ``continued`` event carries on (the first not closed by
    ``flush_done``), or None when the context is not carried (it is finished)."""
    if ctx.state not in _CARRIED_STATES or ctx.request is None:
        return None
    return next((s.ordinal for s in ctx.segments if s.state is not SegmentState.CLOSED), len(ctx.segments))


def carried_contexts(contexts: list[Context], conn: int, now: float, waits: Waits) -> list[dict[str, Any]]:
    """The ``contexts`` of a ``continued`` event: those of connection ``conn`` still going on (open, or
    ended and awaiting ``done``) at time ``now``, the time of the ``rotated`` event that ends the part. Its
    session waits as ``waits`` says, and has flagged the waits over by then."""
    carried = []
    for ctx in contexts:
        first = carried_from(ctx)
        if ctx.conn != conn or first is None or ctx.request is None:
            continue
        segments = ctx.segments[first:] or [Segment(ctx, len(ctx.segments))]
        request = ctx.request.to_obj()
        request["transcript"] = ""
        end_t = ctx.end_t
        carried.append(
            {
                "context_id": ctx.context_id,
                "state": ctx.state.value,
                "request": request,
                "base": None if ctx.base is None else ctx.base + first,
                "flushes_sent": ctx.flushes_sent,
                "last_flush_done_id": ctx.last_flush_done_id,
                "end_s_ago": _ago(now, end_t),
                "overdue": ctx.state is ContextState.ENDING
                and end_t is not None
                and end_t + waits.done_s <= now,
                "segments": [_carried_segment(s, now, waits) for s in segments],
            }
        )
    return carried


@dataclass
class Joined:
    """What a ``continued`` event brings into a session: the contexts, and what they still await (the time,
    and the segment awaiting its ``flush_done`` or the context awaiting its ``done``)."""

    contexts: list[Context] = field(default_factory=list)
    awaited: list[tuple[float, Segment | Context]] = field(default_factory=list)


def _number(value: object) -> float | None:
    """A non-negative finite number of seconds, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _joined(entry: Mapping[str, Any], conn: int, t: float, frame: int, joined: Joined, waits: Waits) -> None:
    """One carried context, as a context of the part that continues; left out when the entry is not usable."""
    context_id = entry.get("context_id")
    state = _CONTEXT_STATES.get(str(entry.get("state")))
    request_obj = entry.get("request")
    segments = entry.get("segments")
    if not isinstance(context_id, str) or state is None or not isinstance(request_obj, dict):
        return
    if not isinstance(segments, list) or not segments or not all(isinstance(s, dict) for s in segments):
        return
    try:
        request = GenerationRequest.from_obj(request_obj)
    except ProtocolError:
        return
    ctx = Context(0, conn, context_id, t, request=request, state=state)
    ctx.base = _whole(entry.get("base"))
    ctx.flushes_sent = _whole(entry.get("flushes_sent")) or 0
    ctx.last_flush_done_id = _whole(entry.get("last_flush_done_id"))
    try:
        ctx.format = AudioFormat.from_json(request.output_format)
        ctx.sample_width, ctx.sample_rate = ctx.format.encoding.sample_width, ctx.format.sample_rate
    except AudioFormatError:
        ctx.format = None
    for ordinal, item in enumerate(segments):
        segment = _joined_segment(ctx, ordinal, item, t, frame)
        ctx.segments.append(segment)
        if (
            segment.state is SegmentState.FLUSHING
            and segment.flush_t is not None
            and item.get("overdue") is not True
        ):
            joined.awaited.append((segment.flush_t + waits.flush_done_s, segment))
    if state is ContextState.ENDING:
        # An end must have a time: without one it is timed from the cut.
        ctx.end_t = t - (_number(entry.get("end_s_ago")) or 0.0)
        if entry.get("overdue") is not True:
            joined.awaited.append((ctx.end_t + waits.done_s, ctx))
    ctx.frames.append(frame)
    joined.contexts.append(ctx)


def _joined_segment(ctx: Context, ordinal: int, item: Mapping[str, Any], t: float, frame: int) -> Segment:
    segment = Segment(ctx, ordinal, state=_SEGMENT_STATES.get(str(item.get("state")), SegmentState.OPEN))
    text = item.get("text")
    sent_ago = _number(item.get("sent_s_ago"))
    if isinstance(text, str) and text:
        segment.transcripts.append(Transcript(text, t - (sent_ago or 0.0), frame))
    flushed_ago = _number(item.get("flushed_s_ago"))
    if flushed_ago is not None or segment.state is SegmentState.FLUSHING:
        # A flush must have a time: without one it is timed from the cut.
        segment.flush_t, segment.flush_frame = t - (flushed_ago or 0.0), frame
    audio_ago = _number(item.get("first_audio_s_ago"))
    if audio_ago is not None:
        segment.first_audio_t = t - audio_ago
    return segment


def joined_contexts(event: Mapping[str, Any], conn: int, t: float, frame: int, waits: Waits) -> Joined:
    """The contexts a ``continued`` event (frame ``frame``, at ``t``, on connection ``conn``) carries, for a
    session that waits as ``waits`` says; entries that cannot be used (or repeat a context) are left out.
    The contexts are numbered 0: the session numbers them as it takes them."""
    joined = Joined()
    entries = event.get("contexts")
    if not isinstance(entries, list):
        return joined
    for entry in entries:
        if isinstance(entry, dict) and all(c.context_id != entry.get("context_id") for c in joined.contexts):
            _joined(entry, conn, t, frame, joined, waits)
    return joined
