"""Deadlines: what the session awaits comes back once its time has come, earliest first."""

from __future__ import annotations

import math

from flushscope.core.model.deadlines import Deadlines


def test_items_come_back_once_in_deadline_order() -> None:
    deadlines: Deadlines[str] = Deadlines()
    assert (deadlines.next, deadlines.due(100.0)) == (math.inf, [])
    deadlines.add(3.0, "end of a")
    deadlines.add(2.5, "flush of b")
    deadlines.add(3.0, "end of c")
    deadlines.add(9.0, "flush of d")
    assert deadlines.next == 2.5
    assert deadlines.due(2.4) == []
    assert deadlines.due(3.0) == ["flush of b", "end of a", "end of c"]
    assert deadlines.next == 9.0
    assert deadlines.due(8.0) == []
    assert deadlines.due(math.inf) == ["flush of d"]
    assert (deadlines.next, deadlines.due(math.inf)) == (math.inf, [])


def test_checking_often_or_once_gives_the_same_order() -> None:
    times = [(4.0, "a"), (1.0, "b"), (3.0, "c"), (1.0, "d"), (2.0, "e")]
    once: Deadlines[str] = Deadlines()
    often: Deadlines[str] = Deadlines()
    for deadline, item in times:
        once.add(deadline, item)
        often.add(deadline, item)
    stepwise = [item for now in (0.5, 1.0, 2.5, 3.5, 10.0) for item in often.due(now)]
    assert stepwise == once.due(10.0) == ["b", "d", "e", "c", "a"]
