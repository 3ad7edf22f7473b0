"""A session recorded from flushscope's own client against the embedded emulator (the ``rig_factory``
fixture in conftest.py makes them), and waiting on a session from asyncio."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from flushscope.core.inputs.scenario import parse_scenario
from flushscope.core.model.observers import SessionObserver
from flushscope.core.model.session import Session
from flushscope.emulator.server import EmulatorServer
from flushscope.net.client import Client
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
