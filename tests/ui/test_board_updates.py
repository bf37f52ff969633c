"""How the board keeps up: a first page before the whole queue, a write shown from what it touched
(no whole reload), and a reload that began before a write never shows it undone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.screens.assign import AssignScreen
from dispatch_tui.tui.screens.board import BoardScreen
from dispatch_tui.tui.widgets.requests_pane import RequestsPane
from dispatch_tui.tui.widgets.schedule_grid import ScheduleGrid
from dispatch_tui.tui.widgets.technicians_pane import TechniciansPane
from tests.ui.helpers import settle, until

AppFactory = Callable[..., DispatchApp]


class QuietFeed:
    """A change feed that hears nothing: these tests look at what a write shows by itself, before the
    reconciling reload that the console's own commit sets off (through the real feed)."""

    def wait(self, timeout_s: float) -> bool:
        time.sleep(timeout_s)
        return False

    def close(self) -> None:
        pass


def without_reloads(app: DispatchApp) -> None:
    app.board_screen.poll_interval = 3600
    app.backend.change_feed = QuietFeed  # type: ignore[method-assign]  # a feed that hears nothing in place of the store's


def count_board_reads(app: DispatchApp) -> list[bool]:
    """Every whole-board read the console makes from now on (True: a staged one)."""
    reads: list[bool] = []
    read = app.backend.board

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(kwargs.get("on_first_page") is not None)
        return read(*args, **kwargs)

    app.backend.board = counted  # type: ignore[method-assign]  # a counter around the real read
    return reads


async def test_the_first_page_grid_and_team_show_before_the_rest_of_the_queue(
    demo: Engine, make_app: AppFactory
) -> None:
    app = make_app()
    without_reloads(app)  # only the launch's read
    release = threading.Event()
    read = app.backend.board

    def held(*args: Any, **kwargs: Any) -> Any:
        """The whole queue waits until the test has looked at the first page."""
        first_page = kwargs["on_first_page"]

        def then_wait(board: Any) -> None:
            first_page(board)
            assert release.wait(10)

        return read(*args, **{**kwargs, "first_page": 5, "on_first_page": then_wait if first_page else None})

    app.backend.board = held  # type: ignore[method-assign]  # the real read, held after its first page
    async with app.run_test(size=(160, 45)) as pilot:
        requests = app.board_screen.query_one(RequestsPane)
        await until(pilot, lambda: bool(requests.rows))
        board = app.board_screen.board
        assert board is not None and board.partial
        assert len(requests.rows) == 5 and board.waiting > 5
        assert str(requests.border_title) == f"Requests ({board.waiting})", "the title counts the whole queue"
        assert app.board_screen.query_one(ScheduleGrid).grid is not None
        assert app.board_screen.query_one(TechniciansPane).rows
        release.set()
        await settle(pilot)
        assert len(requests.rows) == board.waiting
        assert app.board_screen.board is not None and not app.board_screen.board.partial


async def test_an_assign_shows_at_once_without_reloading_the_board(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    without_reloads(app)  # what shows comes from the write itself
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        reads = count_board_reads(app)
        requests = app.board_screen.query_one(RequestsPane)
        index = next(i for i, row in enumerate(requests.rows) if app.backend.candidates(row.ref))
        ref, waiting = requests.rows[index].ref, len(requests.rows)
        requests.cursor = index
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AssignScreen))
        assert isinstance(app.screen, AssignScreen)
        best = app.screen.candidates[0]
        team = app.board_screen.query_one(TechniciansPane)
        visits = next(t.visits for t in team.rows if t.ref == best.technician_ref)
        await pilot.press("enter")
        await until(pilot, lambda: ref not in [row.ref for row in requests.rows])
        await settle(pilot)
        assert reads == [], "no whole-board read"
        assert len(requests.rows) == waiting - 1
        assert str(requests.border_title) == f"Requests ({waiting - 1})"
        grid = app.board_screen.query_one(ScheduleGrid)
        assert grid.grid is not None
        row = next(r for r in grid.grid.rows if r.tech_ref == best.technician_ref)
        assert ref in [b.job_ref for b in row.blocks]
        assert next(t.visits for t in team.rows if t.ref == best.technician_ref) == visits + 1
        assert any(f"Assigned {ref} to {best.technician_ref}" in n.message for n in app._notifications)


async def test_a_reload_read_before_a_write_landed_does_not_undo_it(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    without_reloads(app)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        screen = app.board_screen
        stale = screen.board
        assert stale is not None
        requests = screen.query_one(RequestsPane)
        ref = next(row.ref for row in requests.rows if app.backend.candidates(row.ref))
        best = app.backend.candidates(ref)[0]
        screen.write("Assigned {change.job_ref}", app.backend.assign, ref, best.technician_ref, best.start)
        await until(pilot, lambda: ref not in [row.ref for row in requests.rows])
        reads = count_board_reads(app)
        screen.post_message(BoardScreen.Loaded(stale, writes=0))  # read before the write: arrives late
        await settle(pilot)
        assert ref not in [row.ref for row in requests.rows], "the late read must not put the request back"
        assert reads == [False], "it is read again instead"
