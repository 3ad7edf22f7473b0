"""One rule of joining inputs: the emulator speaks two inputs as one word exactly when the
``continuation-no-space`` lint says the service reads them as one.

Each case drives the real emulator through flushscope's client, then reads the emulator's word timestamps
and lints what was sent: both must give the expected answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from rig_support import TIMEOUT, Rig

from flushscope.core.analysis.lint_cache import lint_session
from flushscope.core.analysis.lint_ids import LintId
from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.core.model.session import Session
from flushscope.net.runner import wait_settled

pytestmark = pytest.mark.asyncio


@dataclass(frozen=True)
class Case:
    """Inputs of one context (``send TEXT``, ``sendflush TEXT`` (text and flush in one frame), ``flush``,
    ``heard WORD``: wait until the emulator has spoken WORD), its ``max_buffer_delay_ms`` (None: left out),
    and the word the two inputs make when read together, or None when they are read apart."""

    delay_ms: int | None
    steps: tuple[str, ...]
    first: str
    second: str
    joined: str | None


CASES = {
    "within-the-buffer": Case(3000, ("send Hello", "send world."), "Hello", "world.", "Helloworld."),
    "default-delay": Case(None, ("send Hello", "send world."), "Hello", "world.", "Helloworld."),
    "flush-with-the-second": Case(3000, ("send Hello", "sendflush world."), "Hello", "world.", "Helloworld."),
    "after-a-sentence-in-the-first": Case(
        3000, ("send Hi there. How", "send dy partner."), "How", "dy", "Howdy"
    ),
    "flush-between": Case(3000, ("send Hello", "flush", "send world."), "Hello", "world.", None),
    "flush-with-the-first": Case(3000, ("sendflush Hello", "send world."), "Hello", "world.", None),
    "no-buffering": Case(0, ("send Hello", "send world."), "Hello", "world.", None),
    "sentence-end": Case(3000, ("send Hello there.", "send How are you?"), "there.", "How", None),
    "delay-elapsed": Case(200, ("send Hello", "heard Hello", "send world."), "Hello", "world.", None),
}


def spoken(session: Session) -> list[str]:
    return [w.text for ctx in session.contexts for s in ctx.segments for w in s.words]


async def drive(rig: Rig, case: Case) -> None:
    fields: dict[str, Any] = GenerationSettings().request_fields()
    fields["max_buffer_delay_ms"] = case.delay_ms
    if case.delay_ms is None:
        del fields["max_buffer_delay_ms"]

    async def send(text: str, *, flush: bool = False, cont: bool = True) -> None:
        request = {"context_id": "a", **fields, "transcript": text, "continue": cont}
        if flush:
            request["flush"] = True
        await rig.client.send_raw(json.dumps(request))

    for step in case.steps:
        verb, _, text = step.partition(" ")
        match verb:
            case "send" | "sendflush":
                await send(text, flush=verb == "sendflush")
            case "flush":
                await send("", flush=True)
            case "heard":
                await rig.until(lambda word=text: word in spoken(rig.session))
    await send("", cont=False)
    assert await wait_settled(rig.session, rig.client, TIMEOUT)


@pytest.mark.parametrize("name", CASES)
async def test_the_emulator_and_the_lint_agree_on_what_runs_together(rig_factory: Any, name: str) -> None:
    case = CASES[name]
    rig = await rig_factory()
    await drive(rig, case)
    words = spoken(rig.session)
    lints = [lint for lint in lint_session(rig.session) if lint.id is LintId.CONTINUATION_NO_SPACE]
    if case.joined is None:
        assert case.first in words and case.second in words, words
        assert lints == []
    else:
        assert case.joined in words and case.first not in words, words
        (lint,) = lints
        assert case.joined in lint.message
