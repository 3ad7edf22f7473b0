"""Fixtures for the emulator integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flushscope.emulator.espeak import Synthesizer


@pytest.fixture(scope="session")
def synth() -> Iterator[Synthesizer]:
    """One synthesizer for the session: keeps espeak-ng initialized (and its cache warm) between servers."""
    with Synthesizer() as shared:
        yield shared
