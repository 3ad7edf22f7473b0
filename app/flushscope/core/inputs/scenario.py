"""Scenario scripts: plain text, one step a line, checked completely before anything is sent.

Example::

    # comments and blank lines are ignored
    context a               # switch to (or create) context "a"; the real context_id is generated
    send Hello there.
    flush                   # empty transcript, continue=true, flush=true
    send How are you?
    flush
    end                     # empty transcript, continue=false
    wait 300ms
    cancel                  # cancel the current context

The rules:

Lines
    Lines end at ``\\n`` (a ``\\r`` before it is dropped); a UTF-8 byte order mark at the start is ignored.
    Commands are case-insensitive. A line whose first non-blank character is ``#`` is a comment.

Comments at the end of a line
    On ``context``, ``flush``, ``end``, ``cancel``, ``wait`` and ``set`` lines, a ``#`` preceded by
    whitespace starts a comment that runs to the end of the line. On ``send``, ``sendflush``/``send+flush``
    and ``raw`` lines everything after the command is the payload, ``#`` included: transcripts may contain
    ``#`` (``send It costs #5``), so ``send Hi  # note`` sends ``Hi  # note``. A quoted transcript may be
    followed by whitespace and a comment: ``send "Hi"  # note`` sends ``Hi``.

``send TEXT``
    Sends TEXT with ``continue: true``. Unquoted TEXT is stripped of surrounding whitespace and otherwise
    kept as written. TEXT that starts with ``"`` is a JSON string (``send "Hello there. "``), which can hold
    leading and trailing spaces and escapes (``\\n``, ``\\"``, ``\\u00e9``); nothing but a comment may
    follow its closing quote, so text that merely begins with a quotation mark must be quoted whole. An
    empty transcript is an error: ``flush`` and ``end`` are the empty-transcript steps.
``sendflush TEXT`` (or ``send+flush TEXT``)
    Sends TEXT, then a flush: two frames.
``flush``, ``end``, ``cancel``
    A manual flush (empty transcript, ``continue: true``, ``flush: true``); the last input of the context
    (empty transcript, ``continue: false``); a cancel of the context. They take no arguments.
``context NAME [id=CONTEXT_ID]``
    Makes NAME (1 to 64 letters, digits, ``-``, ``_``, ``.``) the current context, creating it on first use.
    The real ``context_id`` is generated unless ``id=`` fixes it (printable, no spaces, at most 256
    characters); ``id=`` on a later switch must repeat the same id. Two names may share an id on purpose: reusing a context_id is a case worth testing.
``wait DURATION``
    ``300ms``, ``1.5s``, ``2s`` or ``0``; a unit is required for anything but 0; at most 10 minutes.
``set KEY VALUE``
    Changes a generation setting for the contexts created after this line; see
    :mod:`flushscope.core.inputs.generation_settings` for the keys and values.
``raw JSON``
    Sends the JSON text verbatim as one frame. It must be valid JSON (any value; ``NaN`` is not JSON).

Contexts
    Before the first ``context`` line the current context is named ``default``. A context is created by its
    first ``context`` line, or, for ``default``, by the first step that uses it; the parser then puts an
    implicit :class:`UseContext` step before that step, so every context's first step is a
    :class:`UseContext` with ``creates`` true, and the settings in force at that step are the context's.
    After ``end``, further ``send``, ``sendflush``, ``flush``, ``end`` and ``context`` lines for that name are
    errors; ``cancel`` is still allowed (it stops audio that is still being generated, which is how a
    barge-in looks). After ``cancel``, every further step for that name is an error.

Errors
    :func:`parse_scenario` reports every bad line at once in one :class:`ScenarioError`, each with its
    1-based line number, the line and what is wrong.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, NoReturn, TypeAlias

from flushscope.core.inputs.generation_settings import SETTING_KEYS, GenerationSettings, SettingsError
from flushscope.core.shown_text import escaped

__all__ = [
    "DEFAULT_CONTEXT",
    "MAX_WAIT_SECONDS",
    "Cancel",
    "End",
    "Flush",
    "Raw",
    "Scenario",
    "ScenarioError",
    "ScenarioLineError",
    "ScenarioStep",
    "Send",
    "SendFlush",
    "SetOption",
    "Step",
    "UseContext",
    "Wait",
    "load_scenario",
    "parse_scenario",
]

DEFAULT_CONTEXT: Final = "default"
MAX_WAIT_SECONDS: Final = 600.0
_MAX_CONTEXT_ID_LEN: Final = 256
#: A script is typed by a person: one larger than this is some other file.
MAX_SCRIPT_BYTES: Final = 16 << 20
# The bad lines an error's text lists (the rest are counted).
_ERRORS_SHOWN: Final = 20

_CONTEXT_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(ms|s)?", re.IGNORECASE)
_COMMENT = re.compile(r"(?:^|\s)#")
_FIRST_WORD = re.compile(r"(\S+)\s*(.*)", re.DOTALL)
# strict=False lets a quoted transcript hold a raw tab, as a user typing it would expect.
_DECODER: Final = json.JSONDecoder(strict=False)


# --- steps --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """What every step knows: its 1-based line in the script and the context current when it runs."""

    line: int
    context: str


@dataclass(frozen=True, slots=True)
class UseContext(Step):
    """Make ``context`` current. ``creates`` on its first use; ``implicit`` if the script had no such line
    (the ``default`` context). ``context_id`` is the id fixed with ``id=``, None for a generated one."""

    context_id: str | None = None
    creates: bool = False
    implicit: bool = False

    @property
    def name(self) -> str:
        """The context's name in the script (the same as ``context``)."""
        return self.context


