"""The contracts in docs/ say what the code does: exit codes, import columns, the schedule JSON and every
`--json` shape (each example's keys against what the command prints on a demo store)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cli import exit_codes
from cli.main import app
from dispatch_tui.domain import IMPORT_COLUMNS, ImportKind
from dispatch_tui.store.models import Customer, Job
from tests.clock import DAY, at, naive
from tests.ui.conftest import build_fixed_demo

DOCS = Path(__file__).resolve().parents[2] / "docs"
OPEN_KEYS = {"by_source"}  # dicts keyed by data (a source's name), not by the contract


def sections(page: str) -> dict[str, str]:
    """'## heading' → the JSON example under it."""
    text = (DOCS / page).read_text()
    found = {}
    for heading, body in re.findall(r"^## (.+?)\n(.*?)(?=^## |\Z)", text, re.M | re.S):
        block = re.search(r"```json\n(.*?)```", body, re.S)
        if block:
            found[heading.strip()] = block.group(1)
    return found


def shape_problems(documented: Any, printed: Any, path: str = "") -> list[str]:
    """Where the printed JSON's keys differ from the documented example's (lists: their first element)."""
    if isinstance(documented, dict) and isinstance(printed, dict):
        if path.rsplit(".", 1)[-1] in OPEN_KEYS:
            return []
        problems = [f"{path}.{key}: printed, not documented" for key in printed.keys() - documented.keys()]
        problems += [f"{path}.{key}: documented, not printed" for key in documented.keys() - printed.keys()]
        for key in documented.keys() & printed.keys():
            problems += shape_problems(documented[key], printed[key], f"{path}.{key}")
        return problems
    if isinstance(documented, list) and isinstance(printed, list) and documented and printed:
        return shape_problems(documented[0], printed[0], f"{path}[]")
    return []


def test_the_exit_codes_page_lists_the_codes_the_cli_uses() -> None:
    rows = re.findall(r"^\| (\d+) \| ([A-Z]+) \|", (DOCS / "exit-codes.md").read_text(), re.M)
    documented = {name: int(code) for code, name in rows}
    in_code = {name: value for name, value in vars(exit_codes).items() if name.isupper() and isinstance(value, int)}
    assert documented == in_code


def test_the_import_page_lists_each_kinds_columns_in_order() -> None:
    text = (DOCS / "import-files.md").read_text()
    for kind in ImportKind:
        part = re.search(rf"^## {kind.value}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
        assert part is not None, f"no section for {kind.value}"
        assert tuple(re.findall(r"^- `(\w+)`", part.group(1), re.M)) == IMPORT_COLUMNS[kind]


@pytest.fixture
def store(engine: Engine, db_path: Path, set_clock: Callable[[datetime], None]) -> Path:
    """The demo at noon of DAY, and the commands' clock at 15:00: visits under way, nothing reported since
    noon, so some technicians are late."""
    build_fixed_demo(engine)
    set_clock(at(DAY, "15:00"))
    return db_path


def printed(db: Path, *args: str) -> Any:
    result = CliRunner().invoke(app, ["--db", str(db), "--tz", "Europe/Paris", *args])
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return json.loads(result.stdout)


def refs(engine: Engine, status: str) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(Job.ref).where(Job.status == status).order_by(Job.ref)))


def regular(engine: Engine) -> str:
    """The ref of a customer with an open job and a finished visit."""
    with Session(engine) as session:
        done = set(session.exec(select(Job.customer_id).where(Job.status == "completed")))
        waiting = session.exec(select(Job.customer_id).where(Job.status == "new").order_by(col(Job.id))).all()
        customer_id = next(c for c in waiting if c in done)
        return session.exec(select(Customer.ref).where(Customer.id == customer_id)).one()


def test_every_json_example_has_the_keys_the_command_prints(store: Path, engine: Engine, tmp_path: Path) -> None:
    examples = sections("cli-json.md")
    waiting, done = refs(engine, "new"), refs(engine, "completed")
    absences = tmp_path / "absences.csv"
    absences.write_text(f"technician_ref,start,end,reason\nT001,{naive(DAY, '16:00')},{naive(DAY, '17:00')},dentist\n")
    candidates = next(
        options
        for ref in waiting
        if (options := printed(store, "candidates", ref, "--date", DAY.isoformat(), "--json"))
    )
    call = ("--customer", "C0001", "--skill", "boiler", "--duration", "60", "--anyway", "--json")
    taken, tomorrow_ten = printed(store, "request", "new", *call), naive(DAY + timedelta(days=1), "10:00")
    offered = printed(store, "slots", taken["ref"], "--days", "2", "--part", "morning", "--json")
    assert offered["slots"], "the new request has times to offer: the shape is checked"
    booked = printed(store, "book", taken["ref"], "--slot", tomorrow_ten, "--confirmation", str(tmp_path), "--json")
    urgent = ("--customer", "C0002", "--skill", "boiler", "--duration", "30", "--priority", "1", "--anyway", "--json")
    emergency = printed(store, "request", "new", *urgent)["ref"]
    runs = {
        "dispatch jobs list --json": printed(store, "jobs", "list", "--json"),
        "dispatch jobs show JOB --json": printed(store, "jobs", "show", done[0], "--json"),
        "dispatch techs list --json": printed(store, "techs", "list", "--json"),
        "dispatch candidates JOB --json": candidates,
        "dispatch slots JOB --json": offered,
        "dispatch assign|move|unassign|lock|unlock JOB … --json": printed(
            store, "assign", waiting[-1], "T001", "--start", naive(DAY, "17:30"), "--force", "--json"
        ),
        "dispatch import KIND FILE --json": printed(store, "import", "absences", str(absences), "--json"),
        "dispatch request new … --json": taken,
        "dispatch book JOB --slot START --json": booked,
        "dispatch insert JOB --json": printed(store, "insert", emergency, "--json"),
        "dispatch customers find QUERY --json": printed(store, "customers", "find", regular(engine), "--json"),
        "dispatch customers new … --json": printed(
            store, "customers", "new", "--name", "Zoé Martin", "--lat", "45.76", "--lon", "4.84", "--json"
        ),
        "dispatch customers notify CUSTOMER --json": printed(
            store, "customers", "notify", "C0001", "--channels", "sms", "--opt-out", "reminder", "--json"
        ),
        "dispatch notify run --once --json": printed(store, "notify", "run", "--once", "--json"),
        "dispatch notify list --json": printed(store, "notify", "list", "--json"),
        "dispatch late --json": printed(store, "late", "--date", DAY.isoformat(), "--json"),
        "dispatch optimize --json": printed(
            store, "optimize", "--date", DAY.isoformat(), "--time-limit", "1", "--json"
        ),
        "dispatch report kpi --json": printed(
            store, "report", "kpi", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--json"
        ),
    }
    assert set(examples) == set(runs), "each documented command is run here, and each run is documented"
    assert runs["dispatch late --json"]["technicians"], "the demo at noon has someone late: the shape is checked"
    assert runs["dispatch insert JOB --json"], "someone can take an emergency at noon: the shape is checked"
    [customer] = runs["dispatch customers find QUERY --json"]
    assert customer["open_jobs"] and customer["last_visits"], "a customer with both: their shapes are checked"
    assert runs["dispatch notify list --json"], "the booking's confirmation was routed: the shape is checked"
    for heading, output in runs.items():
        assert shape_problems(json.loads(examples[heading]), output) == [], heading


def test_the_schedule_example_has_the_keys_the_schedule_prints(store: Path) -> None:
    [example] = re.findall(r"```json\n(.*?)```", (DOCS / "schedule-json.md").read_text(), re.S)
    output = printed(store, "schedule", "--date", DAY.isoformat(), "--format", "json")
    assert output["routes"] and output["unassigned"]
    assert shape_problems(json.loads(example), output) == []
    stops = [stop for route in output["routes"] for stop in route["stops"]]
    assert any(stop["actual_start"] for stop in stops), "a visit under way shows its actual start"
    assert output["date"] == DAY.isoformat()
