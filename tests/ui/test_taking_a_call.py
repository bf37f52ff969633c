"""Taking a call with keys only: n finds (or enters) the customer, takes the request, offers the times and
books one; the duplicate guard stops a second request for an open job and r records the call on it; b on a
waiting request books a window; a window taken meanwhile is said and the times are offered again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from textual.pilot import Pilot
from textual.widgets import DataTable, OptionList, Static

from dispatch_tui.domain import JobStatus
from dispatch_tui.store.models import Absence, Appointment, Customer, Job, JobEvent, Skill, Technician
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.screens.duplicate import DuplicateScreen
from dispatch_tui.tui.screens.find_customer import FindCustomerScreen
from dispatch_tui.tui.screens.new_customer import NewCustomerScreen
from dispatch_tui.tui.screens.new_request import NewRequestScreen
from dispatch_tui.tui.screens.slots import SlotsScreen
from dispatch_tui.tui.widgets.requests_pane import RequestsPane
from tests.clock import ZONE
from tests.ui.helpers import settle, until

AppFactory = Callable[..., DispatchApp]


async def _type(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*[{" ": "space"}.get(c, c) for c in text])


async def _offered(pilot: Pilot[None]) -> SlotsScreen:
    """The times dialog, once its times are read."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, SlotsScreen) and app.screen.offer is not None, timeout=10)
    assert isinstance(app.screen, SlotsScreen)
    return app.screen


async def _choose_skill(pilot: Pilot[None], skill: str) -> None:
    """The skill list has the focus: open it, type to jump to the skill, take it."""
    await pilot.press("enter")
    await _type(pilot, skill)
    await pilot.press("enter")
    await pilot.pause()


def _visit(engine: Engine, ref: str) -> tuple[Job, str | None]:
    with Session(engine) as session:
        job = session.exec(select(Job).where(Job.ref == ref)).one()
        tech = session.exec(
            select(Technician.ref)
            .join(Appointment, col(Appointment.technician_id) == col(Technician.id))
            .where(Appointment.job_id == job.id)
        ).first()
        return job, tech


async def test_a_new_customer_a_request_a_time_and_a_booking(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    with Session(demo) as session:
        jobs_before = session.scalar(select(func.count()).select_from(Job)) or 0
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FindCustomerScreen))
        await _type(pilot, "Ottoline Quarrington")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: isinstance(app.screen, NewCustomerScreen))
        # The name came from the lookup; the focus is on the first empty field, the phone.
        await _type(pilot, "06 12 34 56 78")
        await pilot.press("enter", "enter")  # past the e-mail
        await _type(pilot, "2 Place Bellecour, Lyon")
        await pilot.press("enter", "enter", "enter")  # no position: refused, in the dialog
        problems = app.screen.query_one("#customer-problems", Static)
        await until(pilot, lambda: "DISPATCH_GEOCODER_URL" in str(problems.content))
        assert isinstance(app.screen, NewCustomerScreen)
        await pilot.press("shift+tab")  # back to lat
        await _type(pilot, "45.7578")
        await pilot.press("enter")
        await _type(pilot, "4.8320")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, NewRequestScreen))
        form = app.screen
        assert isinstance(form, NewRequestScreen)
        assert form.caller.name == "Ottoline Quarrington" and form.caller.phone == "+33 6 12 34 56 78"
        await _choose_skill(pilot, "electrical")
        await pilot.press("tab")
        await _type(pilot, "60")
        await pilot.press("tab", "tab")  # past the priority (3, normal)
        await _type(pilot, "no power in the kitchen")
        await pilot.press("ctrl+s")
        slots = await _offered(pilot)
        offer = slots.offer
        assert offer is not None and offer.slots, offer
        ref = offer.job_ref
        first = offer.slots[0]
        table = slots.query_one(DataTable)
        assert table.row_count == len(offer.slots)
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, SlotsScreen)
        requests = app.board_screen.query_one(RequestsPane)
        assert ref not in {row.ref for row in requests.rows}, "booked: no longer waiting"
    job, tech = _visit(demo, ref)
    with Session(demo) as session:
        customer = session.exec(select(Customer).where(Customer.id == job.customer_id)).one()
        skill = session.exec(select(Skill.name).where(Skill.id == job.skill_id)).one()
        notes = session.exec(select(JobEvent.note).where(JobEvent.job_id == job.id).order_by(col(JobEvent.id))).all()
        assert (session.scalar(select(func.count()).select_from(Job)) or 0) == jobs_before + 1
    assert (customer.name, customer.phone) == ("Ottoline Quarrington", "+33 6 12 34 56 78")
    assert (skill, job.duration_min, job.priority, job.description) == ("electrical", 60, 3, "no power in the kitchen")
    assert job.status == JobStatus.SCHEDULED
    assert (job.window_start, job.window_end) == (first.start, first.end)
    assert tech is not None
    assert any(note.startswith("promised ") for note in notes)


