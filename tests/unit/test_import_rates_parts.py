"""`dispatch import rates|parts`: the same pipeline as the other imports (upsert, every bad row, exit 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from dispatch_tui.store.models import Part, Rate
from tests.conftest import dump
from tests.unit.importdata import TECHNICIANS
from tests.unit.test_import_cli import dispatch, write
from tests.unit.workdata import PARTS, RATES


@pytest.fixture
def skilled(tmp_path: Path, db_path: Path, engine: Engine) -> Path:
    code, _, err = dispatch(db_path, "import", "technicians", str(write(tmp_path, "t.csv", TECHNICIANS)))
    assert code == 0, err
    return db_path


def test_rates_and_parts_import_then_reimport_changes_nothing(skilled: Path, tmp_path: Path, engine: Engine) -> None:
    code, out, err = dispatch(skilled, "import", "rates", str(write(tmp_path, "rates.csv", RATES)))
    assert code == 0, err
    assert "imported 5 rates from rates.csv: 5 created, 0 updated, 0 unchanged" in out
    code, out, _ = dispatch(skilled, "import", "parts", str(write(tmp_path, "parts.csv", PARTS)))
    assert "2 created" in out
    with Session(engine) as session:
        rates = {(r.contract, r.skill): (r.hourly_rate_cents, r.callout_fee_cents, r.labor_covered)
                 for r in session.exec(select(Rate)).all()}  # fmt: skip
        assert rates[("gold", "hvac")] == (4550, 1000, False)
        assert rates[("care", "*")] == (7000, 2000, True)
        assert rates[("gold", "*")] == (5000, 0, False)
        assert [(p.sku, p.unit_price_cents) for p in session.exec(select(Part).order_by(Part.sku)).all()] == [
            ("FLT-20", 1240), ("VLV-3", 705),
        ]  # fmt: skip
    before = dump(engine)
    code, out, _ = dispatch(skilled, "import", "rates", str(write(tmp_path, "rates.csv", RATES)))
    assert "5 unchanged" in out
    assert dump(engine) == before
    changed = RATES.replace("gold,hvac,45.50", "gold,hvac,47.00")
    code, out, _ = dispatch(skilled, "import", "rates", str(write(tmp_path, "rates.csv", changed)))
    assert "0 created, 1 updated, 4 unchanged" in out


def test_bad_rate_and_part_rows_are_all_listed_and_nothing_lands(skilled: Path, tmp_path: Path, engine: Engine) -> None:
    before = dump(engine)
    bad_rates = (
        "contract,skill,hourly_rate,callout_fee,labor_covered\n"
        "none,*,60.00,25.00,false\n"
        "gold,welding,50,0,false\n"
        "gold,*,-1,0,maybe\n"
        "none,*,61.00,25.00,false\n"
    )
    code, _, err = dispatch(skilled, "import", "rates", str(write(tmp_path, "rates.csv", bad_rates)))
    assert code == 3
    lines = [line for line in err.splitlines() if line.startswith("rates.csv:")]
    assert lines == [
        "rates.csv: line 3, skill: no technician has skill 'welding' (known: boiler, hvac, plumbing, or *)",
        "rates.csv: line 4, hourly_rate: must be an amount such as 42.50 (at most two decimals, not negative), "
        "got '-1'",
        "rates.csv: line 4, labor_covered: must be true or false (yes/no, 1/0), got 'maybe'",
        "rates.csv: line 5, skill: duplicate of line 2 (none / *)",
    ]
    bad_parts = '[{"sku": "FLT-20", "name": "Filter", "unit_price": "12.401"},\n {"sku": "X", "unit_price": 3}]'
    code, _, err = dispatch(skilled, "import", "parts", str(write(tmp_path, "parts.json", bad_parts)))
    assert code == 3
    assert "parts.json: line 1, unit_price: must be an amount such as 42.50" in err
    assert "parts.json: line 2, name: a value is required" in err
    assert dump(engine) == before
