"""The real console in a real terminal (tmux): it opens on a demo store, `a` then Enter assigns, `q` quits."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from dispatch_tui.store import make_engine
from dispatch_tui.store.models import Job
from tests.clock import DAY
from tests.conftest import in_ci

DISPATCH = shutil.which("dispatch", path=str(Path(sys.executable).parent)) or "dispatch"
PANES = ("Requests", "Technicians", "Schedule", "Status")


@pytest.fixture
def has_tmux() -> None:
    """Skipped, saying so, where tmux is missing, except in CI (``.ci/run`` installs it): a skip there would
    hide that the real console in a real terminal went untested."""
    if shutil.which("tmux") is None:
        if in_ci():
            pytest.fail("tmux is not installed: CI must run the terminal test")
        pytest.skip("tmux is not installed")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True, timeout=10).stdout


def wait_for(session: str, condition: Callable[[str], bool], timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", session)
        if condition(screen):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"the console did not get there; the screen was:\n{screen}")


def first_assignable_row(db: Path) -> int:
    """The queue's first row that some technician can take (the console lists the same queue)."""
    from zoneinfo import ZoneInfo

    from dispatch_tui.services.execution.board import requests_queue
    from dispatch_tui.services.planning.candidates import rank_candidates
    from dispatch_tui.store.models import utcnow
    from dispatch_tui.travel.haversine import travel_minutes

    engine = make_engine(db)
    try:
        with Session(engine) as session:
            rows = requests_queue(session, utcnow())
            return next(
                i for i, row in enumerate(rows)
                if rank_candidates(session, row.ref, zone=ZoneInfo("Europe/Paris"), limit=1,
                                   travel=lambda a, b: travel_minutes(a[0], a[1], b[0], b[1]))
            )  # fmt: skip
    finally:
        engine.dispose()


def scheduled(db: Path) -> int:
    engine = make_engine(db)
    try:
        with Session(engine) as session:
            return session.scalar(select(func.count()).select_from(Job).where(Job.status == "scheduled")) or 0
    finally:
        engine.dispose()


def test_open_assign_with_a_then_enter_and_quit(tmp_path: Path, has_tmux: None) -> None:
    db = tmp_path / "demo.db"
    config = tmp_path / "empty.toml"  # an empty settings file: no developer's own (a missing one is refused)
    config.touch()
    env = {**os.environ, "DISPATCH_TIMEZONE": "Europe/Paris", "DISPATCH_CONFIG": str(config)}
    # DAY, tomorrow on the suite's clock: the whole day is still ahead, so the first request has candidates.
    built = subprocess.run([DISPATCH, "demo", "--db", str(db), "--date", DAY.isoformat()], env=env,
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert built.returncode == 0, built.stderr
    before = scheduled(db)
    row = first_assignable_row(db)
    session = f"dispatch-e2e-{os.getpid()}"
    # tmux's server does not pass this process's environment on: the clock goes on the command line.
    clock = f"--now {os.environ['DISPATCH_NOW']} --now-frozen"
    command = (
        f"env DISPATCH_TIMEZONE=Europe/Paris DISPATCH_CONFIG={config} {DISPATCH} --db {db} {clock} tui --date tomorrow"
    )
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "45", command)
    try:
        subprocess.run(
            ["tmux", "resize-window", "-t", session, "-x", "160", "-y", "45"], capture_output=True, check=False
        )
        wait_for(session, lambda screen: all(title in screen for title in PANES) and " R0" in screen)
        # "tomorrow" is DAY on its clock, which it says is set (the rest of the title may be cut on a narrow pane).
        wait_for(session, lambda screen: f"Schedule {DAY:%a %d %b %Y} · clock set" in screen)
        for _ in range(row):
            tmux("send-keys", "-t", session, "j")
        tmux("send-keys", "-t", session, "a")
        wait_for(session, lambda screen: "Assign R" in screen)
        tmux("send-keys", "-t", session, "Enter")
        wait_for(session, lambda screen: "Assigned" in screen)
        tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 10
        while (
            time.monotonic() < deadline
            and subprocess.run(["tmux", "has-session", "-t", session], capture_output=True, check=False).returncode == 0
        ):
            time.sleep(0.2)
        quit_ = subprocess.run(["tmux", "has-session", "-t", session], capture_output=True, check=False)
        assert quit_.returncode != 0, "q did not quit the console"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)
    assert scheduled(db) == before + 1


def waiting_request(db: Path) -> tuple[str, str, str]:
    """A waiting request of the demo: its ref, its customer's name and its skill (a second request of the
    same skill for that customer is held back by the duplicate guard)."""
    from sqlmodel import col

    from dispatch_tui.store.models import Customer, Skill

    engine = make_engine(db)
    try:
        with Session(engine) as session:
            found = session.exec(
                select(Job.ref, Customer.name, Skill.name)
                .join(Customer, col(Customer.id) == col(Job.customer_id))
                .join(Skill, col(Skill.id) == col(Job.skill_id))
                .where(Job.status == "new")
                .order_by(col(Job.ref))
            ).first()
    finally:
        engine.dispose()
    assert found is not None, "the demo has waiting requests"
    return found


