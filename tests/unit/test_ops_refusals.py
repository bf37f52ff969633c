"""Issue 12, points 5-8, as ops meet them: no silent failures. A mistyped --db, an existing backup file,
an unknown keymap id and a DISPATCH_CONFIG naming no file are refused (exit 2) with the fix; a refusal's
advice is an action that works for the job's status; a JSON Lines file given as JSON points to jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from textual.widgets import Static
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.clock import Clock
from dispatch_tui.config import Settings
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.tui.app import DispatchApp
from dispatch_tui.tui.widgets.status_pane import StatusPane
from tests.clock import DAY, NOW, ZONE, naive
from tests.conftest import WEEKDAYS, dump
from tests.ui.helpers import settle
from tests.unit import importdata, workdata
from tests.unit.workdata import DAY as PAST


def dispatch(db: Path | str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--db", str(db), "--tz", "Europe/Paris", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, " ".join(result.stderr.split())  # unwrapped, as one line


# --- 5. a store that does not exist is never made by accident ------------------------------------------


def no_store(path: Path) -> str:
    fix = f"create one with `dispatch db upgrade --db {path}`, or `dispatch demo`, or check the path"
    return f"no store at {path}: {fix}"


@pytest.mark.parametrize(
    "args",
    [
        ("jobs", "list"),
        ("techs", "list"),
        ("schedule", "--date", "tomorrow"),
        ("candidates", "R1"),
        ("assign", "R1", "T1", "--start", naive(DAY, "09:30")),
        ("status", "R1", "dispatched"),
        ("optimize", "--date", "tomorrow"),
        ("late",),
        ("export", "billing", "--from", DAY.isoformat(), "--to", DAY.isoformat()),
        ("report", "kpi", "--from", DAY.isoformat(), "--to", DAY.isoformat()),
        ("db", "current"),
        ("backup", "BACKUP"),
        ("import", "technicians", "FILE", "--dry-run"),  # a dry run writes nothing, a new store neither
        ("serve", "--port", "8765"),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_a_mistyped_db_is_refused_and_nothing_is_created(tmp_path: Path, args: tuple[str, ...]) -> None:
    typo = tmp_path / "sotre" / "dispatch.db"
    technicians = tmp_path / "technicians.csv"
    technicians.write_text(importdata.TECHNICIANS)
    given = [{"BACKUP": str(tmp_path / "b.db"), "FILE": str(technicians)}.get(arg, arg) for arg in args]
    code, out, err = dispatch(typo, *given)
    assert (code, out) == (2, ""), err
    assert f"error: {no_store(typo)}" in err
    assert not typo.parent.exists() and not (tmp_path / "b.db").exists()


def test_the_console_refuses_a_missing_store_before_the_screen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.headless_driver:HeadlessDriver")  # past the tty check
    monkeypatch.setattr(DispatchApp, "run", lambda self: None)  # were it to start, it would return at once
    typo = tmp_path / "nope" / "dispatch.db"
    for args in (("tui",), ()):  # `dispatch tui` and bare `dispatch`
        code, _, err = dispatch(typo, *args)
        assert code == 2 and no_store(typo) in err
    assert not typo.parent.exists()


async def test_the_console_itself_shows_a_missing_store_and_makes_no_file(tmp_path: Path) -> None:
    typo = tmp_path / "nope" / "dispatch.db"
    app = DispatchApp(Settings(db=str(typo), timezone=ZONE.key), clock=Clock.at(NOW, frozen=True), day=DAY)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = " ".join(str(app.board_screen.query_one(StatusPane).query_one("#status-body", Static).content).split())
        assert "no store at" in shown and "dispatch db upgrade" in shown
    assert not typo.parent.exists()


def test_the_commands_that_make_a_store_make_it_folders_included(tmp_path: Path) -> None:
    technicians = tmp_path / "technicians.csv"
    technicians.write_text(importdata.TECHNICIANS)
    imported = tmp_path / "a" / "imported.db"
    code, out, err = dispatch(imported, "import", "technicians", str(technicians))
    assert code == 0 and "2 created" in out, err
    upgraded = tmp_path / "b" / "upgraded.db"
    assert dispatch(upgraded, "db", "upgrade")[0] == 0 and upgraded.exists()
    demo = tmp_path / "c" / "demo.db"
    assert dispatch(tmp_path / "unused.db", "demo", "--db", str(demo), "--requests", "5")[0] == 0 and demo.exists()
    assert dispatch(imported, "backup", str(tmp_path / "b.db"))[0] == 0
    restored = tmp_path / "d" / "restored.db"
    code, out, err = dispatch(restored, "restore", str(tmp_path / "b.db"), "--yes")
    assert code == 0 and "2 technicians" in out, err
    assert dispatch(restored, "techs", "list")[0] == 0
    assert not (tmp_path / "unused.db").exists()


# --- 6. backup over a file, unknown keymap ids, a DISPATCH_CONFIG naming nothing --------------------------


def test_backup_never_replaces_a_file_without_force(db_path: Path, engine: Engine, tmp_path: Path) -> None:
    target = tmp_path / "monday.db"
    target.write_bytes(b"last week's backup")
    code, out, err = dispatch(db_path, "backup", str(target))
    assert (code, out) == (2, "")
    assert f"error: {target} exists: give --force to replace it" in err
    assert target.read_bytes() == b"last week's backup"
    code, out, err = dispatch(db_path, "backup", str(target), "--force")
    assert code == 0 and "backed up" in out, err
    assert target.read_bytes() != b"last week's backup"


@pytest.mark.parametrize("command", [("tui",), ("serve", "--port", "8765")])
def test_an_unknown_keymap_id_is_refused_naming_it_the_file_and_the_closest_id(
    db_path: Path, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\nasign = "ctrl+a"\nquit = "q,ctrl+q"\n')
    monkeypatch.setenv("DISPATCH_CONFIG", str(config))
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.headless_driver:HeadlessDriver")
    monkeypatch.setattr(DispatchApp, "run", lambda self: None)
    monkeypatch.setattr("textual_serve.server.Server.serve", lambda self: None)
    code, _, err = dispatch(db_path, *command)
    assert code == 2
    assert f"unknown keymap id 'asign' (did you mean 'assign'?) in the settings file {config}" in err
    assert "the ids are new_request, assign, book, move, unassign, insert_now, lock," in err and "help, quit" in err


def test_a_dispatch_config_naming_no_file_is_refused(db_path: Path, engine: Engine, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    missing = tmp_path / "setings.toml"
    monkeypatch.setenv("DISPATCH_CONFIG", str(missing))
    code, out, err = dispatch(db_path, "jobs", "list")
    assert (code, out) == (2, "")
    assert f"error: DISPATCH_CONFIG names {missing}, which does not exist: create it or unset DISPATCH_CONFIG" in err
    assert "Traceback" not in err


# --- 7. every refusal's advice is an action that works -------------------------------------------------


@pytest.fixture
def planned(engine: Engine, db_path: Path) -> Path:
    """workdata's past day: R1 (T1 09:30), R3 (T1 11:00), R4 (T1 15:00), R2 and R5 (T2) scheduled."""
    workdata.load(engine)
    return db_path