def _open_job_and_its_customer(engine: Engine) -> tuple[str, str, str]:
    """A waiting request of the demo: (its ref, its customer's name, its skill)."""
    with Session(engine) as session:
        ref, name, skill = session.exec(
            select(Job.ref, Customer.name, Skill.name)
            .join(Customer, col(Customer.id) == col(Job.customer_id))
            .join(Skill, col(Skill.id) == col(Job.skill_id))
            .where(Job.status == JobStatus.NEW)
            .order_by(col(Job.ref))
        ).first() or ("", "", "")
    assert ref, "the demo has waiting requests"
    return ref, name, skill


async def test_the_duplicate_guard_and_r_records_the_call_on_the_open_job(demo: Engine, make_app: AppFactory) -> None:
    open_ref, name, skill = _open_job_and_its_customer(demo)
    with Session(demo) as session:
        jobs_before = session.scalar(select(func.count()).select_from(Job)) or 0
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FindCustomerScreen))
        finder = app.screen
        assert isinstance(finder, FindCustomerScreen)
        await _type(pilot, name)
        await until(pilot, lambda: finder.shown_for == name and bool(finder.hits))
        assert finder.hits[0].name == name
        assert open_ref in str(finder.query_one("#customer-detail", Static).content), "its open jobs are shown"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, NewRequestScreen))
        await _choose_skill(pilot, skill)
        await pilot.press("tab", "tab", "tab")  # past the duration (the skill's usual) and the priority
        await _type(pilot, "called again")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, DuplicateScreen))
        guard = app.screen.query_one(DataTable)
        row = [str(cell) for cell in guard.get_row_at(0)]
        assert row[0] == open_ref and row[3] == "same customer and skill"
        await pilot.press("r")
        await settle(pilot)
        assert app.screen is app.board_screen, "the call is recorded: back to the board"
    with Session(demo) as session:
        job = session.exec(select(Job).where(Job.ref == open_ref)).one()
        notes = session.exec(select(JobEvent.note, JobEvent.actor).where(JobEvent.job_id == job.id)).all()
        assert (session.scalar(select(func.count()).select_from(Job)) or 0) == jobs_before, "no second request"
    assert ("call: called again", "tester") in notes


def _waiting_rows(app: DispatchApp) -> list[str]:
    return [row.ref for row in app.board_screen.query_one(RequestsPane).rows]


async def _open_slots(pilot: Pilot[None], part: str | None = None) -> SlotsScreen:
    """b on the queue's first request that has times to offer (in the ``part`` of the day, if given)."""
    app = pilot.app
    assert isinstance(app, DispatchApp)
    rows = _waiting_rows(app)
    index = next((i for i, ref in enumerate(rows) if app.backend.slots(ref, part=part).slots), None)
    assert index is not None, f"no waiting request of the demo has times to offer ({part or 'any time'})"
    await pilot.press(*["j"] * index, "b")
    slots = await _offered(pilot)
    assert slots.job_ref == rows[index]
    return slots


