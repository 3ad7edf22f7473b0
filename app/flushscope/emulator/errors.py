"""Error frames the emulator sends, in the shape the client's API version asks for."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flushscope.emulator.config import STRUCTURED_ERRORS_SINCE
from flushscope.protocol.messages import ErrorMessage


@dataclass(frozen=True)
class ErrorKind:
    """One documented failure: HTTP-like status, machine code, title and the legacy one-line text."""

    status: int
    code: str
    title: str
    legacy: str


EMPTY_TRANSCRIPT = ErrorKind(
    400,
    "invalid_transcript",
    "Invalid transcript",
    "transcript empty or contains only punctuation: first transcript for WS is empty or contains only punctuation",
)
BAD_OUTPUT_FORMAT = ErrorKind(400, "invalid_output_format", "Invalid output format", "invalid output format")
BAD_REQUEST = ErrorKind(400, "invalid_request", "Invalid request", "invalid request")
CONCURRENCY = ErrorKind(
    429,
    "concurrency_limited",
    "Too many concurrent requests",
    "You have exceeded your plan's concurrency limit.",
)


def error_frame(kind: ErrorKind, detail: str | None, context_id: str | None, version: str) -> ErrorMessage:
    """Both the legacy ``error`` text and ``title``/``message``/``error_code`` always, so that clients of
    every generation can read it; the request id only for versions that document it."""
    message = f"{kind.legacy}: {detail}" if detail else kind.legacy
    request_id = None
    if version >= STRUCTURED_ERRORS_SINCE:
        request_id = f"{uuid.uuid4()}:{context_id or ''}:{uuid.uuid4()}"
    return ErrorMessage(
        context_id=context_id,
        status_code=kind.status,
        done=True,
        extra={},
        error=message,
        title=kind.title,
        message=message,
        error_code=kind.code,
        request_id=request_id,
    )
