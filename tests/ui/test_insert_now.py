"""Key i on a waiting emergency: who can be there soonest, in words, and Enter makes the whole change —
here the one that sends a P4 visit back to the queue."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from textual.widgets import DataTable

from dispatch_tui.clock import Clock
from dispatch_tui.config import Settings
from dispatch_tui.services.core import Core
from dispatch_tui.store.models import Appointment, Job, Technician
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.screens.insert import InsertScreen
from dispatch_tui.tui.widgets.requests_pane import RequestsPane
from tests.clock import ZONE
from tests.ui.conftest import NOON
from tests.ui.helpers import settle, until


def _emergency_that_displaces(engine: Engine) -> tuple[str, int, str, str]:
    """A P1 request taken at noon for which some technician's option sends a visit back to the queue;
    that visit made P4. Returns (emergency, option number, technician, displaced job)."""
    url = engine.url.render_as_string(hide_password=False)
    core = Core(Settings(db=url, timezone=ZONE.key), Clock.at(NOON, frozen=True), actor="tester")
    try:
        for customer in ("C0020", "C0003", "C0011"):
            for skill in ("electrical", "security", "boiler", "plumbing", "hvac", "appliance"):
                values = {"customer_ref": customer, "skill": skill, "duration_min": "60", "priority": "1"}
                made = core.new_request(values, allow_duplicate=True)
                options = core.insert_options(made.ref)
                for number, option in enumerate(options, start=1):
                    if option.dropped:
                        with Session(engine) as session:
                            session.execute(update(Job).where(col(Job.ref) == option.dropped[0]).values(priority=4))
                            session.commit()
                        assert core.insert_options(made.ref)[number - 1].dropped == option.dropped
                        return made.ref, number, option.technician_ref, option.dropped[0]
                core.set_status(made.ref, "cancelled")  # not this one: out of the queue
    finally:
        core.close()
    raise AssertionError("the demo at noon has no emergency that displaces a visit: the test needs one")


async def test_i_inserts_an_emergency_and_a_p4_visit_goes_back_to_the_queue(
    demo: Engine, make_app: Callable[..., DispatchApp]
) -> None:
    emergency, number, tech_ref, displaced = _emergency_that_displaces(demo)
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        requests = app.board_screen.query_one(RequestsPane)
        for _ in range([row.ref for row in requests.rows].index(emergency)):
            await pilot.press("j")
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, InsertScreen))
        dialog = app.screen
        assert isinstance(dialog, InsertScreen)
        assert str(dialog.query_one(".dialog").border_title) == f"Insert {emergency} now"
        table = dialog.query_one(DataTable)
        row = [str(cell) for cell in table.get_row_at(number - 1)]
        assert row[0].endswith(f"({tech_ref})") and f"{displaced} (P4) goes back to the queue" in row[3]
        for _ in range(number - 1):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, InsertScreen)
    with Session(demo) as session:
        statuses = dict(session.exec(select(Job.ref, Job.status).where(col(Job.ref).in_([emergency, displaced]))).all())
        owner = session.exec(
            select(Technician.ref)
            .join(Appointment, col(Appointment.technician_id) == col(Technician.id))
            .join(Job, col(Appointment.job_id) == col(Job.id))
            .where(Job.ref == emergency)
        ).one()
    assert statuses == {emergency: "scheduled", displaced: "new"}
    assert owner == tech_ref
