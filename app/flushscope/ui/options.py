"""What the window is asked to do as it starts, and how its run ended: typed values, free of Qt.

The command line builds :class:`WindowOptions` from its flags and turns the :class:`WindowOutcome` into an
exit code and a message; the window knows nothing of command lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum
from pathlib import Path
from typing import Final

from flushscope.core.inputs.scenario import Scenario
from flushscope.emulator.config import EmulatorConfig
from flushscope.net.live import TargetKind

#: The environment variable that names the window's settings file (``--settings FILE`` wins over it), so
#: that two processes can share one.
SETTINGS_ENV: Final = "FLUSHSCOPE_SETTINGS"


class Theme(StrEnum):
    """The window's colours: the platform's own look, or Fusion with a light or a dark palette."""

    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


class UpstreamKind(Enum):
    """Where the recording proxy forwards: Cartesia, the embedded emulator, or a URL."""

    CARTESIA = "cartesia"
    EMBEDDED = "embedded"
    URL = "url"


@dataclass(frozen=True)
class ProxyUpstream:
    """Where the recording proxy forwards; ``url`` for :attr:`UpstreamKind.URL` only."""

    kind: UpstreamKind
    url: str = ""

    @property
    def choice(self) -> str:
        """The upstream as the live session and the connection bar name it: ``cartesia``, ``emulator`` or
        the URL."""
        if self.kind is UpstreamKind.URL:
            return self.url
        return "emulator" if self.kind is UpstreamKind.EMBEDDED else "cartesia"


@dataclass(frozen=True)
class Connect:
    """Connect the live session as the window opens: to the embedded emulator, Cartesia or a URL."""

    kind: TargetKind = "emulator"
    url: str | None = None
    api_key: str | None = None
    api_version: str | None = None


@dataclass(frozen=True)
class Resume:
    """No target asked for: show the target used last time, and connect at once only if it is the embedded
    emulator (anything else waits for Connect: no surprise connection, proxy or spent credits)."""

    api_key: str | None = None
    api_version: str | None = None


@dataclass(frozen=True)
class RunProxy:
    """Run the recording proxy as the window opens: where apps connect (``HOST:PORT``), where it forwards,
    and the key that replaces the apps' own upstream (None: theirs, or ``CARTESIA_API_KEY`` for a
    placeholder)."""

    listen: str
    upstream: ProxyUpstream
    api_key: str | None = None
    #: ``listen`` may be an address other machines can reach (``--allow-remote``).
    allow_remote: bool = False


@dataclass(frozen=True)
class OpenCapture:
    """Show a capture file read-only as the window opens."""

    path: Path


#: What the window does as it opens; None: nothing (it starts disconnected).
Start = Connect | Resume | RunProxy | OpenCapture | None


@dataclass(frozen=True, kw_only=True)
class WindowOptions:
    """Everything the window is asked to do: what to open or connect to, where the live session is recorded
    (None: a timestamped file in the user's data folder), the embedded emulator's configuration, a scenario
    to play once connected (with the seconds its contexts may take to finish), a dataset whose calls to show
    beside the window, a screenshot to save when done (of the calls, with a dataset), whether to close when
    done, the colours (None: the theme remembered), the settings file (None: the user's) and how much to log
    (0 warnings, 1 info, 2 debug)."""

    start: Start = field(default_factory=Connect)
    dataset: Path | None = None
    record: Path | None = None
    emulator: EmulatorConfig = field(default_factory=EmulatorConfig)
    script: Scenario | None = None
    script_timeout: float = 60.0
    screenshot: Path | None = None
    exit_when_done: bool = False
    theme: Theme | None = None
    settings: Path | None = None
    verbosity: int = 0


class Ending(Enum):
    """How a run of the window ended, from best to worst."""

    #: Done, nothing to report.
    OK = 0
    #: Something asked for did not work: connecting, the proxy, the script, the screenshot; or the window
    #: was closed before it was done.
    FAILED = 1
    #: The input could not be used: a capture that does not open.
    UNUSABLE = 2


@dataclass(frozen=True)
class ScriptResult:
    """A scenario the window played: its name, and what went wrong in words (None: every context it opened
    finished)."""

    name: str
    problem: str | None = None


@dataclass(frozen=True)
class WindowOutcome:
    """How the window's run ended, what went wrong in words (in the order it happened), and the result of
    the scenario it played, if any."""

    ending: Ending = Ending.OK
    messages: tuple[str, ...] = ()
    script: ScriptResult | None = None

    def failed(self, message: str, ending: Ending = Ending.FAILED) -> WindowOutcome:
        """This outcome with one more failure: ``message`` said, and the ending the worse of the two."""
        worse = max(self.ending, ending, key=lambda e: e.value)
        return replace(self, ending=worse, messages=(*self.messages, message))
