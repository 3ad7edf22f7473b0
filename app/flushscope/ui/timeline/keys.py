"""The timeline's own keys, in one table: what the widget does on each, and what Help > Keyboard shortcuts
lists (so the list cannot drift from what the keys do)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, auto
from typing import Final

from PySide6.QtCore import Qt


class TimelineCommand(Enum):
    """What a key does to the timeline."""

    ZOOM_IN = auto()
    ZOOM_OUT = auto()
    PAN_LEFT = auto()
    PAN_RIGHT = auto()
    LANE_UP = auto()
    LANE_DOWN = auto()
    PAGE_UP = auto()
    PAGE_DOWN = auto()
    FIT = auto()
    FOLLOW = auto()
    NEXT_AXIS = auto()


@dataclass(frozen=True)
class KeyBinding:
    """Keys (as Qt names them, and as the shortcut list writes them) and what they do."""

    keys: tuple[Qt.Key, ...]
    shown: str
    command: TimelineCommand
    description: str


TIMELINE_KEYS: Final = (
    KeyBinding((Qt.Key.Key_Plus, Qt.Key.Key_Equal), "+", TimelineCommand.ZOOM_IN, "Zoom in"),
    KeyBinding((Qt.Key.Key_Minus, Qt.Key.Key_Underscore), "−", TimelineCommand.ZOOM_OUT, "Zoom out"),
    KeyBinding(
        (Qt.Key.Key_Left,), "Left", TimelineCommand.PAN_LEFT, "Move earlier (with Shift: half a view)"
    ),
    KeyBinding(
        (Qt.Key.Key_Right,), "Right", TimelineCommand.PAN_RIGHT, "Move later (with Shift: half a view)"
    ),
    KeyBinding((Qt.Key.Key_Up,), "Up", TimelineCommand.LANE_UP, "Scroll up one lane"),
    KeyBinding((Qt.Key.Key_Down,), "Down", TimelineCommand.LANE_DOWN, "Scroll down one lane"),
    KeyBinding((Qt.Key.Key_PageUp,), "PgUp", TimelineCommand.PAGE_UP, "Scroll up a page of lanes"),
    KeyBinding((Qt.Key.Key_PageDown,), "PgDown", TimelineCommand.PAGE_DOWN, "Scroll down a page of lanes"),
    KeyBinding(
        (Qt.Key.Key_F, Qt.Key.Key_Home), "F, Home", TimelineCommand.FIT, "Fit the contexts' activity in view"
    ),
    KeyBinding((Qt.Key.Key_End,), "End", TimelineCommand.FOLLOW, "Follow live data"),
    KeyBinding(
        (Qt.Key.Key_A,),
        "A",
        TimelineCommand.NEXT_AXIS,
        "Next x-axis: arrival time, audio position, since first send",
    ),
)

_BY_KEY: Final = {key: binding.command for binding in TIMELINE_KEYS for key in binding.keys}


def timeline_command(key: int) -> TimelineCommand | None:
    """The command of a key pressed on the timeline (None: not one of its keys)."""
    try:
        return _BY_KEY.get(Qt.Key(key))
    except ValueError:
        return None
