"""Every binding of the board, pressed as a dispatcher would, with the store checked afterwards."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

from rich.console import Console
from sqlalchemy import Engine
from sqlmodel import Session, select
from textual.widgets import DataTable, Input, OptionList, Static

from dispatch_tui.store.models import Appointment, Job, JobEvent, Technician
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.screens.assign import AssignScreen
from dispatch_tui.tui.screens.help import HelpScreen
from dispatch_tui.tui.widgets.requests_pane import RequestsPane
from dispatch_tui.tui.widgets.schedule_grid import ScheduleGrid
from dispatch_tui.tui.widgets.status_pane import StatusPane
from dispatch_tui.tui.widgets.technicians_pane import TechniciansPane
from tests.conftest import dump
from tests.ui.helpers import settle, until

from .conftest import DAY

AppFactory = Callable[..., DispatchApp]


def job(engine: Engine, ref: str) -> tuple[Job, Appointment | None]:
    with Session(engine) as session:
        found = session.exec(select(Job).where(Job.ref == ref)).one()
        return found, session.exec(select(Appointment).where(Appointment.job_id == found.id)).first()


def technician_id(engine: Engine, ref: str) -> int | None:
    with Session(engine) as session:
        return session.exec(select(Technician.id).where(Technician.ref == ref)).one()


def first_block(app: DispatchApp, status: str) -> str:
    board = app.board_screen.board
    assert board is not None
    return next(b.job_ref for row in board.grid.rows for b in row.blocks if b.status == status)


async def select_block(pilot, ref: str) -> None:  # type: ignore[no-untyped-def]
    """Focus the schedule with Tab and walk to the visit with the arrow keys."""
    grid = pilot.app.board_screen.query_one(ScheduleGrid)
    while not grid.has_focus:
        await pilot.press("tab")
    assert grid.grid is not None
    row = next(r for r, line in enumerate(grid.grid.rows) if any(b.job_ref == ref for b in line.blocks))
    while grid.row_cursor != row:
        await pilot.press("down" if grid.row_cursor < row else "up")
    while grid.highlighted_ref != ref:
        await pilot.press("right")
    await settle(pilot)


async def test_four_panes_with_titles_and_tab_between_them(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        titles = [
            str(app.board_screen.query_one(kind).border_title)
            for kind in (RequestsPane, TechniciansPane, ScheduleGrid, StatusPane)
        ]
        assert titles[0].startswith("Requests") and titles[1] == "Technicians"
        assert titles[2].startswith(f"Schedule {DAY:%a %d %b %Y}") and titles[3] == "Status"
        requests = app.board_screen.query_one(RequestsPane)
        assert requests.has_focus
        priorities = [row.priority for row in requests.rows]
        assert priorities == sorted(priorities) and len(priorities) > 5
        focused = []
        for _ in range(4):
            await pilot.press("tab")
            focused.append(type(app.focused).__name__)
        assert set(focused) == {"ScheduleGrid", "TechniciansPane", "StatusPane", "RequestsPane"}
        await pilot.press("shift+tab")
        assert type(app.focused).__name__ == focused[-2]


async def test_j_k_move_the_cursor_and_the_status_pane_follows(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        requests = app.board_screen.query_one(RequestsPane)
        second = requests.rows[1].ref
        await pilot.press("j")
        await settle(pilot)
        assert requests.cursor == 1
        assert app.board_screen.selection is not None and app.board_screen.selection.ref == second
        await pilot.press("k")
        assert requests.cursor == 0
        await pilot.press("down")
        assert requests.cursor == 1


async def test_a_then_enter_assigns_the_request_to_the_best_candidate(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        requests = app.board_screen.query_one(RequestsPane)
        index = next(i for i, row in enumerate(requests.rows) if app.backend.candidates(row.ref))
        ref = requests.rows[index].ref
        for _ in range(index):
            await pilot.press("j")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AssignScreen))
        dialog = app.screen
        assert isinstance(dialog, AssignScreen)
        assert str(dialog.query_one(".dialog").border_title) == f"Assign {ref}"
        best = dialog.candidates[0]
        assert dialog.query_one(DataTable).row_count == len(dialog.candidates)
        await pilot.press("enter")
        await settle(pilot)
        found, appointment = job(demo, ref)
        assert found.status == "scheduled" and appointment is not None
        assert appointment.start == best.start
        assert appointment.technician_id == technician_id(demo, best.technician_ref)
        assert ref not in [row.ref for row in app.board_screen.query_one(RequestsPane).rows]
        assert any(b.job_ref == ref for row in app.board_screen.query_one(ScheduleGrid).grid.rows for b in row.blocks)  # type: ignore[union-attr]


async def test_escape_closes_the_assign_dialog_and_changes_nothing(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        requests = app.board_screen.query_one(RequestsPane)
        requests.cursor = next(i for i, row in enumerate(requests.rows) if app.backend.candidates(row.ref))
        before = dump(demo)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AssignScreen) and bool(app.screen.candidates))  # type: ignore[attr-defined]
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.board_screen
        assert dump(demo) == before


async def test_m_moves_a_visit_to_the_chosen_candidate(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        ref = first_block(app, "scheduled")
        await select_block(pilot, ref)
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, AssignScreen))
        assert str(app.screen.query_one(".dialog").border_title) == f"Move {ref}"
        chosen = app.screen.candidates[0]  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        found, appointment = job(demo, ref)
        assert appointment is not None and appointment.start == chosen.start
        with Session(demo) as session:
            notes = [e.note for e in session.exec(select(JobEvent).where(JobEvent.job_id == found.id))]
        assert any(note.startswith("moved from") for note in notes)


async def test_u_unassigns_and_l_locks_then_unlocks(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        locked_ref = first_block(app, "scheduled")
        await select_block(pilot, locked_ref)
        await pilot.press("l")
        await settle(pilot)
        assert job(demo, locked_ref)[1].locked  # type: ignore[union-attr]
        await pilot.press("u")  # a locked visit stays: refused, with the reason
        await settle(pilot)
        assert job(demo, locked_ref)[1] is not None
        await pilot.press("l")
        await settle(pilot)
        assert not job(demo, locked_ref)[1].locked  # type: ignore[union-attr]
        freed_ref = locked_ref
        await pilot.press("u")
        await settle(pilot)
        found, appointment = job(demo, freed_ref)
        assert appointment is None and found.status == "new"
        assert freed_ref in [row.ref for row in app.board_screen.query_one(RequestsPane).rows]


async def test_s_sets_the_next_status_and_c_completes(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        ref = first_block(app, "scheduled")
        await select_block(pilot, ref)
        await pilot.press("s")
        await until(pilot, lambda: bool(app.screen.query(OptionList)))
        options = app.screen.query_one(OptionList)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == [
            "dispatched", "on_hold", "cancelled",
        ]  # fmt: skip
        await pilot.press("enter")
        await settle(pilot)
        assert job(demo, ref)[0].status == "dispatched"
        on_site = first_block(app, "on_site")
        await select_block(pilot, on_site)
        await pilot.press("c")
        await settle(pilot)
        assert job(demo, on_site)[0].status == "completed"
        before = dump(demo)
        await select_block(pilot, on_site)
        await pilot.press("c")  # completed already: refused, nothing changes
        await settle(pilot)
        assert dump(demo) == before
        assert any(f"{on_site} is completed and cannot be completed" in n.message for n in app._notifications)


async def test_slash_filters_the_requests(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        everything = len(app.board_screen.query_one(RequestsPane).rows)
        await pilot.press("slash")
        await until(pilot, lambda: bool(app.screen.query(Input)))
        app.screen.query_one(Input).value = "skill:boiler"
        await pilot.press("enter")
        await settle(pilot)
        rows = app.board_screen.query_one(RequestsPane).rows
        assert rows and {row.skill for row in rows} == {"boiler"} and len(rows) < everything
        assert "skill:boiler" in str(app.board_screen.query_one(RequestsPane).border_title)


async def test_g_goes_to_a_date_and_brackets_step_days(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        grid = app.board_screen.query_one(ScheduleGrid)
        await pilot.press("g")
        await until(pilot, lambda: bool(app.screen.query(Input)))
        app.screen.query_one(Input).value = (DAY + timedelta(days=2)).isoformat()
        await pilot.press("enter")
        await settle(pilot)
        assert grid.grid is not None and grid.grid.day == DAY + timedelta(days=2)
        assert f"{DAY + timedelta(days=2):%a %d %b}" in str(grid.border_title)
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert grid.grid.day == DAY
        assert any(row.blocks for row in grid.grid.rows)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert grid.grid.day == DAY + timedelta(days=1)


async def test_question_mark_lists_every_binding_and_q_quits(demo: Engine, make_app: AppFactory) -> None:
    from dispatch_tui.tui.keys import APP_ACTIONS, BOARD_ACTIONS

    app = make_app(keymap={"assign": "x"})
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        console = Console(width=120, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#help-table", Static).content)
        text = console.export_text()
        for action in (*BOARD_ACTIONS, *APP_ACTIONS):
            assert action.id in text
        assign_line = next(line for line in text.splitlines() if line.rstrip().endswith(" assign"))
        assert assign_line.split()[0] == "x", "the keymap's key is shown, not the default"
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await until(pilot, lambda: app.return_code is not None)
        assert app.return_code == 0


async def test_keymap_from_the_settings_rebinds_a_key(demo: Engine, make_app: AppFactory) -> None:
    app = make_app(keymap={"assign": "x"})
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert not isinstance(app.screen, AssignScreen)
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, AssignScreen))


async def test_the_command_palette_lists_every_action(demo: Engine, make_app: AppFactory) -> None:
    from textual.command import CommandPalette

    from dispatch_tui.tui.commands import DispatchCommands
    from dispatch_tui.tui.keys import APP_ACTIONS, BOARD_ACTIONS

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        provider = DispatchCommands(app.screen, None)
        hits = [hit async for hit in provider.discover()]
        assert sorted(str(hit.help) for hit in hits) == sorted(a.id for a in (*BOARD_ACTIONS, *APP_ACTIONS))
        found = [hit async for hit in provider.search("optimize")]
        assert "optimize" in {hit.help for hit in found} and "quit" not in {hit.help for hit in found}
        await pilot.press("escape")


async def test_a_store_error_while_reading_candidates_is_a_notice_not_the_end_of_the_console(
    demo: Engine, make_app: AppFactory
) -> None:
    from sqlalchemy.exc import OperationalError

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)

        def locked(*args: object, **kwargs: object) -> object:
            raise OperationalError("SELECT", {}, Exception("database is locked"))

        app.backend.candidates = locked  # type: ignore[method-assign]
        await pilot.press("a")
        await until(pilot, lambda: any("database is locked" in n.message for n in app._notifications))
        await settle(pilot)
        assert app.is_running and app.return_code is None
        assert app.screen is app.board_screen
