"""What can go wrong between a client's flushes and the server's segments, in words a user understands."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    """``info`` is worth seeing but not a failure; ``warning`` and ``error`` make ``report`` exit 1."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class AnomalyKind(StrEnum):
    """Every anomaly the session model detects."""

    CHUNK_AFTER_FLUSH_DONE = "chunk_after_flush_done"
    FLUSH_ID_SKIPPED = "flush_id_skipped"
    FLUSH_ID_BACKWARDS = "flush_id_backwards"
    FLUSH_DONE_UNREQUESTED = "flush_done_unrequested"
    FLUSH_DONE_TIMEOUT = "flush_done_timeout"
    DONE_TIMEOUT = "done_timeout"
    AFTER_DONE = "after_done"
    UNKNOWN_CONTEXT = "unknown_context"
    AFTER_CANCEL = "after_cancel"
    DONE_WHILE_FLUSH_PENDING = "done_while_flush_pending"
    MISSING_FLUSH_ID = "missing_flush_id"
    PARTIAL_SAMPLE = "partial_sample"
    BAD_BASE64 = "bad_base64"
    SERVER_ERROR = "server_error"
    CONTEXT_REUSED = "context_reused"
    STALL = "stall"
    MALFORMED_FRAME = "malformed_frame"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_CONTEXT_ID = "missing_context_id"
    BAD_OUTPUT_FORMAT = "bad_output_format"
    CONNECTION_LOST = "connection_lost"


@dataclass
class Anomaly:
    """One finding: its kind, where (connection, context, flush_id), the frames involved and a sentence.

    Repeats of the same finding in the same place (say, every chunk of a segment without a flush_id) are
    folded into one anomaly whose ``frames`` grows, so that a noisy stream stays readable.
    """

    kind: AnomalyKind
    severity: Severity
    message: str
    conn: int
    context_id: str | None
    flush_id: int | None
    frames: list[int] = field(default_factory=list)
    #: Position of the context in the session (1-based), when there is one.
    context_number: int | None = None

    @property
    def first_frame(self) -> int | None:
        return self.frames[0] if self.frames else None


#: Known server error texts and what usually causes them.
KNOWN_ERROR_CAUSES: tuple[tuple[str, str], ...] = (
    (
        "empty or contains only punctuation",
        "the context's first transcript was empty, whitespace or punctuation only: typically a framework that "
        "opens and closes a context with no text (a tool call turn, an interrupted turn)",
    ),
    (
        "concurrency",
        "more contexts were active at once than the plan allows; finish or cancel contexts before opening more",
    ),
    ("output format", "output_format must be raw with a supported encoding and sample rate"),
    ("voice", "the voice is missing or not known to the service"),
)


def likely_cause(text: str, status: int | None) -> str | None:
    lowered = text.lower()
    for needle, cause in KNOWN_ERROR_CAUSES:
        if needle in lowered:
            return cause
    if status == 401:
        return "the API key is missing or wrong"
    if status == 429:
        return "a rate or concurrency limit was hit"
    return None
