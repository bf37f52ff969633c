"""The optimizer preview's other answers: accept one technician's new day, or reject the plan."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.pilot import Pilot

from dispatch_tui.services.planning.plan_preview import linked_technicians
from dispatch_tui.store.models import Appointment, Job, Technician
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.screens.optimize import OptimizeScreen
from tests.conftest import dump
from tests.ui.helpers import settle, until

AppFactory = Callable[..., DispatchApp]


def plan(engine: Engine) -> dict[str, tuple[str, object]]:
    """job ref → (technician ref, start) of every appointment."""
    with Session(engine) as session:
        rows = session.exec(
            select(Job.ref, Technician.ref, Appointment.start)
            .join(Appointment, col(Appointment.job_id) == Job.id)
            .join(Technician, col(Technician.id) == Appointment.technician_id)
        ).all()
    return {job: (tech, start) for job, tech, start in rows}


async def preview(app: DispatchApp, pilot: Pilot[None]) -> OptimizeScreen:
    await settle(pilot)
    await pilot.press("o")
    await until(pilot, lambda: isinstance(app.screen, OptimizeScreen))
    dialog = app.screen
    assert isinstance(dialog, OptimizeScreen)
    await until(pilot, lambda: dialog.report is not None, timeout=30)
    assert dialog.rows, "the demo's greedy plan leaves the optimizer something to change"
    return dialog


async def test_t_accepts_only_the_highlighted_technicians_day(demo: Engine, make_app: AppFactory) -> None:
    before = plan(demo)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        dialog = await preview(app, pilot)
        assert dialog.report is not None
        chosen = dialog.rows[0].before or dialog.rows[0].after
        assert chosen is not None
        linked = linked_technicians(dialog.report, chosen.tech_ref)
        others = {p.tech_ref for c in dialog.report.changes for p in (c.before, c.after) if p} - linked
        assert others, "the demo's preview changes more than one technician's day: else t would be a"
        await pilot.press("t")
        await until(pilot, lambda: not isinstance(app.screen, OptimizeScreen), timeout=30)
        await settle(pilot)
    after = plan(demo)
    touched = {job for job in before.keys() | after.keys() if before.get(job) != after.get(job)}
    assert touched, "the accepted technician's changes were applied"
    for job in touched:
        techs = {place[0] for place in (before.get(job), after.get(job)) if place is not None}
        assert techs <= linked, f"{job} changed on {techs}, outside the accepted {linked}"


async def test_r_rejects_the_plan_and_nothing_changes(demo: Engine, make_app: AppFactory) -> None:
    before = dump(demo)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await preview(app, pilot)
        await pilot.press("r")
        await until(pilot, lambda: not isinstance(app.screen, OptimizeScreen))
        await settle(pilot)
        assert any("rejected" in n.message for n in app._notifications)
    assert dump(demo) == before


async def test_j_and_k_move_through_the_changes_and_t_takes_the_highlighted_one(
    demo: Engine, make_app: AppFactory
) -> None:
    """Issue 12, point 13: j/k move the preview's cursor (they did nothing, so t took the first row)."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        dialog = await preview(app, pilot)
        from textual.widgets import DataTable

        table = dialog.query_one(DataTable)
        assert len(dialog.rows) >= 3
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        for _ in range(len(dialog.rows) + 2):
            await pilot.press("j")
        assert table.cursor_row == len(dialog.rows) - 1  # stays on the last change
        await pilot.press("escape")