def test_the_whole_phone_call_n_customer_request_duplicate_guard_time_booking(tmp_path: Path, has_tmux: None) -> None:
    """n, the caller's name, Enter; the skill of their open request, a description, save: the duplicate
    guard; a saves anyway; the times offered; Enter books the first. `dispatch jobs show` has it promised
    and placed."""
    import json
    import re

    db = tmp_path / "demo.db"
    config = tmp_path / "empty.toml"
    config.touch()
    env = {**os.environ, "DISPATCH_TIMEZONE": "Europe/Paris", "DISPATCH_CONFIG": str(config)}
    built = subprocess.run([DISPATCH, "demo", "--db", str(db), "--date", DAY.isoformat()], env=env,
                           capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert built.returncode == 0, built.stderr
    open_ref, name, skill = waiting_request(db)
    session = f"dispatch-call-{os.getpid()}"
    clock = f"--now {os.environ['DISPATCH_NOW']} --now-frozen"
    # The shell tmux starts exports COLUMNS and LINES of the pane's first size (80 × 24), which the console
    # would take over the terminal's own: without them it reads the pane's 160 × 45.
    command = (f"env -u COLUMNS -u LINES DISPATCH_TIMEZONE=Europe/Paris DISPATCH_CONFIG={config} {DISPATCH} --db {db} "
               f"{clock} tui --date tomorrow")  # fmt: skip
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "45", command)

    def keys(*names: str) -> None:
        tmux("send-keys", "-t", session, *names)

    def typed(text: str) -> None:
        tmux("send-keys", "-t", session, "-l", text)

    def tab(count: int = 1) -> None:
        """To the next field, at a person's pace: Textual hands a key to the widget focused when it arrives,
        so keys sent at once behind a Tab would reach the field being left."""
        for _ in range(count):
            keys("Tab")
            time.sleep(0.3)

    try:
        subprocess.run(
            ["tmux", "resize-window", "-t", session, "-x", "160", "-y", "45"], capture_output=True, check=False
        )
        wait_for(session, lambda screen: all(title in screen for title in PANES) and " R0" in screen)
        keys("n")
        wait_for(session, lambda screen: "who is calling?" in screen)
        typed(name)
        wait_for(session, lambda screen: "Open jobs" in screen and open_ref in screen)
        keys("Enter")
        wait_for(session, lambda screen: f"New request for {name}" in screen)
        keys("Enter")  # the skill list opens; typing jumps to the skill
        wait_for(session, lambda screen: "refrigeration" in screen and "security" in screen)
        typed(skill)
        keys("Enter")
        wait_for(session, lambda screen: re.search(rf"skill\s+{skill}\s", screen) is not None
                 and "refrigeration" not in screen)  # fmt: skip
        tab()
        typed("90")  # minutes of work (a demo built ahead has no finished visit to take the usual length from)
        wait_for(session, lambda screen: re.search(r"duration \(min\)\s+90\s", screen) is not None)
        tab(2)  # past the priority (3, normal)
        typed("boiler noise again, other room")
        wait_for(session, lambda screen: re.search(r"description\s+boiler noise again, other room", screen) is not None)
        keys("C-s")
        wait_for(session, lambda screen: "Already open?" in screen and "same customer and skill" in screen)
        keys("a")
        screen = wait_for(session, lambda screen: re.search(r"Times to offer for R\d+", screen) is not None
                          and re.search(r"\d\d:\d\d–\d\d:\d\d\s+\d+\s+\d+ min", screen) is not None)  # fmt: skip
        title = re.search(r"Times to offer for (R\d+)", screen)
        first = re.search(r"(\w{3} (\d{2}) \w{3})\s+(\d\d:\d\d)–(\d\d:\d\d)\s+\d+\s+\d+ min", screen)
        assert title is not None and first is not None, screen
        ref, day_of_month, opens, closes = title.group(1), first.group(2), first.group(3), first.group(4)
        keys("Enter")
        wait_for(session, lambda screen: f"Booked {ref}" in screen)
        keys("q")
        deadline = time.monotonic() + 10
        while (
            time.monotonic() < deadline
            and subprocess.run(["tmux", "has-session", "-t", session], capture_output=True, check=False).returncode == 0
        ):
            time.sleep(0.2)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)
    shown = subprocess.run([DISPATCH, "--db", str(db), "jobs", "show", ref, "--json"], env=env, capture_output=True,
                           text=True, timeout=60, check=False)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    job = json.loads(shown.stdout)
    assert job["customer_name"] == name and job["skill"] == skill
    assert job["description"] == "boiler noise again, other room" and job["duration_min"] == 90
    assert job["status"] == "scheduled" and job["technician_ref"]
    assert job["window_start"][8:10] == day_of_month
    assert (job["window_start"][11:16], job["window_end"][11:16]) == (opens, closes)
    assert any(event["note"].startswith("promised ") for event in job["events"])
    assert open_ref != ref
