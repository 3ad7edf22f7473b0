"""Scripts in the window: a scenario played through the live connection as if it were typed into the
composer, each step said in a few words as it goes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import QObject, Signal

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
from flushscope.net.client import ClientError
from flushscope.net.live import LiveSession
from flushscope.net.runner import play_scenario, wait_settled
from flushscope.tasks import OwnedTasks
from flushscope.ui.look.wording import quote


def describe_step(step: ScenarioStep) -> str:
    """A script step in a few words, for the composer and the status bar."""
    match step:
        case UseContext():
            return f"context {step.context}" + (" (new)" if step.creates else "")
        case Send():
            return f"send {quote(step.text)}"
        case SendFlush():
            return f"send + flush {quote(step.text)}"
        case Flush():
            return "flush"
        case End():
            return "end"
        case Cancel():
            return "cancel"
        case Wait():
            return f"wait {step.seconds * 1000:.0f} ms"
        case Raw():
            return f"raw {step.json_text[:40]}"
        case SetOption():
            return f"set {step.key} {step.value}"


class ScriptRunner(QObject):
    """Plays scenarios through a :class:`~flushscope.net.live.LiveSession`, then waits until every context
    the script opened has finished."""

    status = Signal(str)
    """A message for the status bar."""
    error = Signal(str)
    """The connection failed while the script played; the text says how."""
    stepShown = Signal(str)
    """What the script does now, or how it ended (for the composer)."""
    stepSent = Signal(str)
    """A step that went out on the wire, as ``<context name> · <what>`` (for the history of what was sent)."""
    runningChanged = Signal(bool)
    """A script started (True) or ended (False)."""
    settled = Signal()
    """Everything the script sent was answered (or gave up on): views may show the whole run."""

    def __init__(self, live: LiveSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._live = live
        self.tasks = OwnedTasks()
        self._running = False

    @property
    def running(self) -> bool:
        """Whether a script is playing."""
        return self._running

    def _set_running(self, running: bool) -> None:
        if running != self._running:
            self._running = running
            self.runningChanged.emit(running)

    def start(self, scenario: Scenario, timeout: float = 60.0) -> asyncio.Task[str | None]:
        """:meth:`play` in a task of this runner (cancelled when the window closes)."""
        return self.tasks.spawn(self.play(scenario, timeout), "script")

    async def play(self, scenario: Scenario, timeout: float = 60.0) -> str | None:
        """Play ``scenario`` through the live connection as if typed, then wait until every context settled.
        None when all went well, else what went wrong in words."""
        client = self._live.client
        if client is None or not self._live.connected:
            return "not connected"
        names: dict[str, str] = {}

        def on_step(step: ScenarioStep) -> None:
            text = f"Script line {step.line}: {describe_step(step)}"
            self.stepShown.emit(text)
            self.status.emit(text)
            if not isinstance(step, UseContext | SetOption | Wait):
                self.stepSent.emit(f"{step.context} · {describe_step(step)}")

        self._set_running(True)
        try:
            await play_scenario(scenario, client, contexts=names, on_step=on_step)
            self.stepShown.emit(f"Script sent; waiting for {len(names)} contexts to finish…")
            settled = await wait_settled(self._live.session, client, timeout)
        except ClientError as exc:
            self.error.emit(str(exc))
            self.stepShown.emit(f"Script stopped: {exc}")
            return str(exc)
        finally:
            self._set_running(False)
        self.settled.emit()
        if not settled:
            reason = (
                "the connection closed before every context finished"
                if client.closed.is_set()
                else f"the contexts did not finish within {timeout:g} s"
            )
            self.stepShown.emit(f"Script done, but {reason}")
            return reason
        done = f"Script {Path(scenario.name).name} done: {len(names)} contexts finished"
        self.stepShown.emit(done)
        self.status.emit(done)
        return None

    async def aclose(self) -> None:
        """Stop a script that plays."""
        await self.tasks.aclose()
