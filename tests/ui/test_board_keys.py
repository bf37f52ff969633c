"""Every binding of the board, pressed as a dispatcher would, with the store checked afterwards."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import NoReturn

from rich.console import Console
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Static

from dispatch_tui.store.models import Appointment, Job, JobEvent, Technician
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.screens.assign import AssignScreen
from dispatch_tui.tui.screens.help import HelpScreen
from dispatch_tui.tui.screens.step_time import StepTimeScreen
from dispatch_tui.tui.widgets.requests_pane import RequestsPane
from dispatch_tui.tui.widgets.schedule_grid import ScheduleGrid
from dispatch_tui.tui.widgets.status_pane import StatusPane
from dispatch_tui.tui.widgets.technicians_pane import TechniciansPane
from tests.clock import DAY, ZONE
from tests.conftest import dump
from tests.ui.conftest import NOON
from tests.ui.helpers import settle, until

AppFactory = Callable[..., DispatchApp]


def job(engine: Engine, ref: str) -> tuple[Job, Appointment | None]:
    with Session(engine) as session:
        found = session.exec(select(Job).where(Job.ref == ref)).one()
        return found, session.exec(select(Appointment).where(Appointment.job_id == found.id)).first()


def planned(engine: Engine, ref: str) -> Appointment:
    """The job's appointment, which it must have."""
    _, appointment = job(engine, ref)
    assert appointment is not None, f"{ref} has no appointment"
    return appointment


def technician_id(engine: Engine, ref: str) -> int | None:
    with Session(engine) as session:
        return session.exec(select(Technician.id).where(Technician.ref == ref)).one()


def first_block(app: DispatchApp, status: str) -> str:
    board = app.board_screen.board
    assert board is not None
    return next(b.job_ref for row in board.grid.rows for b in row.blocks if b.status == status)


async def select_block(pilot: Pilot[None], ref: str) -> None:
    """Focus the schedule with Tab and walk to the visit with the arrow keys."""
    app = pilot.app
    assert isinstance(app, DispatchApp)
    grid = app.board_screen.query_one(ScheduleGrid)
    while not grid.has_focus:
        await pilot.press("tab")
    assert grid.grid is not None
    row = next(r for r, line in enumerate(grid.grid.rows) if any(b.job_ref == ref for b in line.blocks))
    while grid.row_cursor != row:
        await pilot.press("down" if grid.row_cursor < row else "up")
    refs = [block.job_ref for block in grid.grid.rows[row].blocks]
    for _ in range(2 * len(refs)):  # bounded: a visit the cursor cannot reach fails, never hangs
        if grid.highlighted_ref == ref:
            break
        here = refs.index(grid.highlighted_ref) if grid.highlighted_ref in refs else -1
        await pilot.press("right" if here < refs.index(ref) else "left")
    assert grid.highlighted_ref == ref, f"the cursor never reached {ref}; it is on {grid.highlighted_ref}"
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
        shown = app.board_screen.query_one(ScheduleGrid).grid
        assert shown is not None
        assert any(b.job_ref == ref for row in shown.rows for b in row.blocks)


async def test_a_on_a_completed_visit_is_refused_with_a_reason(demo: Engine, make_app: AppFactory) -> None:
    """Issue 12, point 13: `a` (or `m`) on a finished visit opens no dialog offering a slot: it says why."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        ref = first_block(app, "completed")
        before = dump(demo)
        await select_block(pilot, ref)
        for key in ("a", "m"):
            await pilot.press(key)
            await settle(pilot)
            assert not isinstance(app.screen, AssignScreen)
        messages = [n.message for n in app._notifications]
        assert f"{ref} is completed: there is nothing to assign." in messages
        assert f"{ref} is completed: only a scheduled or dispatched visit moves." in messages
        assert dump(demo) == before


async def test_the_assign_dialog_says_why_nobody_can_take_the_job(demo: Engine, make_app: AppFactory) -> None:
    """Issue 12, point 13: with no candidate the dialog gives the reasons (here: the window has passed) and
    offers no "enter: choose"."""
    with Session(demo) as session:
        waiting = session.exec(select(Job).where(Job.status == "new").order_by(Job.ref)).first()
        assert waiting is not None
        ref = waiting.ref
        waiting.priority = 1  # first in the queue
        waiting.window_start = NOON - timedelta(hours=4)
        waiting.window_end = NOON - timedelta(hours=2)  # 08:00-10:00, and the console's clock reads noon
        session.add(waiting)
        session.commit()
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        requests = app.board_screen.query_one(RequestsPane)
        for _ in range([row.ref for row in requests.rows].index(ref)):
            await pilot.press("j")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AssignScreen))
        dialog = app.screen
        text = str(dialog.query_one("#assign-why", Static).content)
        assert f"No technician can take {ref} then:" in text
        assert f"its window {DAY:%a %d} 08:00-10:00 has passed" in text, text
        assert "its promised window has passed: agree a new one with the customer" in text  # what to do
        hints = [str(hint.content) for hint in dialog.query(".hint").results(Static)]
        assert hints == ["esc: close"]
        await pilot.press("escape")


async def test_escape_closes_the_assign_dialog_and_changes_nothing(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        requests = app.board_screen.query_one(RequestsPane)
        requests.cursor = next(i for i, row in enumerate(requests.rows) if app.backend.candidates(row.ref))
        before = dump(demo)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AssignScreen) and bool(app.screen.candidates))
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
        assert isinstance(app.screen, AssignScreen)
        chosen = app.screen.candidates[0]
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
        assert planned(demo, locked_ref).locked
        await pilot.press("u")  # a locked visit stays: refused, with the reason
        await settle(pilot)
        assert job(demo, locked_ref)[1] is not None
        await pilot.press("l")
        await settle(pilot)
        assert not planned(demo, locked_ref).locked
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
        await until(pilot, lambda: isinstance(app.screen, StepTimeScreen))
        assert app.screen.query_one(Input).value == "12:00"  # done at: now, the console's clock
        await pilot.press("enter")
        await settle(pilot)
        assert job(demo, on_site)[0].status == "completed"
        before = dump(demo)
        await select_block(pilot, on_site)
        await pilot.press("c")  # completed already: refused, nothing changes
        await settle(pilot)
        assert dump(demo) == before
        assert any(f"{on_site} is completed and cannot be completed" in n.message for n in app._notifications)


def dispatched_since(engine: Engine, hours_ago: float) -> str:
    """A scheduled visit planned after the console's noon, made dispatched ``hours_ago`` before noon."""
    with Session(engine) as session:
        found = session.exec(
            select(Job).join(Appointment, col(Appointment.job_id) == Job.id)
            .where(Job.status == "scheduled", Appointment.start > NOON + timedelta(hours=1)).order_by(Job.ref)
        ).first()  # fmt: skip
        assert found is not None and found.id is not None
        found.status = "dispatched"
        found.version += 1
        session.add(found)
        session.add(JobEvent(job_id=found.id, actor="test", at=NOON - timedelta(hours=hours_ago),
                             from_status="scheduled", to_status="dispatched"))  # fmt: skip
        session.commit()
        return found.ref