@dataclass(frozen=True, slots=True)
class Send(Step):
    """Send ``text`` with ``continue: true``."""

    text: str


@dataclass(frozen=True, slots=True)
class SendFlush(Step):
    """Send ``text``, then a manual flush."""

    text: str


@dataclass(frozen=True, slots=True)
class Flush(Step):
    """A manual flush: empty transcript, ``continue: true``, ``flush: true``."""


@dataclass(frozen=True, slots=True)
class End(Step):
    """The context's last input: empty transcript, ``continue: false``."""


@dataclass(frozen=True, slots=True)
class Cancel(Step):
    """Cancel the context."""


@dataclass(frozen=True, slots=True)
class Wait(Step):
    """Pause the script for ``seconds``."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Raw(Step):
    """Send ``json_text`` verbatim as one frame."""

    json_text: str


@dataclass(frozen=True, slots=True)
class SetOption(Step):
    """Change a generation setting (``key`` as in the script) for contexts created after it."""

    key: str
    value: str


ScenarioStep: TypeAlias = UseContext | Send | SendFlush | Flush | End | Cancel | Wait | Raw | SetOption


@dataclass(frozen=True, slots=True)
class Scenario:
    """A checked script: its steps in order and its context names in the order they are created."""

    steps: tuple[ScenarioStep, ...]
    contexts: tuple[str, ...]
    name: str = "<script>"

    def context_settings(self, base: GenerationSettings | None = None) -> dict[str, GenerationSettings]:
        """The settings each context is created with, starting from ``base`` (the defaults if None)."""
        settings = base if base is not None else GenerationSettings()
        result: dict[str, GenerationSettings] = {}
        for step in self.steps:
            if isinstance(step, SetOption):
                settings = settings.apply(step.key, step.value)
            elif isinstance(step, UseContext) and step.creates:
                result[step.context] = settings
        return result


# --- errors -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScenarioLineError:
    """One bad line: its 1-based number, its text and what is wrong with it."""

    line: int
    text: str
    message: str

    def __str__(self) -> str:
        shown = self.text.strip()
        if len(shown) > 120:
            shown = shown[:117] + "..."
        # The line is the file's text: shown, never obeyed (a control character is written as its escape).
        return f"line {self.line}: {self.message}\n    {escaped(shown)}"


class ScenarioError(Exception):
    """A script that cannot run. ``errors`` lists every bad line; it is empty when the file itself could not
    be read, and ``message`` then says why."""

    def __init__(self, name: str, errors: Sequence[ScenarioLineError], message: str | None = None) -> None:
        self.name = name
        self.errors: list[ScenarioLineError] = list(errors)
        if message is None:
            count = len(self.errors)
            message = f"{count} error{'s' if count != 1 else ''} in the script"
        self.message = message
        shown = [str(error) for error in self.errors[:_ERRORS_SHOWN]]
        if len(self.errors) > _ERRORS_SHOWN:
            shown.append(f"... and {len(self.errors) - _ERRORS_SHOWN} more bad lines")
        super().__init__("\n".join([f"{name}: {message}", *shown]))


class _LineProblem(Exception):
    """Raised inside the parser for the line being parsed; collected into a ScenarioLineError."""


def _fail(message: str) -> NoReturn:
    raise _LineProblem(message)


# --- parsing ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _ContextState:
    created: int
    context_id: str | None
    ended: int | None = None
    cancelled: int | None = None


_PAYLOAD_COMMANDS: Final = frozenset({"send", "sendflush", "send+flush", "raw"})
_COMMANDS: Final = (
    "context",
    "send",
    "sendflush",
    "send+flush",
    "flush",
    "end",
    "cancel",
    "wait",
    "set",
    "raw",
)


class _Parser:
    def __init__(self) -> None:
        self.current = DEFAULT_CONTEXT
        self.contexts: dict[str, _ContextState] = {}
        self.settings = GenerationSettings()
        self.steps: list[ScenarioStep] = []
        self.errors: list[ScenarioLineError] = []
        self.handlers: dict[str, Callable[[int, str], None]] = {
            "context": self._context,
            "send": self._send,
            "sendflush": self._sendflush,
            "send+flush": self._sendflush,
            "flush": self._flush,
            "end": self._end,
            "cancel": self._cancel,
            "wait": self._wait,
            "set": self._set,
            "raw": self._raw,
        }

    def parse_line(self, lineno: int, text: str) -> None:
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            return
        match = _FIRST_WORD.fullmatch(stripped)
        assert match is not None  # a non-blank string always has a first word
        command, argument = match.group(1).lower(), match.group(2)
        handler = self.handlers.get(command)
        try:
            if handler is None:
                close = difflib.get_close_matches(command, _COMMANDS, n=1)
                hint = (
                    f" (did you mean {close[0]!r}?)"
                    if close
                    else f"; the commands are {', '.join(_COMMANDS)}"
                )
                _fail(f"unknown command {match.group(1)!r}{hint}")
            if command not in _PAYLOAD_COMMANDS:
                comment = _COMMENT.search(argument)
                if comment is not None:
                    argument = argument[: comment.start()].rstrip()
            handler(lineno, argument)
        except _LineProblem as problem:
            self.errors.append(ScenarioLineError(lineno, text, str(problem)))

    # -- context bookkeeping --

    def _open_context(self, command: str) -> _ContextState | None:
        """The current context's state for a step that uses it, or None if it has to be created."""
        state = self.contexts.get(self.current)
        if state is None:
            return None
        if state.cancelled is not None:
            _fail(f"context {self.current} was cancelled on line {state.cancelled}; {command} cannot follow")
        if state.ended is not None and command != "cancel":
            _fail(f"context {self.current} was already ended on line {state.ended}")
        return state

    def _use(self, lineno: int, command: str) -> _ContextState:
        """Check that the current context accepts ``command``, creating ``default`` on its first use."""
        state = self._open_context(command)
        if state is None:
            state = self.contexts[self.current] = _ContextState(created=lineno, context_id=None)
            self.steps.append(
                UseContext(line=lineno, context=self.current, context_id=None, creates=True, implicit=True)
            )
        return state

    @staticmethod
    def _no_argument(command: str, argument: str) -> None:
        if argument:
            _fail(f"{command} takes no arguments, found {argument!r}")

    # -- commands --

    def _context(self, lineno: int, argument: str) -> None:
        words = argument.split()
        if not words:
            _fail("context needs a name, e.g. context a")
        name = words[0]
        if not _CONTEXT_NAME.fullmatch(name):
            _fail(f"bad context name {name!r}: use 1 to 64 letters, digits, '-', '_' or '.'")
        # Switch (and create) even when the rest of the line is bad, so that the lines after it are checked
        # against the context that was meant rather than reported again for the wrong one.
        self.current = name
        try:
            context_id = _context_id(words[1:])
        except _LineProblem:
            self.contexts.setdefault(name, _ContextState(created=lineno, context_id=None))
            raise
        state = self.contexts.get(name)
        if state is None:
            self.contexts[name] = _ContextState(created=lineno, context_id=context_id)
            self.steps.append(UseContext(line=lineno, context=name, context_id=context_id, creates=True))
            return
        if state.cancelled is not None:
            _fail(f"context {name} was cancelled on line {state.cancelled}")
        if state.ended is not None:
            _fail(f"context {name} was already ended on line {state.ended}")
        if context_id is not None and context_id != state.context_id:
            was = f"id {state.context_id}" if state.context_id is not None else "a generated id"
            _fail(f"context {name} was created on line {state.created} with {was}; its id cannot change")
        self.steps.append(UseContext(line=lineno, context=name, context_id=state.context_id))

    def _send(self, lineno: int, argument: str) -> None:
        text = _transcript("send", argument)
        self._use(lineno, "send")
        self.steps.append(Send(text, line=lineno, context=self.current))

    def _sendflush(self, lineno: int, argument: str) -> None:
        text = _transcript("sendflush", argument)
        self._use(lineno, "sendflush")
        self.steps.append(SendFlush(text, line=lineno, context=self.current))

    def _flush(self, lineno: int, argument: str) -> None:
        self._no_argument("flush", argument)
        self._use(lineno, "flush")
        self.steps.append(Flush(line=lineno, context=self.current))

    def _end(self, lineno: int, argument: str) -> None:
        self._no_argument("end", argument)
        self._use(lineno, "end").ended = lineno
        self.steps.append(End(line=lineno, context=self.current))

    def _cancel(self, lineno: int, argument: str) -> None:
        self._no_argument("cancel", argument)
        self._use(lineno, "cancel").cancelled = lineno
        self.steps.append(Cancel(line=lineno, context=self.current))

    def _wait(self, lineno: int, argument: str) -> None:
        match = _DURATION.fullmatch(argument)
        if match is None:
            _fail(f"wait needs a duration like 300ms, 1.5s or 0, not {argument!r}")
        value = float(match.group(1))
        unit = (match.group(2) or "").lower()
        if not unit and value != 0:
            _fail(f"give wait a unit: {match.group(1)}s or {match.group(1)}ms")
        seconds = value / 1000 if unit == "ms" else value
        if seconds > MAX_WAIT_SECONDS:
            _fail("wait is at most 10 minutes (600s)")
        self.steps.append(Wait(seconds, line=lineno, context=self.current))

    def _set(self, lineno: int, argument: str) -> None:
        words = argument.split(None, 1)
        if len(words) < 2:
            _fail(
                f"set needs a setting and a value, e.g. set voice VOICE_ID; the settings are {', '.join(SETTING_KEYS)}"
            )
        key, value = words[0].lower(), words[1].strip()
        try:
            self.settings = self.settings.apply(key, value)
        except SettingsError as exc:
            _fail(str(exc))
        self.steps.append(SetOption(key, value, line=lineno, context=self.current))

    def _raw(self, lineno: int, argument: str) -> None:
        if not argument:
            _fail("raw needs a JSON frame to send")
        try:
            json.loads(argument, parse_constant=_reject_constant)
        except json.JSONDecodeError as exc:
            _fail(f"raw needs valid JSON: {exc.msg} at character {exc.pos + 1}")
        except (ValueError, RecursionError) as exc:
            _fail(f"raw needs valid JSON: {exc if isinstance(exc, ValueError) else 'nested too deeply'}")
        self.steps.append(Raw(argument, line=lineno, context=self.current))


