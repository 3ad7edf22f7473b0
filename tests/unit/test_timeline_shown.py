"""Which lanes the timeline shows and in which rows (ui/timeline/model/shown_lanes.py): every lane, or one connection's,
kept in step as lanes are added. No widget, no Qt."""

from __future__ import annotations

from flushscope.core.model.records import Context
from flushscope.ui.timeline.model.lanes import Lane
from flushscope.ui.timeline.model.shown_lanes import ShownLanes


def lanes_on(*conns: int) -> list[Lane]:
    """One lane per context, numbered from 1, on these connections."""
    return [Lane(Context(n, conn, f"c{n}", float(n))) for n, conn in enumerate(conns, start=1)]


def test_without_a_filter_every_lane_is_shown_in_context_order() -> None:
    lanes = lanes_on(1, 2, 1)
    shown = ShownLanes()

    assert shown.update(lanes, None) is True
    assert shown.update(lanes, None) is False

    assert shown.lanes == lanes
    assert shown.row_of.tolist() == [0, 1, 2]
    assert [shown.row(lane.context) for lane in lanes] == [0, 1, 2]


def test_a_filter_stacks_its_connections_lanes_and_hides_the_others() -> None:
    lanes = lanes_on(1, 2, 1, 2)
    shown = ShownLanes()

    assert shown.update(lanes, 2) is True

    assert shown.lanes == [lanes[1], lanes[3]]
    assert shown.row_of.tolist() == [-1, 0, -1, 1]
    assert [shown.row(lane.context) for lane in lanes] == [None, 0, None, 1]
    assert len(shown) == 2


def test_new_lanes_are_taken_in_and_only_theirs_change_the_rows() -> None:
    lanes = lanes_on(1, 2)
    shown = ShownLanes()
    shown.update(lanes, 2)

    lanes += lanes_on(1, 1, 1)[2:]  # context 3, on connection 1
    assert shown.update(lanes, 2) is False  # a lane, but not one shown
    lanes.append(Lane(Context(4, 2, "c4", 4.0)))
    assert shown.update(lanes, 2) is True

    assert shown.row_of.tolist() == [-1, 0, -1, 1]
    assert shown.lanes == [lanes[1], lanes[3]]


def test_changing_or_clearing_the_filter_starts_over() -> None:
    lanes = lanes_on(1, 2, 1)
    shown = ShownLanes()
    shown.update(lanes, 2)

    assert shown.update(lanes, 1) is True
    assert shown.row_of.tolist() == [0, -1, 1]
    assert shown.update(lanes, None) is True
    assert shown.row_of.tolist() == [0, 1, 2]


def test_a_context_of_another_session_has_no_row() -> None:
    shown = ShownLanes()
    shown.update(lanes_on(1, 1), None)

    stranger = Context(2, 1, "c2", 2.0)  # the same number as a shown context, not the same context

    assert shown.row(stranger) is None
    assert shown.row(Context(9, 1, "c9", 9.0)) is None
