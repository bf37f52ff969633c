"""What the console looks like, with a fixed clock and fixed data: board (dark and light themes), Assign
dialog, optimizer preview, empty store, error.

A picture is compared byte for byte, dates on screen included, so these tests keep one fixed day and set
the clock to it (the clock marker): the one place in the suite where a date is fixed for its own sake.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session
from textual.pilot import Pilot
from textual.widgets import Input

from dispatch_tui.clock import Clock
from dispatch_tui.config import Settings
from dispatch_tui.domain import ChangeKind
from dispatch_tui.optimizer.problem import SolveStatus
from dispatch_tui.services.planning import optimize as planner
from dispatch_tui.services.travel import travel_model
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.screens.assign import AssignScreen
from dispatch_tui.tui.screens.optimize import OptimizeScreen
from tests.clock import ZONE, at
from tests.ui.conftest import build_fixed_demo
from tests.ui.helpers import settle, until

DAY = date(2026, 12, 1)  # a Tuesday: the pictures' day
NOON = at(DAY, "12:00")
pytestmark = pytest.mark.clock("2026-12-01T12:00+01:00")  # NOON: what the console's clock reads too
SIZE = (150, 44)
SnapCompare = Callable[..., bool]  # the plugin declares (path) -> bool; it takes the app and keywords too


def console(db: Path) -> DispatchApp:
    settings = Settings(db=str(db), timezone=ZONE.key)
    return DispatchApp(settings, clock=Clock.at(NOON, frozen=True), day=DAY, poll_interval=60, actor="tester")


def test_board(engine: Engine, db_path: Path, snap_compare: SnapCompare) -> None:
    build_fixed_demo(engine, DAY, NOON)
    assert snap_compare(console(db_path), terminal_size=SIZE, run_before=settle)


def test_board_light_theme(engine: Engine, db_path: Path, snap_compare: SnapCompare) -> None:
    build_fixed_demo(engine, DAY, NOON)

    async def light(pilot: Pilot[None]) -> None:
        pilot.app.theme = "textual-light"
        await settle(pilot)

    assert snap_compare(console(db_path), terminal_size=SIZE, run_before=light)


def test_assign_dialog(engine: Engine, db_path: Path, snap_compare: SnapCompare) -> None:
    build_fixed_demo(engine, DAY, NOON)
    app = console(db_path)

    async def open_assign(pilot: Pilot[None]) -> None:
        await settle(pilot)
        board = app.board_screen.board
        assert board is not None
        index = next(i for i, row in enumerate(board.requests) if app.backend.candidates(row.ref))
        await pilot.press(*["j"] * index, "a")
        await until(pilot, lambda: isinstance(app.screen, AssignScreen))
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_assign)


def fixed_preview(engine: Engine, settings: Settings) -> tuple[planner.Built, planner.Report]:
    """The demo day as the optimizer sees it, and a hand-made plan diff over it: one request added, a visit
    moved to another technician, one retimed, one dropped (no solver run)."""
    with Session(engine) as session:
        built = planner.build(session, DAY, ZONE, travel_model(settings, engine).matrix)
    movable = [job for job in built.jobs.values() if job.before is not None and not job.fixed]
    waiting = [job for job in built.jobs.values() if job.before is None]
    moved, retimed, dropped = movable[0], movable[1], movable[2]
    added = waiting[0]
    assert moved.before and retimed.before and dropped.before
    other = next(ref for ref, day in sorted(built.plan.days.items()) if day.shift and ref != moved.before.tech_ref)
    changes = [
        planner.Change(added.ref, ChangeKind.ADD, None, planner.Placement(moved.before.tech_ref, 14 * 60)),
        planner.Change(moved.ref, ChangeKind.MOVE, moved.before, planner.Placement(other, moved.before.start + 30)),
        planner.Change(retimed.ref, ChangeKind.RETIME, retimed.before,
                       planner.Placement(retimed.before.tech_ref, retimed.before.start + 45)),
        planner.Change(dropped.ref, ChangeKind.DROP, dropped.before, None),
    ]  # fmt: skip
    report = planner.Report(
        day=DAY, status=SolveStatus.FEASIBLE, assigned=len(movable), unassigned=len(waiting),
        before=planner.Figures(travel=1234, overtime=0, lateness=15),
        after=planner.Figures(travel=1180, overtime=0, lateness=0), solve_seconds=1.0, changes=changes,
    )  # fmt: skip
    return built, report


def test_optimize_preview(engine: Engine, db_path: Path, snap_compare: SnapCompare) -> None:
    build_fixed_demo(engine, DAY, NOON)
    app = console(db_path)
    preview = fixed_preview(engine, app.settings)

    async def open_preview(pilot: Pilot[None]) -> None:
        await settle(pilot)
        app.push_screen(OptimizeScreen(app.settings, DAY, 1.0, preview=preview))
        await until(pilot, lambda: isinstance(app.screen, OptimizeScreen) and bool(app.screen.rows))
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_preview)


def test_empty_store(engine: Engine, db_path: Path, snap_compare: SnapCompare) -> None:
    assert snap_compare(console(db_path), terminal_size=SIZE, run_before=settle)


def test_store_error(snap_compare: SnapCompare) -> None:
    app = DispatchApp(Settings(db="/dev/null/dispatch.db", timezone=ZONE.key), clock=Clock.at(NOON, frozen=True),
                      day=DAY, poll_interval=60)  # fmt: skip
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 50)], ids=["80x24", "120x40", "200x50"])
def test_board_sizes(engine: Engine, db_path: Path, snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """The board from 80×24 up: readable hours, block labels whole or abbreviated, the essential keys."""
    build_fixed_demo(engine, DAY, NOON)
    assert snap_compare(console(db_path), terminal_size=size, run_before=settle)


async def _find_the_caller(pilot: Pilot[None]) -> None:
    """n, then the name of the first waiting request's customer: the lookup's results and that customer's
    open jobs and last visits."""
    from sqlmodel import col, select

    from dispatch_tui.store.models import Customer, Job
    from dispatch_tui.tui.screens.find_customer import FindCustomerScreen

    app = pilot.app
    assert isinstance(app, DispatchApp)
    await settle(pilot)
    with app.backend.session() as session:
        name = session.exec(
            select(Customer.name).join(Job, col(Job.customer_id) == col(Customer.id))
            .where(Job.status == "new").order_by(col(Job.ref))
        ).first()  # fmt: skip
    assert name is not None
    app.clear_notifications()  # the board's alerts: the dialog is the picture
    await pilot.pause()
    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, FindCustomerScreen))
    finder = app.screen
    assert isinstance(finder, FindCustomerScreen)
    finder.query_one(Input).cursor_blink = False
    await pilot.press(*[{" ": "space"}.get(c, c) for c in name])
    await until(pilot, lambda: finder.shown_for == name)
    await settle(pilot)


def test_new_request_lookup(engine: Engine, db_path: Path, snap_compare: SnapCompare) -> None:
    build_fixed_demo(engine, DAY, NOON)
    assert snap_compare(console(db_path), terminal_size=SIZE, run_before=_find_the_caller)


def test_new_request_form(engine: Engine, db_path: Path, snap_compare: SnapCompare) -> None:
    from dispatch_tui.tui.screens.new_request import NewRequestScreen

    build_fixed_demo(engine, DAY, NOON)
    app = console(db_path)

    async def open_form(pilot: Pilot[None]) -> None:
        await _find_the_caller(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, NewRequestScreen))
        for box in app.screen.query(Input).results(Input):
            box.cursor_blink = False
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_form)


def test_times_to_offer(engine: Engine, db_path: Path, snap_compare: SnapCompare) -> None:
    from dispatch_tui.tui.screens.slots import SlotsScreen

    build_fixed_demo(engine, DAY, NOON)
    app = console(db_path)

    async def open_times(pilot: Pilot[None]) -> None:
        await settle(pilot)
        board = app.board_screen.board
        assert board is not None
        # A request that can be seen on more than one day: the picture shows the days and the best marked.
        index = next(i for i, row in enumerate(board.requests)
                     if len({s.start.date() for s in app.backend.slots(row.ref).slots}) > 1)  # fmt: skip
        app.clear_notifications()  # the board's alerts: the dialog is the picture
        await pilot.pause()
        await pilot.press(*["j"] * index, "b")
        await until(pilot, lambda: isinstance(app.screen, SlotsScreen) and app.screen.offer is not None)
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_times)
