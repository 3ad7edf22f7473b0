"""One proxied connection: every frame forwarded both ways, in order and unchanged, each recorded first; then
the close of whichever side ends first, passed on to the other.

Two pump tasks, one per direction, as websockets' consumer/producer pattern has it. Each reads its source
until that side is closed, records every message (text frames verbatim as ``send`` app to upstream and
``recv`` upstream to app; binary ones as a ``binary`` meta event with their size) and forwards it.
A slow receiver holds its pump, so back-pressure reaches the sender instead of a queue. Once one side has
ended, the other is closed with the code :func:`close_outcome` chooses, and its pump drains what was still
in flight until it ends too. What reaches the proxy but cannot be delivered any more is recorded all the
same, as an ``undelivered`` meta event (``dir``, and the ``frame`` text or the ``bytes`` of a binary
message), and counted in the ``close`` event: nothing that reached the proxy is lost.

Closes, as passed on:

- a side that sent a close frame: its code and reason go to the other side unchanged (a close frame with
  no code stays without one);
- the app dropped (no close frame): the upstream gets 1001 "client went away";
- the upstream dropped: the app gets 1014 "upstream dropped";
- the proxy closed a side itself (a protocol error, no pong from the upstream): the other side gets 1001
  (app) or 1014 (upstream) naming why; when the proxy stops, the upstream gets 1001 "proxy stopped".

A frame over the proxy's limit for its side is refused by websockets from the frame's header, before its
payload is read: that side is closed with 1009 and the frame is neither forwarded nor recorded. The capture
gets a ``frame_too_big`` meta event (see :meth:`Relay.oversize`) before the ``close`` event, whose
``relayed_code`` is 1001 for the upstream (the app's frame) or 1014 for the app (the upstream's frame).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, cast

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.connection import Connection
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed, PayloadTooBig
from websockets.frames import Close, CloseCode
from websockets.protocol import State

from flushscope.core.frames import Direction
from flushscope.net.proxy_recording import FrameSink

log = logging.getLogger("flushscope.proxy")

#: A close reason may hold 123 bytes of UTF-8.
_MAX_REASON: Final = 123


class ProxyState(StrEnum):
    """Where a proxied connection is in its life."""

    #: The app asked to connect; the proxy is dialling the upstream.
    CONNECTING = "connecting"
    #: Both sides are open and frames flow.
    OPEN = "open"
    #: Both sides are closed.
    CLOSED = "closed"
    #: The upstream refused or could not be reached; the app got an HTTP error instead of a WebSocket.
    REFUSED = "refused"


class Side(StrEnum):
    """Who ended a connection."""

    APP = "app"
    UPSTREAM = "upstream"
    PROXY = "proxy"


@dataclass(eq=False)
class ProxyConnection:
    """What the window shows of one proxied connection. Updated in place; listeners hear every change of
    :attr:`state`."""

    #: The connection's number in the session (``conn`` of its frames).
    number: int
    #: The app's User-Agent, or words saying it sent none.
    client: str
    #: The app's address, ``host:port``.
    remote: str
    #: The upstream URL, secrets removed.
    upstream_url: str
    state: ProxyState = ProxyState.CONNECTING
    #: Text and binary frames forwarded from the app to the upstream, and back.
    sent: int = 0
    received: int = 0
    #: The HTTP status the app got when refused (the upstream's own, or 502/503/504 from the proxy).
    status: int | None = None
    #: Why it was refused or failed, in words.
    error: str | None = None
    #: How it ended: the code and reason of the side that ended first (1006 when it dropped), and who.
    close_code: int | None = None
    close_reason: str = ""
    closed_by: Side | None = None


@dataclass(frozen=True)
class CloseOutcome:
    """How one side ended, and what the proxy sends the other side."""

    code: int
    reason: str
    by: Side
    #: None: a close frame without a code, as received.
    relayed_code: int | None
    relayed_reason: str


def _reason(text: str) -> str:
    data = text.encode("utf-8")[:_MAX_REASON]
    return data.decode("utf-8", "ignore")


def close_outcome(
    side: Side, rcvd: Close | None, sent: Close | None, rcvd_then_sent: bool | None, *, stopping: bool = False
) -> CloseOutcome:
    """How ``side`` (app or upstream) ended, from its close frames, and the close to send the other side."""
    if rcvd is not None and (sent is None or rcvd_then_sent):
        if rcvd.code == CloseCode.NO_STATUS_RCVD:
            return CloseOutcome(rcvd.code, "", side, None, "")
        return CloseOutcome(rcvd.code, rcvd.reason, side, rcvd.code, rcvd.reason)
    if sent is not None:
        if stopping:
            return CloseOutcome(sent.code, sent.reason, Side.PROXY, CloseCode.GOING_AWAY, "proxy stopped")
        if side is Side.UPSTREAM:
            why = _reason(f"upstream: {sent.reason or 'closed by the proxy'}")
            return CloseOutcome(sent.code, sent.reason, Side.PROXY, CloseCode.BAD_GATEWAY, why)
        why = _reason(f"client: {sent.reason or 'closed by the proxy'}")
        return CloseOutcome(sent.code, sent.reason, Side.PROXY, CloseCode.GOING_AWAY, why)
    if side is Side.UPSTREAM:
        return CloseOutcome(CloseCode.ABNORMAL_CLOSURE, "", side, CloseCode.BAD_GATEWAY, "upstream dropped")
    return CloseOutcome(CloseCode.ABNORMAL_CLOSURE, "", side, CloseCode.GOING_AWAY, "client went away")


def _ended(side: Side, ws: Connection, stopping: bool) -> CloseOutcome:
    protocol = ws.protocol
    return close_outcome(
        side, protocol.close_rcvd, protocol.close_sent, protocol.close_rcvd_then_sent, stopping=stopping
    )


async def close_with(ws: Connection, code: int | None, reason: str) -> None:
    """Close ``ws`` with ``code`` and ``reason``; a ``None`` code sends a close frame without one, which
    websockets does when given None."""
    await ws.close(cast(int, code), reason)


@dataclass(eq=False)
class Relay:
    """Forwards one app connection to its upstream connection until both are closed."""

    recorder: FrameSink
    info: ProxyConnection
    app: ServerConnection
    upstream: ClientConnection
    #: Tells whether the proxy is stopping (its own close of the app then says so upstream).
    stopping: Callable[[], bool]
    #: Messages that arrived after their destination had closed.
    undelivered: dict[str, int] = field(default_factory=lambda: {"to_app": 0, "to_upstream": 0})

    async def run(self) -> CloseOutcome:
        """Forward until both sides are closed; record the close; return how it ended."""
        number = self.info.number
        to_upstream = asyncio.create_task(
            self._pump(self.app, self.upstream, Direction.SEND, "to_upstream"), name=f"proxy {number} app"
        )
        to_app = asyncio.create_task(
            self._pump(self.upstream, self.app, Direction.RECV, "to_app"), name=f"proxy {number} upstream"
        )
        pumps = {to_upstream, to_app}
        try:
            done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            # When both ended at once (the proxy stopping), the app's side speaks first.
            if to_upstream in done:
                outcome = _ended(Side.APP, self.app, self.stopping())
                other: Connection = self.upstream
            else:
                outcome = _ended(Side.UPSTREAM, self.upstream, self.stopping())
                other = self.app
            await close_with(other, outcome.relayed_code, outcome.relayed_reason)
            await asyncio.gather(*pumps)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            if self.upstream.state is not State.CLOSED:
                self.upstream.transport.abort()
        for side, direction in ((self.app, Direction.SEND), (self.upstream, Direction.RECV)):
            oversize = self.oversize(side, direction)
            if oversize is not None:
                self._meta("frame_too_big", oversize)
                info = self.info
                info.error = f"{oversize['from']} sent a frame over the limit of {oversize['limit']} bytes"
        self._record_close(outcome)
        return outcome

    @staticmethod
    def oversize(ws: Connection, direction: Direction) -> dict[str, Any] | None:
        """What the capture says of a frame refused for its size on ``ws``, or None when none was:

        - ``dir``: ``send`` (from the app) or ``recv`` (from the upstream); ``from``: ``app`` or ``upstream``;
        - ``bytes``: the frame's size as its header announced it (null when a compressed frame grew past the
          limit while it was inflated: its size is not known);
        - ``before``: bytes of the same message already received in earlier fragments (0 for one frame);
        - ``limit``: the limit for the whole message, in bytes;
        - ``code``: the close code sent to that side (1009).
        """
        exc = ws.protocol.parser_exc
        if not isinstance(exc, PayloadTooBig) or exc.message is not None:
            return None
        before = exc.current_size or 0
        return {
            "dir": direction.value,
            "from": Side.APP.value if direction is Direction.SEND else Side.UPSTREAM.value,
            "bytes": exc.size,
            "before": before,
            "limit": exc.max_size,
            "code": CloseCode.MESSAGE_TOO_BIG,
        }

    async def _pump(self, source: Connection, sink: Connection, direction: Direction, lost: str) -> None:
        # App frames are recorded before they go on, so that no reply can be recorded ahead of its request;
        # upstream frames go on first and are recorded after, keeping the model's work off their way.
        app_to_upstream = direction is Direction.SEND
        info = self.info
        try:
            async for message in source:
                if sink.state is not State.OPEN:
                    self._undelivered(direction, message, lost)
                    continue
                if app_to_upstream:
                    self._record(direction, message)
                    info.sent += 1
                try:
                    await sink.send(message)
                except ConnectionClosed:
                    if app_to_upstream:
                        self.undelivered[lost] += 1  # recorded as sent already
                    else:
                        self._undelivered(direction, message, lost)
                    continue
                if not app_to_upstream:
                    self._record(direction, message)
                    info.received += 1
        except ConnectionClosed:
            pass

    def _record(self, direction: Direction, message: str | bytes) -> None:
        # The model must never stop the traffic: a frame it cannot take is still forwarded (the recorder
        # writes the capture line before the model looks at it).
        try:
            if isinstance(message, str):
                self.recorder.record(self.info.number, direction, message)
            else:
                self.recorder.meta(self.info.number, "binary", dir=direction.value, bytes=len(message))
        except Exception:
            log.exception("recording a proxied frame failed")

    def _undelivered(self, direction: Direction, message: str | bytes, lost: str) -> None:
        self.undelivered[lost] += 1
        content = {"frame": message} if isinstance(message, str) else {"bytes": len(message)}
        self._meta("undelivered", {"dir": direction.value, **content})

    def _meta(self, event: str, fields: dict[str, Any]) -> None:
        try:
            self.recorder.meta(self.info.number, event, **fields)
        except Exception:
            log.exception("recording a proxied %s failed", event)

    def _record_close(self, outcome: CloseOutcome) -> None:
        fields: dict[str, Any] = {
            "code": outcome.code,
            "reason": outcome.reason,
            "by": outcome.by.value,
            "relayed_code": outcome.relayed_code,
            "relayed_reason": outcome.relayed_reason,
        }
        if any(self.undelivered.values()):
            fields["undelivered"] = dict(self.undelivered)
        self._meta("close", fields)
        info = self.info
        info.close_code, info.close_reason, info.closed_by = outcome.code, outcome.reason, outcome.by
