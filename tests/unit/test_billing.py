"""Billing to the cent: rates by precedence, billed minutes rounded up to 15, covered labour, parts, tax,
and the export that marks what it sent (csv, json, xlsx)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlmodel import Session
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.services.billing.invoicing import (
    BillingRejected,
    RateCard,
    amounts,
    billed_minutes,
    billing_lines,
    pick_rate,
    work_minutes,
)
from dispatch_tui.services.execution import lifecycle
from tests.clock import ZONE, iso
from tests.conftest import db_arg, dump
from tests.unit.workdata import DAY, at, call, load

D = Decimal
STANDARD = RateCard(hourly_rate_cents=6000, callout_fee_cents=2500, labor_covered=False)


@pytest.mark.parametrize(
    ("work", "billed", "labor"),
    [(0, 0, "0.00"), (1, 15, "15.00"), (15, 15, "15.00"), (16, 30, "30.00"), (50, 60, "60.00"), (61, 75, "75.00")],
)
def test_billed_minutes_round_up_to_the_next_quarter_hour(work: int, billed: int, labor: str) -> None:
    result = amounts(work, STANDARD, 0, D(0))
    assert (billed_minutes(work), result.billed_minutes, result.labor) == (billed, billed, D(labor))
    assert result.callout == D("25.00")


def test_each_amount_rounds_half_up_to_the_cent() -> None:
    # 0.10/h for 15 min = 0.025: half up gives 0.03 (banker's rounding would give 0.02)
    tiny = amounts(15, RateCard(10, 0, False), 0, D(0))
    assert tiny.labor == D("0.03")
    # 33.33/h for 45 min = 24.9975 → 25.00; subtotal 25.00 + 1.99 callout + 0.05 part = 27.04; 7.5 % = 2.028 → 2.03
    odd = amounts(31, RateCard(3333, 199, False), 5, D("0.075"))
    assert (odd.billed_minutes, odd.labor, odd.callout, odd.parts, odd.subtotal, odd.tax, odd.total) == (
        45, D("25.00"), D("1.99"), D("0.05"), D("27.04"), D("2.03"), D("29.07"),
    )  # fmt: skip


def test_covered_labour_bills_nothing_but_the_parts_and_their_tax() -> None:
    covered = amounts(67, RateCard(7000, 2000, True), 1240, D("0.2"))
    assert (covered.billed_minutes, covered.labor, covered.callout, covered.subtotal, covered.tax, covered.total) == (
        75, D("0.00"), D("0.00"), D("12.40"), D("2.48"), D("14.88"),
    )  # fmt: skip


def test_work_minutes_count_a_started_minute() -> None:
    assert work_minutes(at("09:30"), at("09:30")) == 0
    start = at("09:30")
    assert work_minutes(start, start.replace(second=1)) == 1
    assert work_minutes(start, at("09:45").replace(second=20)) == 16


def test_the_most_specific_rate_wins() -> None:
    card = {("gold", "hvac"): RateCard(1, 0, False), ("gold", "*"): RateCard(2, 0, False),
            ("none", "hvac"): RateCard(3, 0, False), ("none", "*"): RateCard(4, 0, False)}  # fmt: skip

    def hourly(contract: str | None, skill: str) -> int:
        rate = pick_rate(card, contract, skill)
        assert rate is not None, f"no rate for {contract} {skill}"
        return rate.hourly_rate_cents

    assert [hourly(c, s) for c, s in
            (("gold", "hvac"), ("gold", "boiler"), (None, "hvac"), ("silver", "hvac"), (None, "boiler"))] == [
        1, 2, 3, 3, 4,
    ]  # fmt: skip
    del card[("none", "*")]
    assert pick_rate(card, None, "boiler") is None


# --- the store ---------------------------------------------------------------------------------------

WORK = {  # ref: (on site, completed, parts)
    "R1": ("09:30", "10:20", [("FLT-20", 2)]),
    "R5": ("08:00", "08:01", []),
    "R2": ("13:00", "13:15", [("VLV-3", 3)]),
    "R3": ("11:00", "11:16", []),
    "R4": ("15:00", "16:07", [("FLT-20", 1)]),
}
# Worked out by hand from workdata.RATES and PARTS with tax 20 %:
EXPECTED = {  # ref: rate, contract, work, billed, labour, callout, parts, subtotal, tax, total
    "R5": ("80.00", "none", 1, 15, "20.00", "30.00", "0.00", "50.00", "10.00", "60.00"),  # (none, plumbing)
    "R1": ("60.00", "none", 50, 60, "60.00", "25.00", "24.80", "109.80", "21.96", "131.76"),  # (none, *)
    "R3": ("45.50", "gold", 16, 30, "22.75", "10.00", "0.00", "32.75", "6.55", "39.30"),  # (gold, hvac)
    "R2": ("50.00", "gold", 15, 15, "12.50", "0.00", "21.15", "33.65", "6.73", "40.38"),  # (gold, *)
    "R4": ("70.00", "care", 67, 75, "0.00", "0.00", "12.40", "12.40", "2.48", "14.88"),  # covered
}


@pytest.fixture
def worked(store_engine: Engine) -> Engine:
    load(store_engine)
    for ref, (arrive, done, parts) in WORK.items():
        for status, hhmm in (("dispatched", "07:30"), ("en_route", "07:40"), ("on_site", arrive)):
            call(store_engine, lifecycle.set_status, ref, status, at=at(hhmm))
        call(store_engine, lifecycle.complete, ref, at=at(done), parts=parts)
    return store_engine


def test_billing_lines_to_the_cent_for_every_kind_of_rate(worked: Engine) -> None:
    with Session(worked) as session:
        lines = billing_lines(session, DAY, DAY, zone=ZONE, tax_rate=D("0.2"))
    got = {
        line.job_ref: (str(line.amounts.hourly_rate), line.contract, line.work_minutes, line.amounts.billed_minutes,
                       *(str(getattr(line.amounts, k)) for k in ("labor", "callout", "parts", "subtotal", "tax",
                                                                  "total")))
        for line in lines
    }  # fmt: skip
    assert got == EXPECTED
    assert [line.job_ref for line in lines] == ["R5", "R1", "R3", "R2", "R4"]  # by completion time
    assert {line.technician_ref for line in lines if line.job_ref in ("R2", "R5")} == {"T2"}


def test_a_visit_without_a_rate_is_an_error_never_a_zero(worked: Engine) -> None:
    with worked.begin() as connection:
        connection.execute(text("DELETE FROM rate WHERE contract = 'none'"))
    with Session(worked) as session, pytest.raises(BillingRejected) as rejected:
        billing_lines(session, DAY, DAY, zone=ZONE, tax_rate=D(0))
    assert rejected.value.problems == [
        f"{ref}: no rate for contract 'none' and skill {skill!r} (nor *, nor a 'none' rate): import one with "
        "`dispatch import rates`"
        for ref, skill in (("R1", "boiler"), ("R5", "plumbing"))
    ]


def test_the_period_is_local_days(worked: Engine) -> None:
    with Session(worked) as session:
        after, before = DAY + timedelta(days=1), DAY - timedelta(days=1)
        assert billing_lines(session, after, after + timedelta(days=1), zone=ZONE, tax_rate=D(0)) == []
        assert len(billing_lines(session, before, DAY, zone=ZONE, tax_rate=D(0))) == 5


# --- the command -------------------------------------------------------------------------------------

runner = CliRunner()


def dispatch(db: Path | str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", str(db), "--timezone", "Europe/Paris", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


PERIOD = ("--from", DAY.isoformat(), "--to", DAY.isoformat())


def test_export_marks_what_it_sent_and_a_second_run_skips_it(worked: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISPATCH_TAX_RATE", "0.2")
    db = db_arg(worked)
    code, out, err = dispatch(db, "export", "billing", *PERIOD)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["job_ref"], r["total"], r["labor_covered"]) for r in rows] == [
        (ref, EXPECTED[ref][-1], "true" if ref == "R4" else "false") for ref in ("R5", "R1", "R3", "R2", "R4")
    ]
    assert rows[0]["completed_at"] == iso(DAY, "08:01")
    assert (rows[0]["customer_name"], rows[0]["skill"], rows[0]["outcome"]) == ("Claire Dubois", "plumbing",
                                                                                 "completed")  # fmt: skip
    assert "exported 5 visit(s), total 286.32" in err
    code, out, err = dispatch(db, "export", "billing", *PERIOD)
    assert (code, out.splitlines()[1:]) == (0, [])
    assert "nothing to export" in err
    code, out, _ = dispatch(db, "export", "billing", *PERIOD, "--include-exported", "--format", "json")
    assert code == 0
    assert [(r["job_ref"], r["tax"], r["billed_minutes"]) for r in json.loads(out)] == [
        (ref, EXPECTED[ref][-2], EXPECTED[ref][3]) for ref in ("R5", "R1", "R3", "R2", "R4")
    ]


def test_export_refused_when_a_visit_has_no_rate_marks_nothing(worked: Engine, tmp_path: Path) -> None:
    with worked.begin() as connection:
        connection.execute(text("DELETE FROM rate WHERE contract = 'gold' AND skill = '*'"))
        connection.execute(text("DELETE FROM rate WHERE contract = 'none'"))
    before = dump(worked)
    target = tmp_path / "billing.csv"
    code, _, err = dispatch(db_arg(worked), "export", "billing", *PERIOD, "-o", str(target))
    assert code == 3
    assert "cannot bill R2: no rate for contract 'gold' and skill 'plumbing'" in err
    assert "3 visit(s) cannot be billed: nothing was exported" in err
    assert not target.exists() and list(tmp_path.glob(".billing*")) == []
    assert dump(worked) == before


def test_xlsx_export_holds_the_same_lines_as_numbers(worked: Engine, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    db = db_arg(worked)
    target = tmp_path / "billing.xlsx"
    code, _, err = dispatch(db, "export", "billing", *PERIOD, "--format", "xlsx", "-o", str(target))
    assert code == 0, err
    sheet = load_workbook(target, read_only=True)["billing"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("job_ref", "customer_ref", "customer_name")
    total = header.index("total")
    assert [(r[0], r[total]) for r in rows[1:]] == [
        (ref, float(Decimal(EXPECTED[ref][-1]) / Decimal("1.2"))) for ref in ("R5", "R1", "R3", "R2", "R4")
    ]  # no tax setting here: the totals are the subtotals
    code, _, err = dispatch(db, "export", "billing", *PERIOD, "--format", "xlsx")
    assert code == 2 and "give -o FILE.xlsx" in err


def test_bad_period_is_a_usage_error(worked: Engine) -> None:
    after = (DAY + timedelta(days=1)).isoformat()
    code, _, err = dispatch(db_arg(worked), "export", "billing", "--from", after, "--to", DAY.isoformat())
    assert code == 2 and "is before --from" in err


@given(
    work=st.integers(min_value=0, max_value=24 * 60),
    hourly=st.integers(min_value=0, max_value=10_000_000),
    fee=st.integers(min_value=0, max_value=10_000_000),
    covered=st.booleans(),
    parts=st.integers(min_value=0, max_value=10**9),
    tax=st.decimals(min_value=0, max_value=1, places=4),
)
def test_amounts_always_add_up_in_whole_cents(work: int, hourly: int, fee: int, covered: bool, parts: int,
                                              tax: Decimal) -> None:  # fmt: skip
    a = amounts(work, RateCard(hourly, fee, covered), parts, tax)
    assert 0 <= a.billed_minutes - work < 15 and a.billed_minutes % 15 == 0
    assert a.subtotal == a.labor + a.callout + a.parts and a.total == a.subtotal + a.tax
    for value in (a.labor, a.callout, a.parts, a.subtotal, a.tax, a.total):
        assert value == value.quantize(D("0.01")) and value >= 0
    assert abs(a.labor - D(hourly) / 100 * a.billed_minutes / 60) <= D("0.005") or covered
    if covered:
        assert a.labor == a.callout == 0


# SQLite only: a settings test, refused before the store is read; the backend makes no difference.
def test_tax_rate_is_a_fraction_from_the_settings_file_or_the_environment(
    tmp_path: Path, db_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dispatch_tui.config import load_settings

    config = tmp_path / "config.toml"
    config.write_text("tax_rate = 0.2\n")
    monkeypatch.setenv("DISPATCH_CONFIG", str(config))
    assert load_settings().tax_rate == D("0.2")  # exactly, not the nearest double
    monkeypatch.setenv("DISPATCH_TAX_RATE", "20")
    code, _, err = dispatch(db_path, "export", "billing", *PERIOD)
    assert code == 2 and "tax_rate: Input should be less than or equal to 1" in err


def test_an_unwritable_file_fails_and_marks_nothing(worked: Engine, tmp_path: Path) -> None:
    before = dump(worked)
    code, _, err = dispatch(db_arg(worked), "export", "billing", *PERIOD, "-o", str(tmp_path / "missing" / "b.csv"))
    assert code == 1
    assert "cannot write" in err and "nothing was marked exported" in err
    assert dump(worked) == before
