"""Mouse drag-to-assign, the optimizer preview, live refresh from another writer, and a store that fails."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select
from textual.widgets import Static

from dispatch_tui.clock import Clock
from dispatch_tui.config import Settings
from dispatch_tui.services.execution.board import Block, GridRow
from dispatch_tui.services.planning.assignment import assign
from dispatch_tui.services.planning.candidates import Candidate, rank_candidates
from dispatch_tui.store.models import Appointment, Job, JobEvent
from dispatch_tui.travel.haversine import travel_minutes
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.screens.optimize import OptimizeScreen
from dispatch_tui.tui.widgets.requests_pane import RequestsPane
from dispatch_tui.tui.widgets.schedule_grid import NAME_WIDTH, ScheduleGrid
from dispatch_tui.tui.widgets.status_pane import StatusPane
from tests.clock import DAY, ZONE
from tests.ui.conftest import NOON
from tests.ui.helpers import settle, until
from tests.ui.test_board_keys import technician_id
from tests.ui.test_board_updates import QuietFeed

AppFactory = Callable[..., DispatchApp]


def travel(a: tuple[float, float], b: tuple[float, float]) -> int:
    return travel_minutes(a[0], a[1], b[0], b[1])


def appointment_of(engine: Engine, ref: str) -> Appointment | None:
    with Session(engine) as session:
        job = session.exec(select(Job).where(Job.ref == ref)).one()
        return session.exec(select(Appointment).where(Appointment.job_id == job.id)).first()


def grid_offset(grid: ScheduleGrid, tech_ref: str, minute: int) -> tuple[int, int]:
    """Where on the grid widget (border included) a technician's row shows ``minute``."""
    assert grid.grid is not None
    row = next(i for i, r in enumerate(grid.grid.rows) if r.tech_ref == tech_ref)
    first, per_cell = grid.span()
    return 1 + NAME_WIDTH + (minute - first) // per_cell, 1 + 1 + row