@pytest.fixture
def queued(engine: Engine, db_path: Path) -> Path:
    """importdata's day ahead: R1, R2, R3 new, in the queue."""
    for kind, content in ((ImportKind.TECHNICIANS, importdata.TECHNICIANS),
                          (ImportKind.CUSTOMERS, importdata.CUSTOMERS),
                          (ImportKind.REQUESTS, importdata.REQUESTS)):  # fmt: skip
        import_data(engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    return db_path


def finish(db: Path, ref: str, outcome: str = "completed") -> None:
    for status, moment in (("dispatched", "09:00"), ("en_route", "09:10"), ("on_site", "09:30"), (outcome, "10:30")):
        code, _, err = dispatch(db, "status", ref, status, "--at", naive(PAST, moment))
        assert code == 0, err


def test_a_completed_job_is_said_completed_by_assign_move_and_unassign(planned: Path, engine: Engine) -> None:
    finish(planned, "R1")
    before = dump(engine)
    start = ("--start", naive(PAST, "13:00"))
    for args, verb in (
        (("assign", "R1", "T1", *start), "assign"),
        (("assign", "R1", "T1", *start, "--force"), "assign"),
        (("move", "R1", *start), "move"),
        (("move", "R1", *start, "--force"), "move"),
        (("unassign", "R1"), "unassign"),
    ):
        code, _, err = dispatch(planned, *args)
        assert code == 3
        assert f"refused: R1 is completed: the visit is over, there is nothing to {verb}" in err
        assert "use move" not in err and "--force" not in err, err  # nothing another command or a flag could do
    assert dump(engine) == before


def test_assign_on_a_planned_job_advises_move_and_move_works(planned: Path) -> None:
    code, _, err = dispatch(planned, "assign", "R1", "T1", "--start", naive(PAST, "09:45"))
    assert code == 3 and "R1 is already scheduled: use move to change its technician or time" in err
    assert "--force" not in err
    code, out, err = dispatch(planned, "move", "R1", "--start", naive(PAST, "09:45"))
    assert code == 0 and "moved R1 → T1" in out, err


def test_move_on_a_queued_job_advises_assign_and_assign_works(queued: Path) -> None:
    code, _, err = dispatch(queued, "move", "R1", "--start", naive(DAY, "09:30"), "--force")
    assert code == 3 and "R1 is new: it is in the queue, on nobody's day; use assign" in err
    assert "--force" not in err
    code, out, err = dispatch(queued, "assign", "R1", "T1", "--start", naive(DAY, "09:30"))
    assert code == 0 and "assigned R1 → T1" in out, err


def test_unassign_never_advises_the_force_it_does_not_have(planned: Path) -> None:
    assert dispatch(planned, "unassign", "R2")[0] == 0
    code, _, err = dispatch(planned, "unassign", "R2")
    assert code == 3 and "R2 is new: it is already in the queue, there is nothing to unassign" in err
    assert "--force" not in err
    for status, moment in (("dispatched", "09:00"), ("en_route", "09:10")):
        assert dispatch(planned, "status", "R1", status, "--at", naive(PAST, moment))[0] == 0
    code, _, err = dispatch(planned, "unassign", "R1")
    assert code == 3 and "R1 is en_route: the visit is under way, it stays with its technician" in err
    assert "--force" not in err


def test_move_given_force_is_not_told_to_use_force(planned: Path) -> None:
    for status, moment in (("dispatched", "09:00"), ("en_route", "09:10"), ("on_site", "09:30")):
        assert dispatch(planned, "status", "R1", status, "--at", naive(PAST, moment))[0] == 0
    code, _, err = dispatch(planned, "move", "R1", "--start", naive(PAST, "13:00"), "--force")
    assert code == 3 and "R1 is on_site: the visit is under way" in err
    assert "--force" not in err


def test_a_move_refused_by_the_rules_advises_force_and_force_works(planned: Path) -> None:
    code, _, err = dispatch(planned, "move", "R1", "--start", naive(PAST, "06:00"))
    assert code == 3 and "before its window opens" in err
    assert "nothing changed (use --force to override the rules)" in err
    code, out, err = dispatch(planned, "move", "R1", "--start", naive(PAST, "06:00"), "--force")
    assert code == 0 and "moved R1" in out, err


def test_a_locked_visit_advises_unlock_and_then_the_move_works(planned: Path) -> None:
    assert dispatch(planned, "lock", "R1")[0] == 0
    code, _, err = dispatch(planned, "move", "R1", "--start", naive(PAST, "09:45"), "--force")
    assert code == 3 and "R1 is locked: unlock it first" in err and "--force" not in err
    assert dispatch(planned, "unlock", "R1")[0] == 0
    assert dispatch(planned, "move", "R1", "--start", naive(PAST, "09:45"))[0] == 0


def test_assign_on_a_visit_that_needs_a_follow_up_points_to_the_follow_up(planned: Path) -> None:
    finish(planned, "R5", "needs_follow_up")
    code, _, err = dispatch(planned, "assign", "R5", "T2", "--start", naive(PAST, "13:00"))
    assert code == 3
    assert "R5 is needs_follow_up: the visit is over, there is nothing to assign; its follow-up request R5-F1" in err
    assert "--force" not in err
    code, out, err = dispatch(planned, "assign", "R5-F1", "T2", "--start", naive(PAST, "14:30"))
    assert code == 0 and "assigned R5-F1 → T2" in out, err


def test_complete_on_a_queued_job_advises_assign_then_dispatch_and_both_work(queued: Path) -> None:
    code, _, err = dispatch(queued, "complete", "R1")
    assert code == 3 and "it is not planned yet: assign it to a technician, then dispatch it" in err
    code, _, err = dispatch(queued, "status", "R1", "dispatched")
    assert code == 3 and "it is not planned yet: assign it to a technician first" in err
    assert dispatch(queued, "assign", "R1", "T1", "--start", naive(DAY, "09:30"))[0] == 0
    code, _, err = dispatch(queued, "complete", "R1")
    assert code == 3 and "it was never dispatched: dispatch it first" in err
    code, out, err = dispatch(queued, "status", "R1", "dispatched")
    assert code == 0 and "(dispatched, version 3)" in out, err


# --- 8. JSON Lines given as JSON ------------------------------------------------------------------------


def test_json_lines_given_as_json_points_to_jsonl_which_imports_it(db_path: Path, engine: Engine,
                                                                  tmp_path: Path) -> None:  # fmt: skip
    rows = [{"ref": "C1", "name": "Claire Dubois", "lat": 45.759, "lon": 4.852},
            {"ref": "C2", "name": "Harbour Bakery", "lat": 45.743, "lon": 4.818}]  # fmt: skip
    file = tmp_path / "customers.json"
    file.write_text("".join(json.dumps(row) + "\n" for row in rows))
    code, out, err = dispatch(db_path, "import", "customers", str(file))
    assert (code, out) == (3, "")
    assert (
        "customers.json: line 1: expected a JSON array of objects ('[' ... ']'); "
        "this looks like JSON Lines (one object per line): give --format jsonl" in err
    )
    code, out, err = dispatch(db_path, "import", "customers", str(file), "--format", "jsonl")
    assert code == 0 and "2 created" in out, err
