"""`dispatch optimize`: plans that pass the independent checker, locks honoured, one run at a time,
and a crash during --apply leaves the previous plan as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.config import Settings
from dispatch_tui.services.intake.demo import build_demo
from dispatch_tui.services.intake.demo_data import DemoSpec
from dispatch_tui.store import make_engine, upgrade
from tests.checker import check_store
from tests.clock import DAY, MONDAY, at, naive
from tests.conftest import dump
from tests.demofiles import demo_files

ZONE = ZoneInfo("Europe/Paris")
BEFORE_THE_DAY = at(MONDAY, "18:00")  # everything planned is still only scheduled
WEDNESDAY = DAY + timedelta(days=1)


@pytest.fixture
def demo_db(db_path: Path, engine: Engine) -> Path:
    build_demo(engine, DemoSpec(day=DAY, technicians=6, requests=30), ZONE, now=BEFORE_THE_DAY)
    return db_path


def optimize(db: Path, *args: str) -> tuple[int, dict[str, Any] | None, str]:
    result = CliRunner().invoke(
        app, ["--db", str(db), "--tz", "Europe/Paris", "optimize", "--date", DAY.isoformat(), "--time-limit", "1",
              "--json", *args],
    )  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout) if result.exit_code == 0 else None, result.stderr


def plan(engine: Engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as c:
        rows = c.execute(text(
            'SELECT j.ref, t.ref, a.start FROM appointment a JOIN job j ON j.id = a.job_id '
            "JOIN technician t ON t.id = a.technician_id"))  # fmt: skip
        return {ref: (tech, str(start)) for ref, tech, start in rows}


def test_a_dry_run_reports_and_writes_nothing(demo_db: Path, engine: Engine) -> None:
    before = dump(engine)
    code, report, _ = optimize(demo_db)
    assert code == 0 and report is not None
    assert set(report) >= {"assigned", "unassigned", "travel_minutes", "overtime_minutes", "moved", "solve_seconds",
                           "status"}  # fmt: skip
    assert report["status"] in ("feasible", "optimal") and report["applied"] is False
    assert dump(engine) == before


def test_an_applied_plan_passes_the_independent_checker_and_serves_more(demo_db: Path, engine: Engine) -> None:
    served_before = len(plan(engine))
    code, report, _ = optimize(demo_db, "--apply")
    assert code == 0 and report is not None
    assert check_store(engine, DAY, ZONE) == []
    after = plan(engine)
    assert len(after) == report["assigned"] >= served_before
    with engine.connect() as c:
        origins = {row[0] for row in c.execute(text("SELECT DISTINCT actor FROM jobevent"))}
    assert "optimizer" in origins


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, 100), min_size=1, max_size=5))
def test_locked_jobs_never_move(tmp_path_factory: pytest.TempPathFactory, picks: list[int]) -> None:
    db = tmp_path_factory.mktemp("locks") / "d.db"
    engine = make_engine(db)
    upgrade(engine)
    build_demo(engine, DemoSpec(day=DAY, technicians=5, requests=25), ZONE, now=BEFORE_THE_DAY)
    placed = sorted(plan(engine))
    locked = {placed[i % len(placed)] for i in picks}
    for ref in locked:
        assert CliRunner().invoke(app, ["--db", str(db), "lock", ref]).exit_code == 0
    before = plan(engine)
    code, _, err = optimize(db, "--apply")
    assert code == 0, err
    after = plan(engine)
    assert {ref: after.get(ref) for ref in locked} == {ref: before[ref] for ref in locked}
    assert check_store(engine, DAY, ZONE) == []


def test_a_second_run_while_one_holds_the_lock_exits_75(demo_db: Path) -> None:
    from dispatch_tui.services.planning.run_lock import exclusive

    with exclusive(f"sqlite:///{demo_db}"):  # another run, mid-solve
        command = [sys.executable, "-m", "cli", "--db", str(demo_db), "optimize", "--date", DAY.isoformat()]
        env = {**os.environ, "DISPATCH_TIMEZONE": "Europe/Paris"}
        done = subprocess.run([*command, "--time-limit", "1"], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 75, done.stderr
    assert "another optimize run holds" in done.stderr
    code, _, _ = optimize(demo_db)  # and once it is released, a run goes ahead
    assert code == 0


CRASH = """
import os, signal, sys
from datetime import date, datetime
from zoneinfo import ZoneInfo
from sqlmodel import Session
from dispatch_tui import clock
from dispatch_tui.services.planning import optimize as planner
from dispatch_tui.services.travel import point_travel, travel_model
from dispatch_tui.config import Settings
from dispatch_tui.store import make_engine
clock.use(clock.Clock.at(datetime.fromisoformat(os.environ["DISPATCH_NOW"]), frozen=True))  # the suite's clock
zone = ZoneInfo("Europe/Paris")
settings = Settings(db=sys.argv[1], timezone="Europe/Paris")
engine = make_engine(sys.argv[1])
with Session(engine) as session:
    day = date.fromisoformat(sys.argv[2])
    built = planner.build(session, day, zone, travel_model(settings, engine).matrix)
    report = planner.diff(built, planner.solve(built, time_limit_s=1), day)
    assert report.changes, "nothing to apply: the crash would prove nothing"
    planner.apply(session, built, report, zone, point_travel(settings, engine))
    session.flush()  # every change is written to the database file's journal...
    os.kill(os.getpid(), signal.SIGKILL)  # ...and the process dies before COMMIT