def steps(engine: Engine, ref: str) -> dict[str, object]:
    with Session(engine) as session:
        found = session.exec(select(Job).where(Job.ref == ref)).one()
        events = session.exec(select(JobEvent).where(JobEvent.job_id == found.id)).all()
        return {event.to_status: event.at.astimezone(ZONE).strftime("%H:%M") for event in events}


async def test_c_asks_when_it_was_done_and_when_the_technician_arrived(demo: Engine, make_app: AppFactory) -> None:
    """Issue 12, point 10: a dispatched job planned for later, reported done now, needs the arrival time,
    which the console now asks for (it refused "give the arrival time" with no way to give one)."""
    ref = dispatched_since(demo, 3)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await select_block(pilot, ref)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, StepTimeScreen))
        done_at, arrived_at = app.screen.query(Input).results(Input)
        assert done_at.value == "12:00"  # now, on the console's clock
        done_at.value = "11:50"
        await pilot.press("enter")  # on to "arrived at"
        assert arrived_at.has_focus and arrived_at.value == ""
        await pilot.press("enter")  # left blank with no plan to fall back on: said in the dialog
        assert "arrived at: give a time" in str(app.screen.query_one("#time-hint", Static).content)
        arrived_at.value = "10:15"
        await pilot.press("enter")
        await settle(pilot)
    found, _ = job(demo, ref)
    assert found.status == "completed"
    assert {k: v for k, v in steps(demo, ref).items() if k in ("on_site", "completed")} == {
        "on_site": "10:15", "completed": "11:50",
    }  # fmt: skip


async def test_s_asks_when_a_step_was_taken(demo: Engine, make_app: AppFactory) -> None:
    """Issue 12, point 10: `s` → en route asks the time (default now), as `dispatch status --at` takes it."""
    ref = dispatched_since(demo, 3)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await select_block(pilot, ref)
        await pilot.press("s")
        await until(pilot, lambda: bool(app.screen.query(OptionList)))
        options = app.screen.query_one(OptionList)
        assert options.get_option_at_index(0).id == "en_route"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, StepTimeScreen))
        field = app.screen.query_one(Input)
        assert field.value == "12:00"
        field.value = "9:7"
        await pilot.press("enter")
        assert "is not a time" in str(app.screen.query_one("#time-hint", Static).content)
        field.value = "11:40"
        await pilot.press("enter")
        await settle(pilot)
    assert job(demo, ref)[0].status == "en_route"
    assert steps(demo, ref)["en_route"] == "11:40"


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


async def test_a_filter_on_an_unknown_skill_says_so(demo: Engine, make_app: AppFactory) -> None:
    """Issue 12, point 14: `skill:foo` names no skill: the pane and a notice say so, not "No waiting requests"."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await until(pilot, lambda: bool(app.screen.query(Input)))
        app.screen.query_one(Input).value = "skill:foo"
        await pilot.press("enter")
        await settle(pilot)
        pane = app.board_screen.query_one(RequestsPane)
        assert pane.rows == []
        shown = pane.render_line(1).text
        assert "unknown skill foo (skills: appliance, boiler" in shown, shown
        assert any(n.message.startswith("unknown skill foo") for n in app._notifications)


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

        def locked(*args: object, **kwargs: object) -> NoReturn:
            raise OperationalError("SELECT", {}, Exception("database is locked"))

        app.backend.candidates = locked  # type: ignore[method-assign]  # a store that fails, in place of the read
        await pilot.press("a")
        await until(pilot, lambda: any("database is locked" in n.message for n in app._notifications))
        await settle(pilot)
        assert app.is_running and app.return_code is None
        assert app.screen is app.board_screen
