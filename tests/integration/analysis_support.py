"""A session recorded from flushscope's own client against the embedded emulator, for the analysis tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio

from flushscope.core.capture import CaptureWriter
from flushscope.core.recorder import Recorder
from flushscope.core.scenario import parse_scenario
from flushscope.core.session import Session, SessionObserver
from flushscope.emulator.config import EmulatorConfig, Pacing
from flushscope.emulator.espeak import Synthesizer
from flushscope.emulator.server import EmulatorServer
from flushscope.net.client import Client, Target
from flushscope.net.runner import play_scenario, wait_settled

#: A safety net for every wait on the network; never the thing a test measures.
TIMEOUT = 20.0


class Rig:
    """An emulator, a session recorded to a capture file, and a client connected to the emulator."""

    def __init__(self, server: EmulatorServer, client: Client, session: Session, capture: Path) -> None:
        self.server, self.client, self.session, self.capture = server, client, session, capture

    async def play(self, script: str, timeout: float = TIMEOUT) -> bool:
        """Play a scenario and wait until every flush and end is answered."""
        await play_scenario(parse_scenario(script), self.client)
        return await wait_settled(self.session, self.client, timeout)

    async def until(self, condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        """Wait until ``condition()`` holds, checked again whenever a frame reaches the session."""
        await until(self.session, condition, timeout)


async def until(session: Session, condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait until ``condition()`` holds, checked again whenever a frame reaches ``session``."""
    changed = asyncio.Event()

    class Wake(SessionObserver):
        def frame_added(self, index: int) -> None:
            changed.set()

    observer = Wake()
    session.observers.append(observer)
    try:
        async with asyncio.timeout(timeout):
            while not condition():
                changed.clear()
                await changed.wait()
    finally:
        session.observers.remove(observer)


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
