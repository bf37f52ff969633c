"""Property: any sequence of accepted assign/move/unassign leaves days that an independent checker accepts.

The checker (tests/checker.py) is written from the rules (the README's planning rules and
docs/import-files.md), with its own travel formula; it shares no code with dispatch_tui.services.planning.scheduling.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import Session

from dispatch_tui.services import errors
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.services.planning import assignment
from dispatch_tui.store import make_engine, upgrade
from dispatch_tui.travel.haversine import travel_minutes
from tests.checker import check_store, utc
from tests.clock import DAY
from tests.demofiles import demo_files

ZONE = ZoneInfo("Europe/Paris")
JOBS = [f"R{n:05d}" for n in range(1, 61)]
TECHS = [f"T{n:03d}" for n in range(1, 13)]


def service_travel(a: tuple[float, float], b: tuple[float, float]) -> int:
    return travel_minutes(a[0], a[1], b[0], b[1])


# --- the property ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[int, int, list[str]]]]:
    """The demo's sample files for DAY, unplanned; and per job its window (local minutes) and qualified technicians."""
    path = tmp_path_factory.mktemp("seed") / "seed.db"
    files = demo_files(tmp_path_factory.mktemp("files"), day=DAY)
    engine = make_engine(path)
    upgrade(engine)
    for kind in ImportKind:
        data = (files / f"{kind.value}.csv").read_bytes()
        import_data(engine, kind, data, FileFormat.CSV, zone=ZONE, working_days=[0, 1, 2, 3, 4])
    midnight = datetime.combine(DAY, datetime.min.time(), ZONE)
    jobs = {}
    with engine.connect() as c:
        for ref, ws, we, skill_id in c.execute(text("SELECT ref, window_start, window_end, skill_id FROM job")):
            techs = [r[0] for r in c.execute(text(
                "SELECT t.ref FROM technician t JOIN technicianskill ts ON ts.technician_id = t.id "
                "WHERE ts.skill_id = :s ORDER BY t.ref"), {"s": skill_id})]  # fmt: skip
            minutes = [int((utc(v) - midnight).total_seconds() // 60) for v in (ws, we)]
            jobs[ref] = (minutes[0], minutes[1], techs)
    engine.dispose()
    return path, jobs


operations = st.lists(
    st.tuples(
        st.sampled_from(["assign", "assign", "assign", "move", "unassign"]),
        st.sampled_from(JOBS),
        st.integers(0, 11),  # which technician: among the qualified ones, mostly
        st.floats(0, 1.1),  # where in the window (a little past its end too)
        st.booleans(),  # whether to pick any technician at all rather than a qualified one
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_accepted_operations_always_leave_feasible_days(
    seed_store: tuple[Path, dict[str, tuple[int, int, list[str]]]],
    tmp_path_factory: pytest.TempPathFactory,
    ops: list[tuple[str, str, int, float, bool]],
) -> None:
    seed, jobs = seed_store
    path = tmp_path_factory.mktemp("run") / "run.db"
    shutil.copy(seed, path)
    engine = make_engine(path)
    midnight = datetime.combine(DAY, datetime.min.time(), ZONE)
    for op, job, which, where, anyone in ops:
        lo, hi, qualified = jobs[job]
        tech = TECHS[which] if anyone or not qualified else qualified[which % len(qualified)]
        start = midnight + timedelta(minutes=lo + round((hi - lo) * where / 5) * 5)
        with Session(engine) as session:
            try:
                if op == "assign":
                    assignment.assign(session, job, tech, start, zone=ZONE, travel=service_travel, actor="prop")
                elif op == "move":
                    assignment.move(session, job, start, tech_ref=tech, zone=ZONE, travel=service_travel,
                                    actor="prop")  # fmt: skip
                else:
                    assignment.unassign(session, job, zone=ZONE, travel=service_travel, actor="prop")
            except errors.Refused:
                continue
            session.commit()
        assert check_store(engine, DAY, ZONE) == [], f"after {op} {job} {tech} {start:%H:%M}"
    engine.dispose()
