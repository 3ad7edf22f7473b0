"""The status bar's figures: chunks per second over the last second, anomalies counted by severity."""

from __future__ import annotations

from flushscope.ui.widgets.status_bar import anomaly_counts, chunk_rate
from session_wire import Wire


def test_chunk_rate_counts_the_last_second() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    last = 0.0
    for _ in range(10):
        last = wire.chunk("a", 1, dt=0.3).t
    assert chunk_rate(wire.session, last) == 4  # chunks at last-0.9, -0.6, -0.3 and last
    assert chunk_rate(wire.session, last + 5) == 0


def test_anomaly_counts_separate_information() -> None:
    wire = Wire()
    wire.send("a", "Hello. ")
    wire.chunk("a", None)  # missing flush_id before any flush: information
    wire.chunk("zzz", 1)  # unknown context: an error
    assert anomaly_counts(wire.session) == (1, 1)
