"""t goes back to today's board; r reloads at once (no waiting for a poll or a change notice)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, update
from sqlmodel import Session, col

from dispatch_tui.store.models import Job
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.widgets.requests_pane import RequestsPane
from dispatch_tui.tui.widgets.schedule_grid import ScheduleGrid
from tests.clock import DAY
from tests.ui.helpers import settle, until
from tests.ui.test_board_updates import without_reloads

AppFactory = Callable[..., DispatchApp]


async def test_t_brings_the_board_back_to_today(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        grid = app.board_screen.query_one(ScheduleGrid)
        await pilot.press("right_square_bracket", "right_square_bracket")
        await settle(pilot)
        assert grid.grid is not None and grid.grid.day != DAY
        await pilot.press("t")
        await settle(pilot)
        assert grid.grid.day == DAY  # the app's clock says noon of the demo's day


async def test_r_reloads_what_changed_behind_the_boards_back(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    without_reloads(app)  # neither the interval poll nor the change feed will pick the change up
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        requests = app.board_screen.query_one(RequestsPane)
        ref = requests.rows[-1].ref
        with Session(demo) as session:  # bump it to the top of the queue: priority 1
            session.execute(update(Job).where(col(Job.ref) == ref).values(priority=1))
            session.commit()
        await pilot.pause(0.5)
        assert requests.rows[0].ref != ref, "nothing reloaded by itself"
        await pilot.press("r")
        await until(pilot, lambda: any(row.ref == ref and row.priority == 1 for row in requests.rows))
