"""The KPI dialog (K) against the figures the service computes on the same store, and the customer's
rating (f) checked in the store: recorded on a finished visit, refused on an unfinished one."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from rich.console import Console
from sqlalchemy import Engine
from sqlmodel import Session, select
from textual.widgets import OptionList, Static

from dispatch_tui.services.reports.kpi import kpis
from dispatch_tui.store.models import Feedback, Job
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.screens.feedback import FeedbackScreen
from dispatch_tui.tui.screens.kpi import KpiScreen
from tests.clock import DAY, ZONE
from tests.conftest import dump
from tests.ui.conftest import NOON
from tests.ui.helpers import settle, until
from tests.ui.test_board_keys import first_block, select_block

AppFactory = Callable[..., DispatchApp]


def shown(app: DispatchApp, selector: str) -> str:
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(app.screen.query_one(selector, Static).content)
    return console.export_text()


def feedback_of(engine: Engine, ref: str) -> tuple[Job, Feedback | None]:
    with Session(engine) as session:
        found = session.exec(select(Job).where(Job.ref == ref)).one()
        return found, session.get(Feedback, found.id)


def typed(text: str) -> list[str]:
    return ["space" if char == " " else char for char in text]


async def test_K_shows_the_kpis_of_the_seven_days_ending_on_the_shown_day(demo: Engine, make_app: AppFactory) -> None:
    first = DAY - timedelta(days=6)
    with Session(demo) as session:
        expected = kpis(session, first, DAY, zone=ZONE, now=NOON)
    overall = expected["overall"]
    assert expected["requests_received"]["total"] > 0 and overall["on_time_pct"] is not None
    assert expected["technicians"], "the demo has technicians with figures"

    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        threads: list[tuple[date, date, bool]] = []
        read = app.backend.kpis

        def spy(first: date, last: date) -> dict[str, Any]:
            threads.append((first, last, threading.current_thread() is threading.main_thread()))
            return read(first, last)

        app.backend.kpis = spy  # type: ignore[method-assign]  # a spy on the thread of the real read
        await pilot.press("K")
        await until(pilot, lambda: isinstance(app.screen, KpiScreen) and app.screen.report is not None)
        screen = app.screen
        assert isinstance(screen, KpiScreen)
        assert threads == [(first, DAY, False)], "read once, for the week, in a worker thread"
        assert screen.report == expected
        assert str(screen.query_one(".dialog").border_title).startswith(f"KPIs {first:%a %d %b}")

        summary = shown(app, "#kpi-summary")
        received = expected["requests_received"]
        assert f"requests received: {received['total']} (" in summary
        for source, count in received["by_source"].items():
            assert f"{source} {count}" in summary
        assert f"on-time arrival: {overall['on_time_pct']} % ({overall['arrivals']} arrivals)" in summary
        assert f"first-time fix: {overall['first_time_fix_pct']} %" in summary
        # Over the week, not the day alone: the day's utilization is several times the week's.
        assert f"utilization: {round(100 * overall['utilization'], 1)} %" in summary
        assert f"SLA breaches: {expected['sla_breaches']['count']}" in summary
        p90 = expected["waiting_minutes"]["to_scheduled"]["p90"]
        assert f"p90 {p90} min" in summary

        table = shown(app, "#kpi-technicians")
        for tech in expected["technicians"]:
            line = next(line for line in table.splitlines() if line.strip().startswith(f"{tech['technician_ref']} "))
            assert line.split()[3] == str(tech["visits_finished"]), line
        trend = shown(app, "#kpi-trend")
        assert f"{DAY:%a %d %b}" in trend and "█" in trend

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.board_screen


async def test_f_records_the_rating_and_comment_of_a_finished_visit(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        ref = first_block(app, "completed")
        before, rated = feedback_of(demo, ref)
        assert rated is None
        await select_block(pilot, ref)
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FeedbackScreen))
        await pilot.press("4")
        # Digits in the comment are text, not a new rating.
        await pilot.press(*typed("fixed in 5 min"), "enter")
        await settle(pilot)
        assert app.screen is app.board_screen
        job, rated = feedback_of(demo, ref)
        assert rated is not None
        assert (rated.rating, rated.comment, rated.actor) == (4, "fixed in 5 min", "tester")
        assert job.version == before.version + 1 and job.status == "completed"
        assert any(f"Rated {ref} 4/5" in n.message for n in app._notifications)

        await pilot.press("f")  # a later rating replaces the earlier one
        await until(pilot, lambda: isinstance(app.screen, FeedbackScreen))
        await pilot.press("2", "enter")
        await settle(pilot)
        _, rerated = feedback_of(demo, ref)
        assert rerated is not None
        assert (rerated.rating, rerated.comment) == (2, "")
        assert any(f"Rated {ref} 2/5 (was 4/5)" in n.message for n in app._notifications)

        stored = dump(demo)
        await pilot.press("f")  # Esc after picking a rating: a finished visit, and still nothing is recorded
        await until(pilot, lambda: isinstance(app.screen, FeedbackScreen))
        await pilot.press("5", "escape")
        await settle(pilot)
        assert app.screen is app.board_screen and dump(demo) == stored


async def test_f_on_a_visit_not_finished_is_refused_and_nothing_is_stored(demo: Engine, make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        ref = first_block(app, "scheduled")
        before, _ = feedback_of(demo, ref)
        await select_block(pilot, ref)
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FeedbackScreen))
        await pilot.press("tab", *typed("great"), "enter")  # Enter before any rating: the dialog stays
        await pilot.pause()
        assert isinstance(app.screen, FeedbackScreen), "no rating picked: nothing to record yet"
        assert isinstance(app.focused, OptionList), "back to the ratings"
        await pilot.press("5")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is app.board_screen  # type: ignore[comparison-overlap]  # mypy keeps the isinstance narrowing above
        job, rated = feedback_of(demo, ref)
        assert rated is None and job.version == before.version and job.status == "scheduled"
        assert any("a visit is rated once it is completed" in n.message for n in app._notifications)
