"""The one clock: set, frozen or running, read by the CLI's days, the store's stamps, statuses and the console."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui import clock
from dispatch_tui.clock import Clock
from dispatch_tui.config import Settings
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.store.models import Job, JobEvent
from tests.clock import DAY, MONDAY, ZONE, at, naive
from tests.conftest import WEEKDAYS
from tests.unit.importdata import CUSTOMERS, REQUESTS, TECHNICIANS


def dispatch(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--tz", ZONE.key, *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_frozen_clock_stands_still_and_a_set_one_runs_on_from_its_moment() -> None:
    moment = at(DAY, "09:30")
    frozen, running = Clock.at(moment, frozen=True), Clock.at(moment)
    time.sleep(0.05)
    assert frozen.now() == moment
    assert moment + timedelta(seconds=0.04) < running.now() < moment + timedelta(seconds=30)
    assert running.today(ZONE) == DAY
    assert frozen.describe(ZONE) == f"clock set: {DAY:%a %d %b} 09:30 (frozen)"
    assert Clock.real().describe(ZONE) == ""  # the console says nothing when the time is the real one


def test_the_real_clock_is_the_system_time() -> None:
    assert abs(Clock.real().now() - datetime.now(UTC)) < timedelta(seconds=5)
    with pytest.raises(ValueError, match="aware"):
        Clock.at(at(DAY, "09:30").replace(tzinfo=None))  # a naive moment: which zone would it be in?


def test_the_setting_reads_local_time_an_offset_or_a_clock_time_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCH_NOW", naive(DAY, "09:30"))
    monkeypatch.setenv("DISPATCH_NOW_FROZEN", "true")
    settings = Settings(timezone=ZONE.key)
    assert settings.clock.now() == at(DAY, "09:30")  # naive: local time in the configured zone
    assert Settings(timezone="UTC", now=at(DAY, "09:30").isoformat()).clock.now() == at(DAY, "09:30")
    today = Settings(timezone=ZONE.key, now="07:15").clock.now().astimezone(ZONE)
    assert today.time().isoformat() == "07:15:00"  # HH:MM: that time today (the real today: it sets the clock)


@pytest.mark.parametrize(
    ("now", "frozen", "says"),
    [
        ("banana", False, "give an ISO 8601 moment (YYYY-MM-DDTHH:MM, local time, or with an offset) or HH:MM today"),
        (None, True, "now_frozen (--now-frozen, DISPATCH_NOW_FROZEN) holds a set clock: set now too"),
    ],
)
def test_a_bad_clock_setting_is_a_usage_error_that_says_why(
    now: str | None, frozen: bool, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPATCH_NOW")  # the suite's own clock setting
    args = [*(["--now", now] if now else []), *(["--now-frozen"] if frozen else []), "jobs", "list"]
    code, _, err = dispatch("--db", "unused.db", *args)
    assert code == 2 and says in err and "Traceback" not in err


@pytest.mark.clock("2026-03-28T12:00+01:00")  # the day before Paris skips 02:00-03:00
def test_a_moment_that_the_zone_skips_is_refused() -> None:
    code, _, err = dispatch("--now", "2026-03-29T02:30", "jobs", "list")
    assert code == 2 and "does not exist in Europe/Paris (clocks skip it); give an offset" in err


def test_days_typed_as_words_count_from_the_clock(tmp_path: Path, db_path: Path, engine: Engine) -> None:
    """Under the suite's clock (Monday evening) "tomorrow" and "tuesday" are DAY; "monday" is next week's."""
    for word, day in (("today", MONDAY), ("tomorrow", DAY), ("tuesday", DAY), ("Sunday", DAY + timedelta(days=5)),
                      ("monday", MONDAY + timedelta(days=7))):  # fmt: skip
        out = tmp_path / word
        code, _, err = dispatch("demo", "--files", str(out), "--date", word, "--requests", "3", "--technicians", "2")
        assert code == 0, err
        assert f",{day.isoformat()}T" in (out / "requests.csv").read_text(), word
    code, _, err = dispatch("--now", naive(DAY, "10:00"), "demo", "--files", str(tmp_path / "set"), "--date", "today")
    assert code == 0 and f",{DAY.isoformat()}T" in (tmp_path / "set" / "requests.csv").read_text()
    code, _, err = dispatch("--db", str(db_path), "schedule", "--date", "someday")  # a store: the date is at fault
    assert code == 2 and "give YYYY-MM-DD, today, tomorrow, yesterday, or a weekday name" in err


def test_what_the_cli_writes_is_stamped_by_the_set_clock(db_path: Path, engine: Engine) -> None:
    for kind, content in ((ImportKind.TECHNICIANS, TECHNICIANS), (ImportKind.CUSTOMERS, CUSTOMERS)):
        import_data(engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    requests = db_path.parent / "requests.csv"
    requests.write_text(REQUESTS)
    received = at(MONDAY, "16:20")
    assert dispatch("--db", str(db_path), "--now", received.isoformat(), "--now-frozen",
                    "import", "requests", str(requests))[0] == 0  # fmt: skip
    planned = at(MONDAY, "17:05")
    assert dispatch("--db", str(db_path), "--now", planned.isoformat(), "--now-frozen",
                    "assign", "R1", "T1", "--start", naive(DAY, "09:30"))[0] == 0  # fmt: skip
    with Session(engine) as session:
        job = session.exec(select(Job).where(Job.ref == "R1")).one()
        events = session.exec(select(JobEvent).where(JobEvent.job_id == job.id).order_by(col(JobEvent.id))).all()
    assert job.created_at == received and job.updated_at == planned
    assert [(event.to_status, event.at) for event in events] == [("new", received), ("scheduled", planned)]


def test_technicians_statuses_follow_the_clock(db_path: Path, engine: Engine) -> None:
    import_data(engine, ImportKind.TECHNICIANS, TECHNICIANS.encode(), FileFormat.CSV, zone=ZONE,
                working_days=WEEKDAYS)  # fmt: skip
    statuses = {}
    for clock_time in ("06:00", "10:00"):  # Ana works 08:00-17:00, Ben 07:00-15:30
        code, out, _ = dispatch("--db", str(db_path), "--now", naive(DAY, clock_time), "techs", "list", "--json")
        assert code == 0
        statuses[clock_time] = {tech["ref"]: tech["status"] for tech in json.loads(out)}
    assert statuses == {"06:00": {"T1": "off_shift", "T2": "off_shift"}, "10:00": {"T1": "on_shift", "T2": "on_shift"}}


async def test_the_console_opens_on_its_clocks_day_and_says_the_clock_is_set(db_path: Path, engine: Engine) -> None:
    from dispatch_tui.tui.app import DispatchApp
    from dispatch_tui.tui.widgets.schedule_grid import ScheduleGrid
    from tests.ui.helpers import settle

    settings = Settings(db=str(db_path), timezone=ZONE.key, now=naive(DAY, "11:45"), now_frozen=True)
    app = DispatchApp(settings, poll_interval=60)
    assert app.day == DAY and clock.now() == at(DAY, "11:45")  # the console's clock is the process's
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        title = str(app.board_screen.query_one(ScheduleGrid).border_title)
    assert title == f"Schedule {DAY:%a %d %b %Y} · clock set: {DAY:%a %d %b} 11:45 (frozen)"
    real = DispatchApp(Settings(db=str(db_path), timezone=ZONE.key), clock=Clock.real(), day=DAY, poll_interval=60)
    async with real.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert str(real.board_screen.query_one(ScheduleGrid).border_title) == f"Schedule {DAY:%a %d %b %Y}"
