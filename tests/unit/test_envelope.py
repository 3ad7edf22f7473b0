"""The waveform's envelope without Qt: min and max per column, whole or folded in block by block."""

from __future__ import annotations

import numpy as np
import pytest

from flushscope.core.analysis.envelope import (
    envelope_key,
    measure_envelope,
    min_max_columns,
    min_max_streamed,
)
from flushscope.protocol.audio import decode
from session_wire import Wire


def test_min_max_columns() -> None:
    samples = np.array([0.1, -0.2, 0.5, 0.3, -0.9, 0.0, np.nan, 0.2], np.float32)
    mins, maxs = min_max_columns(samples, 4)
    assert mins.tolist() == pytest.approx([-0.2, 0.3, -0.9, 0.0])
    assert maxs.tolist() == pytest.approx([0.1, 0.5, 0.0, 0.2])
    # Fewer samples than columns: each column shows the sample under it.
    mins, maxs = min_max_columns(np.array([0.5, -0.5], np.float32), 4)
    assert mins.tolist() == maxs.tolist() == [0.5, 0.5, -0.5, -0.5]
    mins, maxs = min_max_columns(np.zeros(0, np.float32), 3)
    assert mins.tolist() == maxs.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("count", [7, 600, 601, 1999, 5000])
@pytest.mark.parametrize("columns", [1, 5, 600])
def test_streamed_columns_are_the_columns_of_everything(count: int, columns: int) -> None:
    rng = np.random.default_rng(count * columns)
    samples = rng.standard_normal(count).astype(np.float32)
    samples[count // 3] = np.nan
    cuts = sorted(rng.integers(0, count, 6).tolist())
    blocks = [samples[a:b] for a, b in zip([0, *cuts], [*cuts, count], strict=True)]
    mins, maxs = min_max_streamed(iter(blocks), count, columns)
    expected = min_max_columns(samples, columns)
    assert mins.tolist() == expected[0].tolist() and maxs.tolist() == expected[1].tolist()


def test_a_segment_and_a_context_have_envelopes_coloured_by_segment() -> None:
    wire = Wire()
    quiet = (np.arange(2400) % 7 - 3).astype("<i2").tobytes()
    loud = (np.arange(2400) % 2000 - 1000).astype("<i2").tobytes()
    wire.turn("a", ["One. ", "Two."], chunks=0)
    wire.chunk("a", 1, quiet)
    wire.chunk("a", 2, loud + b"\x01")  # and half a sample, never drawn
    ctx = wire.session.contexts[0]
    whole = measure_envelope(wire.session.audio, ctx, 8)
    assert whole is not None and whole.key == envelope_key(ctx, 8)
    assert whole.segment.tolist() == [0] * 4 + [1] * 4
    expected = min_max_columns(decode(quiet + loud, ctx.format.encoding), 8)  # type: ignore[union-attr]
    assert whole.mins.tolist() == expected[0].tolist() and whole.maxs.tolist() == expected[1].tolist()
    assert whole.seconds == pytest.approx(0.2)
    second = measure_envelope(wire.session.audio, ctx.segments[1], 3)
    assert second is not None and second.segment.tolist() == [1, 1, 1]
    assert envelope_key(ctx.segments[1], 3) != envelope_key(ctx.segments[1], 4)
