"""Execution to invoice on PostgreSQL: the same amounts, marks, time sheets and KPIs as on SQLite."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session

from dispatch_tui.services.billing.invoicing import billing_lines, mark_exported
from dispatch_tui.services.billing.timesheets import timesheets
from dispatch_tui.services.execution import lifecycle
from dispatch_tui.services.reports.kpi import kpis
from dispatch_tui.store import make_engine, upgrade
from tests.clock import ZONE
from tests.unit.test_billing import EXPECTED, WORK
from tests.unit.workdata import AFTER, DAY, at, call, load


def test_billing_timesheets_and_kpis_on_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    load(engine)
    for ref, (arrive, done, parts) in WORK.items():
        for status, hhmm in (("dispatched", "07:30"), ("en_route", "07:40"), ("on_site", arrive)):
            call(engine, lifecycle.set_status, ref, status, at=at(hhmm))
        call(engine, lifecycle.complete, ref, at=at(done), parts=parts)
    with Session(engine) as session:
        lines = billing_lines(session, DAY, DAY, zone=ZONE, tax_rate=Decimal("0.2"))
        assert {line.job_ref: str(line.amounts.total) for line in lines} == {
            ref: figures[-1] for ref, figures in EXPECTED.items()
        }
        mark_exported(session, lines, actor="pg", at=AFTER)
        session.commit()
    with Session(engine) as session:
        assert billing_lines(session, DAY, DAY, zone=ZONE, tax_rate=Decimal("0.2")) == []
        sheets = {s.technician_ref: s for s in timesheets(session, DAY, DAY, zone=ZONE, now=AFTER)}
        # T2: R5 08:00–08:01 and R2 13:00–13:15 at work, each after 07:40–arrival en route
        assert (sheets["T2"].work, sheets["T2"].travel) == (1 + 15, 20 + 320)
        report = kpis(session, DAY, DAY, zone=ZONE, now=AFTER)
        assert report["overall"]["visits_finished"] == 5
        assert report["overall"]["first_time_fix_pct"] == 100.0
    engine.dispose()
