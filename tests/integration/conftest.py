"""Fixtures for the emulator integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from rig_support import Rig

from flushscope.core.model.recorder import Recorder
from flushscope.core.model.session import Session
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.emulator.config import EmulatorConfig, Pacing
from flushscope.emulator.espeak import Synthesizer
from flushscope.emulator.server import EmulatorServer
from flushscope.net.client import Client, Target


@pytest.fixture(scope="session")
def synth() -> Iterator[Synthesizer]:
    """One synthesizer for the session: keeps espeak-ng initialized (and its cache warm) between servers."""
    with Synthesizer() as shared:
        yield shared


@pytest_asyncio.fixture
async def rig_factory(tmp_path: Path, synth: Synthesizer) -> AsyncIterator[Any]:
    """Makes rigs (instant pacing unless told otherwise) and closes them all afterwards."""
    made: list[tuple[EmulatorServer, Client, Recorder]] = []

    async def make(**config: Any) -> Rig:
        config.setdefault("pacing", Pacing.instant())
        server = await EmulatorServer(EmulatorConfig(**config), synth).start()
        session = Session()
        capture = tmp_path / f"rig{len(made)}.fscap.jsonl"
        recorder = Recorder(session, CaptureWriter(capture, server.tts_url))
        client = Client(recorder, Target(server.url))
        made.append((server, client, recorder))
        await client.connect()
        return Rig(server, client, session, capture)

    yield make
    for server, client, recorder in made:
        await client.aclose()
        await server.close()
        recorder.close()