def _context_id(words: Sequence[str]) -> str | None:
    context_id: str | None = None
    for word in words:
        key, eq, value = word.partition("=")
        if not eq or key.lower() != "id":
            _fail(f"unexpected {word!r} after the context name; only id=CONTEXT_ID may follow")
        if context_id is not None:
            _fail("id= is given twice")
        if not value or not value.isprintable() or len(value) > _MAX_CONTEXT_ID_LEN:
            _fail(f"id= needs a printable context_id of 1 to {_MAX_CONTEXT_ID_LEN} characters")
        context_id = value
    return context_id


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _transcript(command: str, argument: str) -> str:
    if not argument:
        _fail(f"{command} needs a transcript; for an empty one use flush or end")
    if not argument.startswith('"'):
        return argument
    try:
        value, end = _DECODER.raw_decode(argument)
    except json.JSONDecodeError as exc:
        _fail(f"bad quoted transcript: {exc.msg} at character {exc.pos + 1}")
    rest = argument[end:]
    if rest and not (rest[0].isspace() and rest.lstrip().startswith("#")):
        _fail(
            f"unexpected {rest.strip()[:40]!r} after the closing quote; "
            "to send text that begins with a quotation mark, quote all of it"
        )
    assert isinstance(value, str)  # raw_decode of text starting with '"' yields a string
    if not value:
        _fail(f"{command} needs a transcript; for an empty one use flush or end")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        _fail("the quoted transcript has a \\u escape that is half of a surrogate pair: it is not text")
    return value


