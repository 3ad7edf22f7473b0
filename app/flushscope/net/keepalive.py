"""Noticing a connection that stopped answering: pings at an interval, "stalled" after a short silence,
given up after a long one.

A dead network or a frozen server does not close a WebSocket: without pings the client would show
"connected" forever. websockets' own keepalive only knows "answered" or "closed after the timeout", so
:class:`KeepaliveMonitor` runs its own ping loop, one owned task per connection, and reports the stage in
between (stalled, then resumed or given up) as it happens.

Silence is counted from the later of the ping and the last frame heard: a server that streams audio is
answering even when its pong is queued behind that audio, and a client busy ingesting a burst must not take
its own backlog for a dead link. When the monitor wakes late (the event loop was busy), it listens a little
longer before it judges, so that data already waiting in the socket is read first.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

#: Longest lateness of a wake-up that still counts as on time, and the extra listening time it earns.
MAX_LAG_S: Final = 0.5


class KeepaliveError(ValueError):
    """A keepalive setting out of range, in words."""


@dataclass(frozen=True)
class Keepalive:
    """How a connection that stopped answering is noticed; all values in seconds.

    ``interval_s``: time between a ping's answer and the next ping.
    ``stall_after_s``: silence after a ping (nothing heard, not even audio) before the connection is
    reported stalled.
    ``timeout_s``: total silence after which the connection is closed as failed; longer than
    ``stall_after_s``.

    Raises :class:`KeepaliveError` for values that are not positive finite numbers or a timeout that does not
    exceed the stall time.
    """

    interval_s: float = 5.0
    stall_after_s: float = 3.0
    timeout_s: float = 20.0

    def __post_init__(self) -> None:
        for name in ("interval_s", "stall_after_s", "timeout_s"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise KeepaliveError(f"{name} must be a number of seconds, not {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise KeepaliveError(f"{name} must be a positive number of seconds, not {value!r}")
        if self.timeout_s <= self.stall_after_s:
            raise KeepaliveError(
                f"timeout_s ({seconds(self.timeout_s)} s) must be longer than "
                f"stall_after_s ({seconds(self.stall_after_s)} s)"
            )


def seconds(value: float) -> str:
    """A duration for a sentence: ``3``, ``0.25``, ``12.5`` (at most three significant digits)."""
    return f"{value:.3g}"


def stalled_words(silent_s: float) -> str:
    """What the user reads while the server does not answer."""
    return f"no answer from the server for {seconds(silent_s)} s"


def timeout_words(silent_s: float) -> str:
    """Why a connection that stopped answering was closed."""
    return f"no answer from the server for {seconds(silent_s)} s; the connection was closed"


#: Sends one ping and waits for its pong: True when answered, False when the connection closed first.
Ping = Callable[[], Awaitable[bool]]
#: Called with the silence so far (stalled, timed out) or in total (resumed), in seconds.
SilenceReport = Callable[[float], None]


class KeepaliveMonitor:
    """The ping loop of one connection. :meth:`run` is meant to be an owned task, cancelled when the
    connection goes; :meth:`heard` is called for every frame the server sends.

    The reports are called on the loop's thread: ``on_stalled`` once per silence longer than
    ``stall_after_s``, then either ``on_resumed`` (a pong or any frame arrived) or ``on_timeout`` (silence
    reached ``timeout_s``; :meth:`run` then returns and the caller closes the connection).
    """

    def __init__(
        self,
        settings: Keepalive,
        ping: Ping,
        *,
        on_stalled: SilenceReport,
        on_resumed: SilenceReport,
        on_timeout: SilenceReport,
    ) -> None:
        self.settings = settings
        self._ping = ping
        self._on_stalled = on_stalled
        self._on_resumed = on_resumed
        self._on_timeout = on_timeout
        self._loop = asyncio.get_running_loop()
        self._last_heard = -math.inf
        self._stalled = False
        self._woken = asyncio.Event()

    @property
    def stalled(self) -> bool:
        """Whether the server is silent beyond ``stall_after_s`` right now."""
        return self._stalled

    def heard(self) -> None:
        """The server sent something: the link is alive."""
        self._last_heard = self._loop.time()
        if self._stalled:
            self._woken.set()

    async def run(self) -> None:
        """Ping every ``interval_s`` until the connection closes or stops answering."""
        while True:
            # Pacing the pings is this loop's job; nothing is being waited for here.
            await asyncio.sleep(self.settings.interval_s)
            if not await self._probe():
                return

    async def _probe(self) -> bool:
        """One ping until its answer; False when the connection closed or timed out."""
        loop = self._loop
        started = loop.time()
        ping = asyncio.ensure_future(self._ping())
        woken: asyncio.Future[Any] | None = None
        try:
            graced = False
            while True:
                silent_from = max(started, self._last_heard)
                limit = self.settings.timeout_s if self._stalled else self.settings.stall_after_s
                due = silent_from + limit
                waiters: set[asyncio.Future[Any]] = {ping}
                if self._stalled:
                    if woken is None or woken.done():
                        self._woken.clear()
                        woken = asyncio.ensure_future(self._woken.wait())
                    waiters.add(woken)
                await asyncio.wait(
                    waiters, timeout=max(0.0, due - loop.time()), return_when=asyncio.FIRST_COMPLETED
                )
                now = loop.time()
                if ping.done():
                    answered = ping.result()
                    if answered and self._stalled:
                        self._resume(now - silent_from)
                    return answered
                if self._stalled and self._last_heard > silent_from:
                    # Frames came though the pong has not: the server is there, the ping still waits.
                    self._resume(self._last_heard - silent_from)
                    continue
                if now < max(started, self._last_heard) + limit:
                    graced = False
                    continue
                lag = now - due
                if lag > min(MAX_LAG_S, limit / 2) and not graced:
                    # The loop was busy past the deadline: read what waits in the socket before judging.
                    graced = True
                    await asyncio.wait({ping}, timeout=min(MAX_LAG_S, limit / 2))
                    continue
                graced = False
                if not self._stalled:
                    self._stalled = True
                    self._on_stalled(now - silent_from)
                    continue
                self._on_timeout(now - silent_from)
                return False
        finally:
            for task in (ping, woken):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    def _resume(self, silent_s: float) -> None:
        self._stalled = False
        self._on_resumed(silent_s)
