"""`dispatch slots JOB`: the times to offer a caller, as a dispatcher reads them and a script parses them."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.main import app
from tests.clock import DAY, MONDAY, iso, naive
from tests.conftest import dump
from tests.unit.test_slots import fill


@pytest.fixture
def store(db_path: Path, engine: Engine) -> Path:
    fill(engine)  # T1 Ana and T2 Ben (boiler), T3 Chloé (plumbing); R1 boiler, 60 min, open all week
    return db_path


def dispatch(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--db", str(db), "--tz", "Europe/Paris", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_the_windows_as_a_table_and_as_json(store: Path, engine: Engine) -> None:
    before = dump(engine)
    code, out, err = dispatch(store, "slots", "R1", "--days", "2")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["window", "technicians", "+drive", "who", "adds", "least"]
    assert any(line.split()[:3] == [f"{DAY:%a}", f"{DAY:%d}", f"{DAY:%b}"] and "best" in line for line in lines)
    code, out, _ = dispatch(store, "slots", "R1", "--days", "2", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["job_ref"] == "R1" and shown["window_minutes"] == 120
    assert shown["days"] == [MONDAY.isoformat(), DAY.isoformat()]  # from today: the evening before DAY
    assert shown["reasons"] == [] and shown["advice"] == ""
    assert sum(s["best"] for s in shown["slots"]) == 3
    first = shown["slots"][0]
    assert set(first) == {"start", "end", "technicians", "least_added_travel_minutes", "best", "technician_ref",
                          "technician_name", "technician_start"}  # fmt: skip
    assert first["start"] == iso(DAY, "08:00") and first["end"] == iso(DAY, "10:00")  # the first arrival: 08:15
    assert first["technicians"] == 2 and first["technician_ref"] in ("T1", "T2")
    assert dump(engine) == before, "offering times writes nothing"


def test_the_customers_wishes_and_the_window_length(store: Path) -> None:
    args = ("slots", "R1", "--date", DAY.isoformat(), "--part", "afternoon", "--not-before", "14:00",
            "--window-minutes", "60", "--json")  # fmt: skip
    code, out, err = dispatch(store, *args)
    assert code == 0, err
    shown = json.loads(out)
    assert shown["days"] == [DAY.isoformat()] and shown["window_minutes"] == 60
    assert shown["wishes"] == {"date": DAY.isoformat(), "part": "afternoon", "not_before": "14:00"}
    assert [s["start"] for s in shown["slots"]][:2] == [iso(DAY, "14:00"), iso(DAY, "14:30")]
    code, out, _ = dispatch(store, "slots", "R1", "--date", DAY.isoformat(), "--part", "morning", "--json")
    assert code == 0 and all(s["end"] <= iso(DAY, "12:00") for s in json.loads(out)["slots"])


def test_no_window_is_exit_0_and_says_why(store: Path) -> None:
    saturday = DAY + timedelta(days=4)
    code, out, err = dispatch(store, "slots", "R1", "--date", saturday.isoformat())
    assert code == 0, err
    assert out.splitlines() == [
        f"no 120-min window for R1 on {saturday:%a %d %b}:",
        f"  {saturday:%a %d %b}: no technician with skill boiler works on Saturday",
        "try another day (dispatch slots R1 --date D), or no --date to look at the next days",
    ]
    code, out, _ = dispatch(store, "slots", "R1", "--date", saturday.isoformat(), "--json")
    assert code == 0 and json.loads(out)["slots"] == [] and json.loads(out)["reasons"]


def test_unknown_or_planned_job_is_exit_3(store: Path) -> None:
    code, _, err = dispatch(store, "slots", "R404")
    assert code == 3 and "no job 'R404'" in err
    assert dispatch(store, "assign", "R4", "T1", "--start", naive(DAY, "10:00"))[0] == 0
    code, _, err = dispatch(store, "slots", "R4")
    assert code == 3 and "refused: R4 is scheduled: times are offered for a waiting request only" in err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--part", "evening"), "--part"),
        (("--not-before", "half past nine"), "--not-before 'half past nine'"),
        (("--not-before", "24:00"), "before 24:00"),
        (("--days", "0"), "--days"),
        (("--window-minutes", "10"), "--window-minutes"),
        (("--date", "someday"), "--date 'someday'"),
    ],
)
def test_bad_options_are_exit_2(store: Path, args: tuple[str, ...], said: str) -> None:
    code, _, err = dispatch(store, "slots", "R1", *args)
    assert code == 2
    assert said in err
