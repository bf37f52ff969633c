"""The late list (L): at 15:00 on the demo's day, with nothing reported since noon, the dialog lists every
technician the service finds behind plan, read in a worker; the grid draws the late visits' projected times."""

from __future__ import annotations

import io
import threading
from datetime import date
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine
from sqlmodel import Session
from textual.widgets import Static

from dispatch_tui.clock import Clock
from dispatch_tui.config import Settings
from dispatch_tui.services.execution.lateness import LateList, late_list
from dispatch_tui.services.travel import point_travel
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.keys import BOARD_ACTIONS
from dispatch_tui.tui.screens.late import LateScreen
from dispatch_tui.tui.widgets.schedule_grid import ScheduleGrid
from tests.clock import DAY, ZONE, at
from tests.ui.helpers import settle, until

LATER = at(DAY, "15:00")


def console_at(engine: Engine, db_path: Path) -> DispatchApp:
    return DispatchApp(
        Settings(db=str(db_path), timezone=ZONE.key),
        clock=Clock.at(LATER, frozen=True), day=DAY, poll_interval=0.2, optimize_time_limit=1.0, actor="tester",
    )  # fmt: skip


async def test_L_lists_who_is_late_by_how_much_and_the_windows_missed(demo: Engine, db_path: Path) -> None:
    app = console_at(demo, db_path)
    with Session(demo) as session:
        expected = late_list(session, DAY, ZONE, LATER, point_travel(app.backend.settings, demo))
    assert expected.technicians and any(t.missed for t in expected.technicians), "nothing reported since noon"
    assert "L" in {a.keys for a in BOARD_ACTIONS}, "help, the palette and the keymap know it"

    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        grid = app.screen.query_one(ScheduleGrid)
        await until(pilot, lambda: grid.grid is not None and any(b.projected for r in grid.grid.rows for b in r.blocks))
        assert grid.grid is not None
        rendered = "".join(seg.text for y in range(len(grid.grid.rows) + 1) for seg in grid.render_line(y))
        assert "»" in rendered, "late visits' projected ends are drawn"

        threads: list[tuple[date, bool]] = []
        read = app.backend.late_list

        def spy(day: date) -> LateList:
            threads.append((day, threading.current_thread() is threading.main_thread()))
            return read(day)

        app.backend.late_list = spy  # type: ignore[method-assign]  # a spy on the thread of the real read
        await pilot.press("L")
        await until(pilot, lambda: isinstance(app.screen, LateScreen) and app.screen.found is not None)
        screen = app.screen
        assert isinstance(screen, LateScreen)
        assert threads == [(DAY, False)], "read once, in a worker thread"
        assert screen.found == expected
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(screen.query_one("#late-list", Static).content)
        text = console.export_text()
        assert (
            f"{len(expected.technicians)} technician(s) running late, as of {LATER.astimezone(ZONE):%a %d %b} 15:00"
            in text
        )
        for tech in expected.technicians:
            assert f"{tech.technician_ref} {tech.name}: {tech.behind_minutes} min behind" in text
            assert tech.reason in text
        assert text.count("! misses window") == sum(len(t.missed) for t in expected.technicians)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, LateScreen)
