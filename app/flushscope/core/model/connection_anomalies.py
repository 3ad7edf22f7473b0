"""What goes wrong with a connection itself, in words: it was refused, a side went away before its contexts
were done, the proxy refused a frame, a frame is too big for clients, a key was withheld, and where a
recording ends while its connection was still open.

As :mod:`~flushscope.core.model.anomalies` (the kinds, and the findings of frames and segments), each builder
takes the facts of one situation and returns a :class:`~flushscope.core.model.anomalies.Finding`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from flushscope.core.model.anomalies import AnomalyKind, Finding, Severity


def _error(kind: AnomalyKind, message: str) -> Finding:
    return Finding(kind=kind, severity=Severity.ERROR, message=message)


def _warning(kind: AnomalyKind, message: str) -> Finding:
    return Finding(kind=kind, severity=Severity.WARNING, message=message)


#: What each close code means, in a few words (RFC 6455 and the IANA registry).
CLOSE_CODE_WORDS: Final[dict[int, str]] = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1006: "no close frame",
    1007: "invalid data",
    1008: "policy violation",
    1009: "message too big",
    1010: "extension required",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
}

#: Who ended a connection, as :func:`closed_before_done` takes it.
APP: Final = "app"
SERVER: Final = "server"
PROXY: Final = "proxy"

#: Codes a side sends when it means to close: the connection ended on purpose, not by a failure.
_CLEAN_CODES: Final = (1000, 1001)
#: Codes that say the server side failed or vanished: dropped (1006, or no code at all), failed (1011), or
#: reported as dropped by a proxy in between (1014).
_SERVER_FAILED_CODES: Final = (None, 1006, 1011, 1014)


def _close_words(code: int | None, reason: str) -> str:
    what = "no close code" if code is None else f"code {code}"
    if code in CLOSE_CODE_WORDS:
        what += f" {CLOSE_CODE_WORDS[code]}"
    return f"{what}, {reason}" if reason else what


def connection_lost(*, context_id: str, code: int | None, reason: str) -> Finding:
    """The connection closed before a context was done, and the capture does not say who closed it; a clean
    close code makes it a warning."""
    return Finding(
        kind=AnomalyKind.CONNECTION_LOST,
        severity=Severity.WARNING if code in _CLEAN_CODES else Severity.ERROR,
        message=f"the connection closed (code {code}, {reason or 'no reason'}) before context {context_id} "
        "was done",
    )


def closed_before_done(
    *, context_id: str, code: int | None, reason: str, by: str | None, gave_up: bool = False
) -> Finding:
    """The connection ended before a context was done, told apart by who ended it (``by``: :data:`APP`,
    :data:`SERVER`, :data:`PROXY`, or None when the capture does not say): the app went away (a warning: it
    chose to), the server went away (an error, unless it closed with a clean code), or the proxy closed it.
    ``gave_up``: the client closed it because the server had stopped answering."""
    tail = f"before context {context_id} was done"
    how = _close_words(code, reason)
    dropped = code is None or code == 1006
    if gave_up:
        return _error(
            AnomalyKind.SERVER_WENT_AWAY,
            f"the server went away: it stopped answering, and the client gave the connection up ({how}) {tail}",
        )
    if by == APP:
        did = "dropped the connection without a close frame" if dropped else f"closed the connection ({how})"
        return _warning(
            AnomalyKind.APP_WENT_AWAY, f"the app went away: it {did} {tail}, without waiting for its audio"
        )
    if by == SERVER or (by is None and code in _SERVER_FAILED_CODES):
        did = "dropped the connection without a close frame" if dropped else f"closed the connection ({how})"
        return Finding(
            kind=AnomalyKind.SERVER_WENT_AWAY,
            severity=Severity.WARNING if code in _CLEAN_CODES else Severity.ERROR,
            message=f"the server went away: it {did} {tail}",
        )
    if by == PROXY:
        return Finding(
            kind=AnomalyKind.CONNECTION_LOST,
            severity=Severity.WARNING if code in _CLEAN_CODES else Severity.ERROR,
            message=f"the proxy closed the connection ({how}) {tail}",
        )
    return connection_lost(context_id=context_id, code=code, reason=reason)


#: What a refused WebSocket upgrade's status usually means.
REFUSAL_CAUSES: Final[dict[int, str]] = {
    400: "the server rejected the upgrade request",
    401: "the API key is missing or wrong",
    402: "the account has no credits, or no plan for this",
    403: "the API key may not use this endpoint",
    404: "there is no TTS WebSocket at this URL",
    429: "too many connections at once for the account (the limit is ten times its concurrency)",
    502: "the proxy could not reach its upstream, or what answered there is not a TTS WebSocket",
    503: "the proxy was stopping",
    504: "the upstream did not answer in time",
}


def connection_refused(*, status: int | None, message: str) -> Finding:
    """The connection never opened: the upgrade was answered with HTTP ``status`` (the server's own, or the
    proxy's 502, 503 or 504), or, with no status, the server could not be reached; ``message`` says what the
    answer or the failure said, its body's text included."""
    message = message.strip() or "no reason given"
    if status is None:
        sentence = f"the connection could not be opened: {message}"
    elif str(status) in message:
        sentence = f"the connection was refused: {message}"
    else:
        sentence = f"the connection was refused with HTTP {status}: {message}"
    cause = REFUSAL_CAUSES.get(status) if status is not None else None
    if cause is None and status is not None and status >= 500:
        cause = "the server failed"
    if cause and cause not in message:
        sentence += f". Likely cause: {cause}"
    return _error(AnomalyKind.CONNECTION_REFUSED, sentence)


def app_left_during_handshake(*, message: str) -> Finding:
    """The app gave up on its connection while the proxy was still opening the upstream for it."""
    return _warning(
        AnomalyKind.APP_WENT_AWAY, f"the app went away before its connection opened: {message or 'no reason'}"
    )


def frame_too_big(*, side: str, size: int | None, before: int, limit: int) -> Finding:
    """The proxy refused a frame over its limit for that side (``side``: :data:`APP` or :data:`SERVER`):
    ``size`` bytes as its header announced (None: a compressed frame that grew past the limit as it was
    inflated), after ``before`` bytes of the same message."""
    what = "a compressed frame that grew past the limit" if size is None else f"a frame of {size:,} bytes"
    if before:
        what += f" (after {before:,} bytes of the same message)"
    if side == APP:
        then = "the proxy closed the app's connection with 1009, and the server's with 1001"
    else:
        then = "the proxy closed the server's connection with 1009, and the app's with 1014"
    return _error(
        AnomalyKind.FRAME_TOO_BIG,
        f"the {side} sent {what}, over the proxy's limit of {limit:,} bytes: {then}; the frame was neither "
        "forwarded nor recorded",
    )


#: The largest frame websockets clients take by default (the official SDK, Pipecat): 1 MiB.
CLIENT_FRAME_LIMIT: Final = 1 << 20


def oversized_frame(*, size: int) -> Finding:
    """A server frame larger than clients built on websockets accept."""
    return _warning(
        AnomalyKind.OVERSIZED_FRAME,
        f"a frame of {size:,} bytes from the server, over the {CLIENT_FRAME_LIMIT:,} that clients built on "
        "websockets (the official SDK, Pipecat) accept: they close the connection with 1009",
    )


def key_withheld(*, remote: str) -> Finding:
    """The proxy did not send the user's key upstream for an app on another machine."""
    return Finding(
        kind=AnomalyKind.KEY_WITHHELD,
        severity=Severity.INFO,
        message=f"the app connected from another machine ({remote or 'address unknown'}): the proxy withheld "
        "your key, so the app's own key went upstream, or none (--share-key sends yours)",
    )


def recording_ends(
    *,
    at: float,
    conn: int,
    context_id: str | None = None,
    flushes: Sequence[tuple[str, float]] = (),
    ended_s_ago: float | None = None,
    flush_done_s: float,
    done_s: float,
) -> Finding:
    """The recording stops while connection ``conn`` is still open: it was cut (a killed process) or is still
    being written. For a context (``context_id``) it says what was still awaited: the flush_done of the
    segments in ``flushes`` (label, seconds since the flush) and, with ``ended_s_ago``, the context's done.
    Information, not a failure: the waits (``flush_done_s``, ``done_s``) were not over, so nothing timed
    out."""
    head = f"the recording ends here ({at:.2f} s)"
    waits = []
    if flushes:
        labels = ", ".join(label for label, _ in flushes)
        several = len(flushes) > 1
        latest = min(ago for _, ago in flushes)
        waits.append(
            f"the flush_done of segment{'s' if several else ''} {labels} {'were' if several else 'was'} "
            f"awaited, {latest:.1f} s after the {'last ' if several else ''}flush ({flush_done_s:g} s allowed)"
        )
    if ended_s_ago is not None:
        waits.append(f"its done was awaited, {ended_s_ago:.1f} s after its end ({done_s:g} s allowed)")
    if waits:
        message = (
            f"{head} while context {context_id} still waited: {'; '.join(waits)}: cut short, not a timeout"
        )
    elif context_id is not None:
        message = f"{head} while context {context_id} was still open"
    else:
        message = f"{head} with connection {conn} still open"
    return Finding(kind=AnomalyKind.RECORDING_ENDS, severity=Severity.INFO, message=message)
