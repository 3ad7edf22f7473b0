"""A comparison of flush strategies on a connection of its own, into a session of its own (no Qt).

The window compares strategies on the target its live session is connected to (or on an embedded emulator
started for the purpose), without mixing the comparison's contexts into the live session: the run has its
own :class:`~flushscope.core.model.recorder.Recorder`, :class:`~flushscope.core.model.session.Session` and
:class:`~flushscope.net.client.Client`, and :func:`flushscope.core.analysis.compare.run_compare` drives it. Each
context is named after its strategy (``sentence-4f2a``, ``words-3-4f2a``), so that its lane and its rows say
which strategy it is.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from flushscope.core.analysis.compare import CompareResult, OpenedContext, run_compare
from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.core.inputs.strategies import StrategyKind, StrategyPlan
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.session import Session
from flushscope.emulator.config import EmulatorConfig
from flushscope.net.client import Client, Target


def context_name(plan: StrategyPlan, run: str) -> str:
    """A context_id that says which strategy it speaks: its name in lowercase letters, digits and dashes
    (``custom`` for a custom split), then ``run``."""
    if plan.strategy.kind is StrategyKind.CUSTOM:
        slug = "custom"
    else:
        slug = re.sub(r"[^a-z0-9]+", "-", plan.name.lower()).strip("-") or "strategy"
    return f"{slug}-{run}"


class _NamedContexts:
    """A connected client whose new contexts are named after the plans, in the order they run."""

    def __init__(self, client: Client, names: Sequence[str]) -> None:
        self._client = client
        self._names = list(names)
        # The connection's own event: set when it closes (a connection has one for its whole life).
        self.closed = client.closed

    def new_context(self, settings: GenerationSettings, context_id: str | None = None) -> OpenedContext:
        name = context_id or (self._names.pop(0) if self._names else None)
        return self._client.new_context(settings, name)

    async def send(self, context_id: str, transcript: str) -> None:
        await self._client.send(context_id, transcript)

    async def flush(self, context_id: str) -> None:
        await self._client.flush(context_id)

    async def end(self, context_id: str) -> None:
        await self._client.end(context_id)


async def compare_into(
    session: Session,
    text: str,
    plans: Sequence[StrategyPlan],
    settings: GenerationSettings,
    target: Target | None,
    emulator: EmulatorConfig | None = None,
    *,
    timeout: float = 60.0,
) -> CompareResult:
    """Connect to ``target`` (to an embedded emulator of its own with ``emulator``'s settings when None),
    speak every plan into ``session`` one context after another, and close what was opened. Raises
    :class:`~flushscope.net.client.ClientError` when the connection cannot be made."""
    server = None
    if target is None:
        from flushscope.emulator.server import EmulatorServer

        server = await EmulatorServer(emulator or EmulatorConfig()).start()
        target = Target(server.url)
    run = uuid.uuid4().hex[:4]
    client = Client(Recorder(session), target)
    try:
        await client.connect()
        named = _NamedContexts(client, [context_name(plan, run) for plan in plans])
        return await run_compare(named, session, text, plans, settings=settings, timeout=timeout)
    finally:
        await client.aclose()
        if server is not None:
            await server.close()
