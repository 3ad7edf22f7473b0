"""Scripts in the window: a scenario step in a few words, and playing a whole scenario through the live
connection as if it were typed into the composer."""

from __future__ import annotations

from pathlib import Path

from flushscope.core.scenario import (
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
from flushscope.net.runner import play_scenario, wait_settled
from flushscope.ui.live_controller import LiveController
from flushscope.ui.wording import MESSAGE_MS, quote


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


class ScriptMode(LiveController):
    """The window's part that plays scripts: each step shown in the composer, the status bar and the
    history, then a wait until every context the script opened has finished."""

    async def play_script(self, scenario: Scenario, timeout: float = 60.0) -> str | None:
        """Play a scenario through the live connection as if typed, then wait until every context settled
        and fit the timeline. None when all went well, else what went wrong in words."""
        client = self.live.client
        if client is None or not self.live.connected:
            return "not connected"
        self.composer.set_busy(True)
        names: dict[str, str] = {}

        def on_step(step: ScenarioStep) -> None:
            for name, context_id in names.items():
                self._context_names.setdefault(context_id, name)
            text = f"Script line {step.line}: {describe_step(step)}"
            self.composer.show_step(text)
            self.status.showMessage(text, MESSAGE_MS)
            if not isinstance(step, UseContext | SetOption | Wait):
                self.composer.add_history(f"{step.context} · {describe_step(step)}")

        try:
            await play_scenario(scenario, client, contexts=names, on_step=on_step)
            for name, context_id in names.items():
                self._context_names.setdefault(context_id, name)
            self.composer.show_step(f"Script sent; waiting for {len(names)} contexts to finish…")
            settled = await wait_settled(self.live.session, client, timeout)
        except ClientError as exc:
            self.show_client_error(exc)
            self.composer.show_step(f"Script stopped: {exc}")
            return str(exc)
        finally:
            self.composer.set_busy(False)
        self.bridge.flush()
        self._refresh_contexts()
        self.timeline.fit_all()
        if not settled:
            reason = (
                "the connection closed before every context finished"
                if client.closed.is_set()
                else f"the contexts did not finish within {timeout:g} s"
            )
            self.composer.show_step(f"Script done, but {reason}")
            return reason
        done = f"Script {Path(scenario.name).name} done: {len(names)} contexts finished"
        self.composer.show_step(done)
        self.status.showMessage(done, MESSAGE_MS)
        return None
