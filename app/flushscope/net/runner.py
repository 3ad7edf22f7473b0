"""Plays a scenario script through a client, as a user would type it, and waits for the replies to settle.

The same code drives ``flushscope run``, the window's ``--script`` and the tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from flushscope.core.analysis.report import NotSent
from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.core.inputs.scenario import (
    Cancel,
    End,
    Flush,
    Raw,
    Scenario,
    ScenarioStep,
    Send,
    SendFlush,
    SetOption,
    UseContext,
    Wait,
)
from flushscope.core.model.awaiting import wait_for_model
from flushscope.core.model.findings import Thresholds
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.records import ContextState, SegmentState
from flushscope.core.model.session import Session
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.emulator.config import EmulatorConfig
from flushscope.net.client import Client, NotConnected, ServerClosed, Target


async def play_scenario(
    scenario: Scenario,
    client: Client,
    *,
    contexts: dict[str, str] | None = None,
    base_settings: GenerationSettings | None = None,
    on_step: Callable[[ScenarioStep], None] | None = None,
) -> dict[str, str]:
    """Send every step in order. Returns the script's context names mapped to the real context ids (the
    mapping ``contexts`` is filled in place when given, so a caller sees ids as they are created)."""
    settings = scenario.context_settings(base_settings)
    ids = contexts if contexts is not None else {}
    for step in scenario.steps:
        if on_step is not None:
            on_step(step)
        match step:
            case UseContext(creates=True):
                # The default context of a script without context lines has no name of the script's.
                name = None if step.implicit else step.context
                ids[step.context] = client.new_context(
                    settings[step.context], step.context_id, name
                ).context_id
            case Send():
                await client.send(ids[step.context], step.text)
            case SendFlush():
                await client.send_flush(ids[step.context], step.text)
            case Flush():
                await client.flush(ids[step.context])
            case End():
                await client.end(ids[step.context])
            case Cancel():
                await client.cancel(ids[step.context])
            case Wait():
                await asyncio.sleep(step.seconds)
            case Raw():
                await client.send_raw(step.json_text)
            case UseContext() | SetOption():
                pass  # switching is bookkeeping; settings were resolved per context above
    return ids


def settled(session: Session) -> bool:
    """Nothing is awaited any more: every ended context is done (or failed) and every flush answered."""
    for ctx in session.contexts:
        if ctx.state is ContextState.ENDING:
            return False
        if ctx.state is ContextState.OPEN and any(s.state is SegmentState.FLUSHING for s in ctx.segments):
            return False
    return True


async def wait_settled(session: Session, client: Client, timeout: float) -> bool:
    """Wait until :func:`settled`, the connection closes, or ``timeout`` seconds pass. True if settled."""
    return await wait_for_model(session, client.closed, lambda: settled(session), timeout)


@dataclass
class RunResult:
    """What a headless run leaves: the session, whether every context settled in time, and what of the
    script was not sent because the connection was gone (None: all of it went out)."""

    session: Session
    settled: bool
    capture: Path
    not_sent: NotSent | None = None
    #: Why the connection ended before the run closed it (the server went away), in words; None if it did not.
    dropped: str | None = None


#: Steps that send a frame.
_SENDING: Final = (Send, SendFlush, Flush, End, Cancel, Raw)


async def _play_until_closed(scenario: Scenario, client: Client) -> NotSent | None:
    """Play the script; when the connection goes away mid-script, stop, and say what was not sent."""
    current: list[ScenarioStep] = []
    try:
        await play_scenario(scenario, client, on_step=current.append)
    except (NotConnected, ServerClosed) as exc:
        if not client.closed.is_set():
            raise
        first = current[-1]
        rest = [s for s in scenario.steps[scenario.steps.index(first) :] if isinstance(s, _SENDING)]
        error = client.close_error
        reason = str(error if error is not None else exc)
        return NotSent(first.line, rest[-1].line if rest else first.line, len(rest), reason)
    return None


async def run_scenario(
    scenario: Scenario,
    capture: Path,
    target: Target | None,
    emulator: EmulatorConfig | None = None,
    timeout: float = 60.0,
    *,
    overwrite: bool = False,
    thresholds: Thresholds | None = None,
) -> RunResult:
    """Connect (to an in-process emulator when ``target`` is None), play, wait, record everything.

    The capture file is created once the connection is open, with what was recorded until then: a run that
    cannot connect leaves no file behind, and an existing file as it was. An existing capture is replaced
    when ``overwrite``, else FileExistsError (nothing is sent)."""
    from flushscope.emulator.server import EmulatorServer

    server = None
    if target is None:
        server = await EmulatorServer(emulator or EmulatorConfig()).start()
        target = Target(server.url)
    started = datetime.now(UTC)
    session = Session(thresholds)
    recorder = Recorder(session)
    client = Client(recorder, target)
    try:
        await client.connect()
        recorder.capture = start_capture(capture, target, session, started, overwrite)
        not_sent = await _play_until_closed(scenario, client)
        done = await wait_settled(session, client, timeout)
        dropped = _dropped(client)
    finally:
        await client.aclose()
        if server is not None:
            await server.close()
        recorder.close()
    session.finish()
    return RunResult(session, done, capture, not_sent, dropped)


def _dropped(client: Client) -> str | None:
    """Why the connection is already closed, before the run closed it (None while it is open)."""
    if not client.closed.is_set():
        return None
    error = client.close_error
    return str(error) if error is not None else "the server closed the connection"


def start_capture(
    path: Path, target: Target, session: Session, started: datetime, overwrite: bool
) -> CaptureWriter:
    """The capture file, created now, holding the frames recorded so far (the connection's opening)."""
    secrets = [target.api_key] if target.api_key else []
    writer = CaptureWriter(path, target.display_url, secrets=secrets, started=started, overwrite=overwrite)
    try:
        for frame in session.frames:
            writer.write(frame)
    except BaseException:
        # The run stops before it began: no half capture is left behind.
        writer.close()
        path.unlink(missing_ok=True)
        raise
    return writer