def _split_lines(text: str) -> list[str]:
    # Only "\n" ends a line, so that line numbers match editors and a transcript may hold U+2028.
    lines = text.removeprefix("\ufeff").split("\n")
    return [line.removesuffix("\r") for line in lines]


def parse_scenario(text: str, name: str = "<script>") -> Scenario:
    """Check and parse a script; :class:`ScenarioError` lists every bad line if any."""
    parser = _Parser()
    for lineno, line in enumerate(_split_lines(text), 1):
        parser.parse_line(lineno, line)
    if parser.errors:
        raise ScenarioError(name, parser.errors)
    return Scenario(tuple(parser.steps), tuple(parser.contexts), name)


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read a UTF-8 script file and parse it; :class:`ScenarioError` if it cannot be read or is not valid."""
    name = os.fspath(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_SCRIPT_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(name, [], f"cannot read the script: {exc.strerror or exc}") from None
    if len(data) > MAX_SCRIPT_BYTES:
        raise ScenarioError(name, [], f"the file is larger than {MAX_SCRIPT_BYTES >> 20} MiB: not a script")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        lineno = data.count(b"\n", 0, exc.start) + 1
        start = data.rfind(b"\n", 0, exc.start) + 1
        end = data.find(b"\n", exc.start)
        line = data[start : end if end != -1 else len(data)].decode("utf-8", "replace")
        error = ScenarioLineError(
            lineno, line, f"not UTF-8 text (bad byte at column {exc.start - start + 1})"
        )
        raise ScenarioError(name, [error], "the script is not UTF-8 text") from None
    return parse_scenario(text, name)
