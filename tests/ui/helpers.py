"""Waiting for the console the way a user does: until what the workers loaded is on the screen."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot


async def settle(pilot: Pilot[None]) -> None:
    """Until every worker has finished and the messages they posted are handled."""
    for _ in range(3):
        await until(pilot, lambda: all(worker.is_finished for worker in pilot.app.workers), timeout=10)
        await pilot.pause()


async def until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("the console did not get there in time")
        await pilot.pause(0.05)
