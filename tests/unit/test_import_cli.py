"""`dispatch import` as ops use it: every error class gives its line, exit code 3, and no change."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.main import app
from tests.clock import DAY, naive
from tests.conftest import dump
from tests.unit.importdata import ABSENCES, CUSTOMERS, REQUESTS, TECHNICIANS, D

runner = CliRunner()


def dispatch(db: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", str(db), "--timezone", "Europe/Paris", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.fixture
def loaded(tmp_path: Path, db_path: Path, engine: Engine) -> Path:
    """A store holding the small hand-checkable data set."""
    for kind, content in (("technicians", TECHNICIANS), ("customers", CUSTOMERS), ("requests", REQUESTS)):
        code, _, err = dispatch(db_path, "import", kind, str(write(tmp_path, f"{kind}.csv", content)))
        assert code == 0, err
    return db_path


R1_WINDOW = f"{D}T09:00,{D}T11:00"  # R1's window_start,window_end in REQUESTS
NEXT_DAY = (DAY + timedelta(days=1)).isoformat()

BAD_REQUESTS: dict[str, tuple[str | bytes, str]] = {  # case → (the file, the error it gets)
    "unknown column": (
        REQUESTS.replace("address\n", "address,colour\n", 1).replace("No heat,phone,,,", "No heat,phone,,,,"),
        "line 1, colour: unknown column",
    ),
    "missing required value": (REQUESTS.replace("R1,C1,boiler,60", "R1,C1,,60"), "line 2, skill: a value is required"),
    "bad date": (REQUESTS.replace(R1_WINDOW, f"2026-13-01T09:00,{D}T11:00"),
                 "line 2, window_start: must be an ISO 8601 date and time"),
    "priority outside 1-4": (REQUESTS.replace("R2,C2,plumbing,45,3", "R2,C2,plumbing,45,5"),
                             "line 3, priority: must be 1 (emergency), 2, 3 or 4 (low), got '5'"),
    "unknown customer_ref": (REQUESTS.replace("R3,C2", "R3,C404"), "line 4, customer_ref: no customer 'C404'"),
    "unknown skill": (REQUESTS.replace("R3,C2,hvac", "R3,C2,roofing"),
                      "line 4, skill: no technician has skill 'roofing'"),
    "window ends before it starts": (
        REQUESTS.replace(R1_WINDOW, f"{D}T11:00,{D}T09:00"),
        "line 2, window_end: the window ends before (or when) it starts",
    ),
    "duplicate refs": (REQUESTS + f"R2,C1,boiler,30,1,{D}T08:00,{D}T09:00,,Again,phone,,,\n",
                       "line 5, ref: duplicate of line 3 (R2)"),
    "not UTF-8": (REQUESTS.encode().replace(b"Dripping tap", b"Dripping \xe9vier"),
                  "line 3: the file is not UTF-8 text (byte 0xe9)"),
}  # fmt: skip
# Month 13 is invalid whatever the year: the one fixed date, with the clock set near it.
MARKS = {"bad date": pytest.mark.clock("2026-12-31T12:00+01:00")}


@pytest.mark.parametrize("case", [pytest.param(case, marks=MARKS.get(case, ())) for case in sorted(BAD_REQUESTS)])
def test_each_error_class_names_its_line_exits_3_and_changes_nothing(
    case: str, tmp_path: Path, loaded: Path, engine: Engine
) -> None:
    content, expected = BAD_REQUESTS[case]
    # A valid change on another line proves that the good rows of a bad file do not land either.
    if isinstance(content, str):
        content = content.replace("Service the unit", "Service both units")
    else:
        content = content.replace(b"Service the unit", b"Service both units")
    before = dump(engine)
    code, out, err = dispatch(loaded, "import", "requests", str(write(tmp_path, "bad.csv", content)))
    assert code == 3
    assert f"bad.csv: {expected}" in err
    assert "nothing was imported" in err
    assert "Traceback" not in err + out
    assert dump(engine) == before


def test_all_problems_of_a_file_are_listed_in_one_run(tmp_path: Path, loaded: Path) -> None:
    content = REQUESTS.replace("R1,C1,boiler,60,2", "R1,C1,boiler,0,2").replace("R3,C2,hvac", "R3,C9,hvac")
    code, _, err = dispatch(loaded, "import", "requests", str(write(tmp_path, "bad.csv", content)))
    assert code == 3
    assert "line 2, duration_min: must be a whole number of minutes from 1 to 1440, got 0" in err
    assert "line 4, customer_ref: no customer 'C9'" in err


def test_a_missing_required_column_is_reported_once_at_the_header(tmp_path: Path, loaded: Path) -> None:
    content = "\n".join(",".join(line.split(",")[:3] + line.split(",")[4:]) for line in REQUESTS.splitlines())
    code, _, err = dispatch(loaded, "import", "requests", str(write(tmp_path, "bad.csv", content)))
    assert code == 3
    assert "line 1, duration_min: required column is missing from the header" in err
    assert err.count("duration_min") == 1


def test_reimporting_the_same_files_changes_nothing(tmp_path: Path, loaded: Path, engine: Engine) -> None:
    before = dump(engine)
    for kind, content in (("technicians", TECHNICIANS), ("customers", CUSTOMERS), ("requests", REQUESTS)):
        code, out, _ = dispatch(loaded, "import", kind, str(write(tmp_path, f"{kind}.csv", content)))
        assert code == 0
        assert "0 created, 0 updated" in out
    assert dump(engine) == before


def test_summary_counts_created_updated_unchanged(tmp_path: Path, loaded: Path) -> None:
    content = REQUESTS.replace("Dripping tap", "Dripping tap (now worse)") + (
        f"R4,C1,hvac,30,4,{NEXT_DAY}T08:00,{NEXT_DAY}T12:00,,Annual check,back_office,,,\n"
    )
    code, out, _ = dispatch(loaded, "import", "requests", "--json", str(write(tmp_path, "r.csv", content)))
    assert code == 0
    assert json.loads(out) == {
        "kind": "requests", "rows": 4, "created": 1, "updated": 1, "unchanged": 2, "dry_run": False,
        "broken_promises": [],  # R2 is not planned: no visit to keep its promise
    }  # fmt: skip


def test_dry_run_validates_and_writes_nothing(tmp_path: Path, loaded: Path, engine: Engine) -> None:
    before = dump(engine)
    content = REQUESTS + f"R4,C1,hvac,30,4,{NEXT_DAY}T08:00,{NEXT_DAY}T12:00,,Annual check,web,,,\n"
    code, out, _ = dispatch(loaded, "import", "requests", "--dry-run", str(write(tmp_path, "r.csv", content)))
    assert code == 0
    assert "would import 4 requests" in out and "1 created" in out and "nothing written" in out
    assert dump(engine) == before


def test_absences_import_and_reimport(tmp_path: Path, loaded: Path) -> None:
    path = write(tmp_path, "absences.csv", ABSENCES)
    assert "1 created" in dispatch(loaded, "import", "absences", str(path))[1]
    assert "1 unchanged" in dispatch(loaded, "import", "absences", str(path))[1]
    code, _, err = dispatch(loaded, "import", "absences", str(write(tmp_path, "a.csv", ABSENCES.replace("T2", "T9"))))
    assert code == 3 and "line 2, technician_ref: no technician 'T9'" in err


def test_unknown_extension_is_a_usage_error(tmp_path: Path, loaded: Path) -> None:
    code, _, err = dispatch(loaded, "import", "requests", str(write(tmp_path, "r.txt", REQUESTS)))
    assert code == 2 and "--format" in err
    code, out, _ = dispatch(loaded, "import", "requests", "--format", "csv", str(tmp_path / "r.txt"))
    assert code == 0 and "3 unchanged" in out


def test_a_missing_file_is_a_usage_error_without_traceback(tmp_path: Path, loaded: Path) -> None:
    code, _, err = dispatch(loaded, "import", "requests", str(tmp_path / "nope.csv"))
    assert code == 2 and "cannot read" in err


def test_json_and_jsonl_files_import_like_csv_and_report_their_lines(tmp_path: Path, loaded: Path) -> None:
    records = [
        {"ref": "R1", "customer_ref": "C1", "skill": "boiler", "duration_min": 60, "priority": 2,
         "window_start": naive(DAY, "09:00"), "window_end": naive(DAY, "11:00"), "description": "No heat",
         "source": "phone"},
        {"ref": "R9", "customer_ref": "C1", "skill": "boiler", "duration_min": 30, "priority": 9,
         "window_start": naive(DAY, "09:00"), "window_end": naive(DAY, "11:00"), "source": "phone"},
    ]  # fmt: skip
    array = json.dumps(records, indent=2)
    code, _, err = dispatch(loaded, "import", "requests", str(write(tmp_path, "r.json", array)))
    assert code == 3
    second_line = array.splitlines().index("  {", 2) + 1
    assert f"line {second_line}, priority" in err
    lines = "\n".join(json.dumps(r) for r in records)
    code, _, err = dispatch(loaded, "import", "requests", str(write(tmp_path, "r.jsonl", lines)))
    assert code == 3 and "line 2, priority" in err
    records[1]["priority"] = 4
    code, out, err = dispatch(
        loaded, "import", "requests", str(write(tmp_path, "r.jsonl", "\n".join(map(json.dumps, records))))
    )
    assert code == 0, err
    assert "1 created" in out and "1 unchanged" in out


def test_broken_json_is_reported_with_its_line(tmp_path: Path, loaded: Path) -> None:
    code, _, err = dispatch(
        loaded, "import", "customers", str(write(tmp_path, "c.json", '[\n{"ref": "C5",\n "name": }\n]'))
    )
    assert code == 3 and "line 3: not valid JSON" in err