async def test_b_on_a_waiting_request_books_a_morning_window(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        slots = await _open_slots(pilot, part="morning")
        ref = slots.job_ref
        await pilot.press("m")
        await until(pilot, lambda: slots.offer is not None and slots.offer.wishes.part == "morning", timeout=10)
        assert slots.offer is not None
        mornings = slots.offer.slots
        assert mornings and all(s.end.astimezone(ZONE).hour * 60 + s.end.astimezone(ZONE).minute <= 12 * 60
                                for s in mornings)  # fmt: skip
        assert "mornings" in str(slots.query_one("#slots-wishes", Static).content)
        await pilot.press("down")
        chosen = mornings[1] if len(mornings) > 1 else mornings[0]
        await pilot.press("enter")
        await settle(pilot)
        assert ref not in _waiting_rows(app)
    job, tech = _visit(demo, ref)
    assert job.status == JobStatus.SCHEDULED and tech is not None
    assert (job.window_start, job.window_end) == (chosen.start, chosen.end)


async def test_wishes_narrow_the_times_and_o_promises_without_placing(demo: Engine, make_app: AppFactory) -> None:
    """d takes the first day offered, n 14:00 windows from 14:00 on, x drops every wish; o promises the
    highlighted window and leaves the visit to the optimizer."""
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        slots = await _open_slots(pilot, part="afternoon")
        ref = slots.job_ref
        assert slots.offer is not None
        every = slots.offer.slots
        first_day = slots.days[0]
        await pilot.press("d")
        await until(pilot, lambda: slots.offer is not None and slots.offer.wishes.day == first_day, timeout=10)
        assert slots.offer is not None
        assert {s.start.astimezone(ZONE).date() for s in slots.offer.slots} <= {first_day}
        await pilot.press("x", "n")
        await until(pilot, lambda: slots.offer is not None and not slots.offer.wishes.any, timeout=10)
        await _type(pilot, "14:00")
        await pilot.press("enter")
        await until(pilot, lambda: slots.offer is not None and slots.offer.wishes.not_before is not None, timeout=10)
        assert slots.offer is not None
        later = slots.offer.slots
        assert later and all((s.start.astimezone(ZONE).hour, s.start.astimezone(ZONE).minute) >= (14, 0) for s in later)
        assert len(later) < len(every)
        assert "not before 14:00" in str(slots.query_one("#slots-wishes", Static).content)
        chosen = later[0]
        await pilot.press("o")
        await settle(pilot)
        assert not isinstance(app.screen, SlotsScreen)
    job, tech = _visit(demo, ref)
    assert job.status == JobStatus.NEW and tech is None, "promised only: the optimizer places it"
    assert (job.window_start, job.window_end) == (chosen.start, chosen.end)


async def test_a_window_taken_meanwhile_is_said_and_fresh_times_are_offered(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        slots = await _open_slots(pilot)
        assert slots.offer is not None
        ref, first = slots.job_ref, slots.offer.slots[0]
        # Meanwhile every technician is taken off that window's day (as if others had booked it full).
        with Session(demo) as session:
            day_start = first.start.astimezone(ZONE).replace(hour=0, minute=0)
            for tech_id in session.exec(select(Technician.id)).all():
                assert tech_id is not None
                session.add(Absence(technician_id=tech_id, start=day_start, end=day_start + timedelta(days=1),
                                    reason="test: booked full"))  # fmt: skip
            session.commit()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, SlotsScreen) and app.screen is not slots, timeout=10)
        fresh = await _offered(pilot)
        assert "just taken" in str(fresh.query_one("#slots-notice", Static).content)
        assert fresh.offer is not None
        assert first.start not in {s.start for s in fresh.offer.slots}, "the day booked full is no longer offered"
        await pilot.press("escape")
        await settle(pilot)
    job, tech = _visit(demo, ref)
    assert job.status == JobStatus.NEW and tech is None, "nothing was written"


async def test_escape_from_the_form_goes_back_to_the_lookup_as_typed(demo: Engine, make_app: AppFactory) -> None:
    _, name, _ = _open_job_and_its_customer(demo)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, FindCustomerScreen))
        await _type(pilot, name)
        await pilot.press("enter")  # before the lookup has answered: it picks the first result when it comes
        await until(pilot, lambda: isinstance(app.screen, NewRequestScreen))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, FindCustomerScreen))
        finder = app.screen
        assert isinstance(finder, FindCustomerScreen)
        await until(pilot, lambda: finder.shown_for == name)
        options = finder.query_one(OptionList)
        assert options.option_count == len(finder.hits) + 1, "the results and + New customer"
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.board_screen


async def test_the_customer_index_is_built_after_the_first_frame_not_on_the_first_call(
    demo: Engine, make_app: AppFactory
) -> None:
    from dispatch_tui.services.intake import customers

    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert app.backend.engine in customers._directories  # warm before anyone presses n