async def test_dragging_a_request_onto_a_technicians_row_assigns_it_there(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        requests = app.board_screen.query_one(RequestsPane)
        with Session(demo) as session:
            index, best = next(
                (i, found[0])
                for i, row in enumerate(requests.rows)
                if (found := rank_candidates(session, row.ref, zone=ZONE, travel=travel, limit=1))
            )
        ref = requests.rows[index].ref
        grid = app.board_screen.query_one(ScheduleGrid)
        assert grid.grid is not None
        minute = -(-int((best.start - grid.grid.frame.origin).total_seconds() // 60) // 5) * 5
        target = grid_offset(grid, best.technician_ref, minute)
        assert await pilot.mouse_down(RequestsPane, offset=(5, 2 + index))
        assert app.mouse_captured is requests, "the pressed row captures the mouse"
        await pilot.hover(ScheduleGrid, offset=target)
        await pilot.mouse_up(ScheduleGrid, offset=target)
        await settle(pilot)
        appointment = appointment_of(demo, ref)
        assert appointment is not None, "the drop should have assigned the request"
        with Session(demo) as session:
            tech_id = appointment.technician_id
            from dispatch_tui.store.models import Technician

            technician = session.get(Technician, tech_id)
            assert technician is not None
            assert technician.ref == best.technician_ref
        assert abs((appointment.start - best.start).total_seconds()) < 15 * 60
        assert app.mouse_captured is None


async def test_a_refused_drop_says_why_and_changes_nothing(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        requests = app.board_screen.query_one(RequestsPane)
        grid = app.board_screen.query_one(ScheduleGrid)
        ref, skill = requests.rows[0].ref, requests.rows[0].skill
        board = app.board_screen.board
        assert board is not None
        unskilled = next(t.ref for t in board.technicians if skill not in t.skills)
        target = grid_offset(grid, unskilled, 14 * 60)
        await pilot.mouse_down(RequestsPane, offset=(5, 2))
        await pilot.hover(ScheduleGrid, offset=target)
        await pilot.mouse_up(ScheduleGrid, offset=target)
        await settle(pilot)
        assert appointment_of(demo, ref) is None
        assert any(f"no {skill} skill" in n.message for n in app._notifications), "the reason is shown"


async def test_dragging_a_visit_to_another_time_moves_it(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        grid = app.board_screen.query_one(ScheduleGrid)
        assert grid.grid is not None
        first, per_cell = grid.span()
        # A scheduled visit whose technician has room at another time: find one with a feasible other start.
        origin = grid.grid.frame.origin
        with Session(demo) as session:

            def other_time(row: GridRow, block: Block) -> Candidate | None:
                options = rank_candidates(session, block.job_ref, zone=ZONE, travel=travel, day=DAY, limit=50)
                return next(
                    (c for c in options if c.technician_ref == row.tech_ref
                     and (c.start - origin).total_seconds() // 60 // per_cell != block.start // per_cell),
                    None,
                )  # fmt: skip

            found = next(
                ((row, block, later) for row in grid.grid.rows for block in row.blocks
                 if block.status == "scheduled" and (later := other_time(row, block)) is not None),
                None,
            )  # fmt: skip
            assert found is not None, "the demo should have a visit that can be re-timed"
            row, block, later = found
        source = grid_offset(grid, row.tech_ref, block.start + per_cell // 2)
        source = (max(source[0], 1 + NAME_WIDTH + (block.start - first + per_cell - 1) // per_cell), source[1])
        minute = int((later.start - grid.grid.frame.origin).total_seconds() // 60)
        target = grid_offset(grid, row.tech_ref, minute)
        await pilot.mouse_down(ScheduleGrid, offset=source)
        assert grid.highlighted_ref == block.job_ref
        await pilot.hover(ScheduleGrid, offset=target)
        await pilot.mouse_up(ScheduleGrid, offset=target)
        await settle(pilot)
        moved = appointment_of(demo, block.job_ref)
        assert moved is not None
        cell = first + (minute - first) // per_cell * per_cell  # the cell the pointer was released on
        assert cell <= int((moved.start - grid.grid.frame.origin).total_seconds() // 60) < cell + per_cell
        assert moved.technician_id == technician_id(demo, row.tech_ref), "re-timed on the same technician's day"


async def test_without_a_change_feed_the_interval_poll_still_shows_changes(demo: Engine, make_app: AppFactory) -> None:
    """The fallback when the feed cannot run (test_live_feed.py covers the feed): the board's 0.2 s poll."""
    app = make_app()
    app.backend.change_feed = QuietFeed  # type: ignore[method-assign]  # a feed that hears nothing, for the poll
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        requests = app.board_screen.query_one(RequestsPane)
        with Session(demo) as session:
            ref, best = next(
                (row.ref, found[0])
                for row in requests.rows
                if (found := rank_candidates(session, row.ref, zone=ZONE, travel=travel, limit=1))
            )
            assign(session, ref, best.technician_ref, best.start, zone=ZONE, travel=travel, actor="cli")
            session.commit()
        await until(pilot, lambda: ref not in [r.ref for r in requests.rows], timeout=2.0)


async def test_o_previews_the_optimizer_and_a_accepts_the_plan(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        with Session(demo) as session:
            events_before = len(session.exec(select(JobEvent).where(JobEvent.actor == "optimizer")).all())
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, OptimizeScreen))
        dialog = app.screen
        assert isinstance(dialog, OptimizeScreen)
        summary = dialog.query_one("#optimize-summary", Static)
        await until(pilot, lambda: dialog.report is not None or "No plan" in str(summary.content), timeout=30)
        assert dialog.report is not None, str(summary.content)
        assert dialog.rows, "the demo's greedy plan leaves the optimizer something to change"
        await pilot.press("a")
        await until(pilot, lambda: not isinstance(app.screen, OptimizeScreen), timeout=30)
        with Session(demo) as session:
            events_after = len(session.exec(select(JobEvent).where(JobEvent.actor == "optimizer")).all())
        assert events_after > events_before


async def test_escape_cancels_a_running_optimizer_and_nothing_changes(demo: Engine, make_app: AppFactory) -> None:
    from tests.conftest import dump

    before = dump(demo)
    app = make_app()
    app.optimize_time_limit = 30.0
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, OptimizeScreen))
        dialog = app.screen
        assert isinstance(dialog, OptimizeScreen)
        await pilot.pause(0.3)
        assert dialog.report is None, "still solving when Esc comes"
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, OptimizeScreen))
        await settle(pilot)
        assert any("Optimizer run cancelled" in n.message for n in app._notifications)
    assert dump(demo) == before


async def test_a_store_that_cannot_be_opened_is_shown_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the store's folder should be")
    app = DispatchApp(
        Settings(db=str(blocker / "dispatch.db"), timezone=ZONE.key), clock=Clock.at(NOON, frozen=True), day=DAY
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        status = app.board_screen.query_one(StatusPane)
        assert "cannot read the store" in str(status.query_one("#status-body", Static).content)
