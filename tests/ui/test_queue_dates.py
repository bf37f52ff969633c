"""The queue's window column says the date when the window is not on the board's day, and a past due
request reads "22h49 overdue", not "due in -22h49" (issue 12, point 12)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine
from sqlmodel import Session, select

from dispatch_tui.store.models import Job
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.widgets.requests_pane import RequestsPane
from dispatch_tui.tui.wording import due_label, window_label
from tests.clock import DAY, MONDAY, ZONE, at
from tests.ui.helpers import settle


def test_window_and_due_wording() -> None:
    assert window_label(at(DAY, "08:30"), at(DAY, "10:30"), DAY, ZONE) == "08:30-10:30"
    assert window_label(at(MONDAY, "08:30"), at(MONDAY, "10:30"), DAY, ZONE) == f"{MONDAY:%a %d} 08:30-10:30"
    assert window_label(at(MONDAY, "08:30"), at(DAY, "10:30"), DAY, ZONE) == f"{MONDAY:%a %d} 08:30-{DAY:%a %d} 10:30"
    assert due_label(-(22 * 60 + 49)) == "22h49 overdue"
    assert due_label(90) == "in 1h30"


async def test_yesterdays_request_shows_its_date_and_how_overdue(
    demo: Engine, make_app: Callable[..., DispatchApp]
) -> None:
    with Session(demo) as session:
        job = session.exec(select(Job).where(Job.status == "new").order_by(Job.ref)).first()
        assert job is not None
        ref = job.ref
        job.window_start, job.window_end = at(MONDAY, "08:30"), at(MONDAY, "10:30")
        job.due_by = None
        session.add(job)
        session.commit()
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        pane = app.board_screen.query_one(RequestsPane)
        lines = {row.ref: pane.render_row(row, 200).plain for row in pane.rows}
        # Noon of DAY, due at 10:30 the day before: 25h30 ago.
        assert f"{MONDAY:%a %d} 08:30-10:30" in lines[ref], lines[ref]
        assert "1d1h overdue" in lines[ref] and "-" not in lines[ref].split("10:30")[1], lines[ref]
        others = [line for r, line in lines.items() if r != ref]
        assert all(f"{DAY:%a %d}" not in line for line in others)  # the board's own day goes without its date
        assert pane.header().plain.split()[-2:] == ["wait", "due"]