"""


def test_a_crash_during_apply_leaves_the_previous_plan_intact(demo_db: Path, engine: Engine) -> None:
    before = dump(engine)
    engine.dispose()
    done = subprocess.run(
        [sys.executable, "-c", CRASH, str(demo_db), DAY.isoformat()], capture_output=True, text=True, check=False
    )
    assert done.returncode == -9, done.stderr[-800:]
    assert dump(make_engine(demo_db)) == before


def test_a_day_nobody_works_is_an_empty_plan_not_a_failure(tmp_path: Path) -> None:
    # Imported technicians work Monday to Friday (the default working week); DAY + 5 is a Sunday.
    db = str(tmp_path / "weekdays.db")
    files = demo_files(tmp_path / "files", day=DAY)
    for kind in ("technicians", "customers", "requests"):
        assert CliRunner().invoke(app, ["--db", db, "import", kind, str(files / f"{kind}.csv")]).exit_code == 0
    sunday = DAY + timedelta(days=5)
    result = CliRunner().invoke(app, ["--db", db, "optimize", "--date", sunday.isoformat(), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["assigned"] == 0


@pytest.mark.parametrize("limit", [0, 2])
def test_max_moves_bounds_how_many_planned_jobs_leave_their_technician(
    demo_db: Path, engine: Engine, limit: int
) -> None:
    before = plan(engine)
    unbounded = optimize(demo_db)[1]
    assert unbounded is not None and unbounded["moved"] + unbounded["dropped"] > limit, "the test needs moves"
    code, report, err = optimize(demo_db, "--apply", "--max-moves", str(limit))
    assert code == 0, err
    after = plan(engine)
    left = [ref for ref, (tech, _) in before.items() if after.get(ref, (None,))[0] != tech]
    assert len(left) <= limit
    assert report is not None and report["moved"] + report["dropped"] == len(left)
    assert check_store(engine, DAY, ZONE) == []


def test_several_days_in_one_run(demo_db: Path, tmp_path: Path, engine: Engine) -> None:
    second = tmp_path / "wednesday.csv"
    second.write_text(
        "ref,customer_ref,skill,duration_min,priority,window_start,window_end,description,source\n"
        f"W1,C0001,electrical,60,2,{naive(WEDNESDAY, '09:00')},{naive(WEDNESDAY, '12:00')},Sockets dead,phone\n"
        f"W2,C0002,plumbing,45,3,{naive(WEDNESDAY, '13:00')},{naive(WEDNESDAY, '16:00')},Leak,web\n"
    )
    assert CliRunner().invoke(app, ["--db", str(demo_db), "import", "requests", str(second)]).exit_code == 0
    code, report, err = optimize(demo_db, "--days", "2", "--apply")
    assert code == 0 and report is not None, err
    days = report["days"]
    assert [d["date"] for d in days] == [DAY.isoformat(), WEDNESDAY.isoformat()]
    assert report["assigned"] == sum(d["assigned"] for d in days)
    with engine.connect() as c:
        planned = {r[0] for r in c.execute(text("SELECT j.ref FROM appointment a JOIN job j ON j.id = a.job_id"))}
    assert {"W1", "W2"} <= planned


def test_overtime_within_its_cap_serves_more_of_an_over_full_day(tmp_path: Path) -> None:
    db = tmp_path / "full.db"
    engine = make_engine(db)
    upgrade(engine)
    build_demo(engine, DemoSpec(day=DAY, technicians=3, requests=40), ZONE, now=BEFORE_THE_DAY)
    code, strict, err = optimize(db)
    assert code == 0 and strict is not None, err
    assert strict["unassigned"] > 0 and strict["overtime_minutes"] == 0, "the day must be over-full"
    code, stretched, err = optimize(db, "--overtime", "90")
    assert code == 0 and stretched is not None, err
    assert stretched["assigned"] > strict["assigned"]
    assert 0 < stretched["overtime_minutes"] <= 3 * 90
    assert {"overtime_minutes_before", "lateness_minutes", "lateness_minutes_before"} <= set(stretched)


def test_on_the_day_itself_the_past_stays_as_it_was_and_nothing_new_starts_before_now(
    demo_db: Path, engine: Engine
) -> None:
    from sqlmodel import Session

    from dispatch_tui.services.planning import optimize as planner
    from dispatch_tui.services.travel import travel_model

    settings = Settings(db=str(demo_db), timezone="Europe/Paris")
    noon = at(DAY, "12:00")
    with Session(engine) as session:
        built = planner.build(session, DAY, ZONE, travel_model(settings, engine).matrix, now=noon)
        report = planner.diff(built, planner.solve(built, time_limit_s=1), DAY)
    cutoff = built.plan.frame.minute(noon)
    assert [c for c in report.changes if c.before and c.before.start < cutoff] == []
    assert [c for c in report.changes if c.after and c.after.start < cutoff] == []
    assert any(job.before and job.before.start < cutoff for job in built.jobs.values()), "the test needs a morning plan"
    assert report.changes, "and something to re-plan in the afternoon"


def test_a_forced_visit_on_a_day_off_whose_window_has_passed_is_left_out_not_a_crash(
    demo_db: Path, engine: Engine
) -> None:
    """A dispatcher forced a visit onto a technician's day off, after its window: on the day itself, past
    its window, it is the dispatcher's to sort out; the optimizer plans the rest without it."""
    from sqlmodel import Session, col, select

    from dispatch_tui.services.planning import optimize as planner
    from dispatch_tui.services.travel import travel_model
    from dispatch_tui.store.models import Appointment, Job, ShiftPattern

    noon = at(DAY, "12:00")
    with Session(engine) as session:
        appointment = session.exec(
            select(Appointment).where(col(Appointment.start) > noon).order_by(col(Appointment.start))
        ).first()
        assert appointment is not None
        job = session.get(Job, appointment.job_id)
        assert job is not None
        job.window_start, job.window_end = at(DAY, "09:00"), at(DAY, "10:00")
        for shift in session.exec(
            select(ShiftPattern).where(
                ShiftPattern.technician_id == appointment.technician_id, ShiftPattern.weekday == DAY.weekday()
            )
        ):
            session.delete(shift)  # the technician's day off now
        session.add(job)
        session.commit()
        ref = job.ref
        settings = Settings(db=str(demo_db), timezone="Europe/Paris")
        built = planner.build(session, DAY, ZONE, travel_model(settings, engine).matrix, now=noon)
    assert ref not in {task.ref for task in built.problem.tasks}
    assert built.problem.tasks, "the rest of the day is still planned"


def test_re_running_the_optimizer_on_its_own_applied_plan_changes_nothing(demo_db: Path, engine: Engine) -> None:
    code, first, _ = optimize(demo_db, "--apply")
    assert code == 0 and first is not None
    planned = plan(engine)
    code, again, _ = optimize(demo_db, "--apply")
    assert code == 0 and again is not None
    assert again["changes"] == [] and plan(engine) == planned
