"""A visit whose promised window moved after it was planned (a re-import) is flagged on the console too:
a `!` on its block and an alert that says why (issue 12, point 2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from dispatch_tui.store.models import Appointment, Job
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.widgets.schedule_grid import NAME_WIDTH, ScheduleGrid
from tests.ui.helpers import settle


async def test_a_visit_outside_its_window_is_marked_on_the_grid(
    demo: Engine, make_app: Callable[..., DispatchApp]
) -> None:
    with Session(demo) as session:
        latest = session.exec(
            select(Job, Appointment).join(Appointment, col(Appointment.job_id) == Job.id)
            .where(Job.status == "scheduled").order_by(col(Appointment.start).desc())
        ).first()  # fmt: skip
        assert latest is not None, "the demo has scheduled visits"
        job, appointment = latest
        ref = job.ref
        job.window_start = appointment.start - timedelta(hours=6)  # the customer now wants the morning
        job.window_end = appointment.start - timedelta(hours=4)
        session.add(job)
        session.commit()
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        grid = app.board_screen.query_one(ScheduleGrid)
        assert grid.grid is not None
        [block] = [b for row in grid.grid.rows for b in row.blocks if b.job_ref == ref]
        assert block.broken_promise == "outside_window"
        row = next(i for i, r in enumerate(grid.grid.rows) if block in r.blocks)
        line = grid.render_line(row + 1).text[NAME_WIDTH:]
        assert f"!{ref}" in line or f"!{ref[-2:]}" in line, line
        board = app.board_screen.board
        assert board is not None
        assert any(a.subject == ref and "outside its window" in a.message for a in board.alerts())
