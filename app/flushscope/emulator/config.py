"""Settings of the embedded emulator: pacing, the behaviours the sources disagree on, limits and faults."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from flushscope.core.inputs.text_buffer import DEFAULT_BUFFER_DELAY_MS

#: The version the current official Python SDK sends; used when a client names none.
DEFAULT_VERSION: Final = "2026-08-14"
#: From this version on, error frames carry the structured fields and a request id.
STRUCTURED_ERRORS_SINCE: Final = "2026-03-01"


@dataclass(frozen=True)
class Pacing:
    """When audio goes out, modelled on the real service (first audio about 90 ms after the text is ready;
    chunks of about 93 ms of audio, one every 58 ms or so, i.e. 1.6 times real time)."""

    first_audio_ms: float = 90.0
    chunk_ms: float = 93.0
    #: Audio seconds delivered per wall second once audio flows; 0 means as fast as possible.
    speedup: float = 1.6

    @classmethod
    def instant(cls) -> Pacing:
        """No waiting at all: for tests and benchmarks."""
        return cls(first_audio_ms=0.0, chunk_ms=93.0, speedup=0.0)


class CancelReply(StrEnum):
    """What the server sends after a cancel: nothing (docs) or a final ``done`` (the spec's example)."""

    NONE = "none"
    DONE = "done"


@dataclass(frozen=True)
class Faults:
    """Deliberate misbehaviour, for testing clients (and flushscope's own anomaly detection)."""

    #: Abort the socket (no close frame) after this many chunks on a connection.
    close_after_chunks: int | None = None
    #: Extra wait before each segment's first chunk.
    extra_delay_ms: float = 0.0
    #: A pause of this length after the first chunk of every segment (a stall inside a segment).
    stall_ms: float = 0.0
    #: Send a frame that is not JSON after every N frames.
    malformed_every: int | None = None
    #: Never send ``done``.
    drop_done: bool = False
    #: Answer every WebSocket upgrade with HTTP 429.
    reject_429: bool = False
    #: Send one more chunk of a segment after its ``flush_done``.
    late_chunk: bool = False
    #: Number segments 1, 3, 5, ... (flush ids skip).
    skip_flush_id: bool = False
    #: Reset the TCP connection (RST: no close frame, no FIN) after this many chunks on a connection.
    reset_after_chunks: int | None = None
    #: Send the first chunk of every segment twice in a row (the same frame, byte for byte).
    duplicate_chunk: bool = False
    #: Hold each segment's last chunk back until after the next segment's ``flush_done`` (late by one
    #: segment); when no later segment closes, it goes out just before ``done``.
    late_segment: bool = False
    #: After each context's first chunk, a copy of it for a context nobody opened (``unopened-<id>``).
    stray_context: bool = False
    #: After this many chunks on a connection, once, a chunk frame over 1 MiB (silence of the context's
    #: format): websockets clients refuse it with 1009 by default.
    oversized_after_chunks: int | None = None


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes the emulator's behaviour. The defaults follow the documentation."""

    host: str = "127.0.0.1"
    port: int = 0
    #: When set, only this key is accepted (HTTP 401 otherwise); when None any key, or none, is accepted.
    require_key: str | None = None
    pacing: Pacing = field(default_factory=Pacing)
    #: The flush_id of a context's first segment: 1 as documented, 0 as the 2.x SDK expected.
    flush_id_base: int = 1
    #: Leave flush_id off the frames generated before the context's first flush request arrived.
    no_flush_id_before_flush: bool = False
    #: With max_buffer_delay_ms 0, close a segment (flush_done) after every input, as seen in the wild.
    flush_done_per_input: bool = False
    cancel_reply: CancelReply = CancelReply.NONE
    #: Active contexts allowed across the server; beyond it a 429 error frame.
    max_contexts: int | None = None
    #: Close a socket that received nothing for this long (code 1000, "connection idle timeout").
    idle_timeout_s: float = 300.0
    #: The strict reading of the docs: end an open context this long after its last audio. None = never.
    context_expiry_s: float | None = None
    #: Used when the client sends no max_buffer_delay_ms.
    default_buffer_delay_ms: int = DEFAULT_BUFFER_DELAY_MS
    faults: Faults = field(default_factory=Faults)
