"""Keepalive settings: plain values, checked with an error in words, and the sentences built from them."""

from __future__ import annotations

from typing import Any

import pytest

from flushscope.net.keepalive import Keepalive, KeepaliveError, seconds, stalled_words, timeout_words


def test_the_defaults_ping_every_5_s_stall_at_3_and_give_up_at_20() -> None:
    assert Keepalive() == Keepalive(interval_s=5.0, stall_after_s=3.0, timeout_s=20.0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"interval_s": 0}, "interval_s must be a positive number of seconds, not 0"),
        ({"interval_s": -1.5}, "interval_s must be a positive number of seconds, not -1.5"),
        ({"stall_after_s": float("nan")}, "stall_after_s must be a positive number of seconds, not nan"),
        ({"timeout_s": float("inf")}, "timeout_s must be a positive number of seconds, not inf"),
        ({"interval_s": "5"}, "interval_s must be a number of seconds, not '5'"),
        ({"stall_after_s": True}, "stall_after_s must be a number of seconds, not True"),
        ({"timeout_s": None}, "timeout_s must be a number of seconds, not None"),
        ({"stall_after_s": 20.0}, r"timeout_s \(20 s\) must be longer than stall_after_s \(20 s\)"),
        (
            {"stall_after_s": 4, "timeout_s": 2.5},
            r"timeout_s \(2.5 s\) must be longer than stall_after_s \(4 s\)",
        ),
    ],
)
def test_bad_values_are_refused_in_words(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(KeepaliveError, match=f"^{message}$"):
        Keepalive(**fields)


def test_a_keepalive_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="interval_s"):
        Keepalive(interval_s=0)


def test_integers_and_fractions_are_accepted() -> None:
    keepalive = Keepalive(interval_s=1, stall_after_s=0.25, timeout_s=2)
    assert (keepalive.interval_s, keepalive.stall_after_s, keepalive.timeout_s) == (1, 0.25, 2)


def test_the_sentences_name_the_seconds_plainly() -> None:
    assert [seconds(v) for v in (3.0, 0.25, 12.5, 20, 1 / 3)] == ["3", "0.25", "12.5", "20", "0.333"]
    assert stalled_words(3.0) == "no answer from the server for 3 s"
    assert timeout_words(20.0) == "no answer from the server for 20 s; the connection was closed"
