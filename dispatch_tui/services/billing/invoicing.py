"""From finished visits to invoice lines: rates, billed time, parts, tax; the billing export's marks.

The rules, per finished visit:

- work minutes = on_site → completed, from the audit events (a started minute counts: 15 min 20 s is 16);
- billed minutes = work rounded UP to the next 15 (1 → 15, 15 → 15, 16 → 30);
- labour = hourly_rate × billed / 60, and the call-out fee; both 0 when the rate has labor_covered;
- parts = Σ quantity × unit price (the price recorded with the visit);
- subtotal = labour + call-out + parts; tax = subtotal × tax_rate; total = subtotal + tax;
- Decimal money, each amount rounded to the cent ROUND_HALF_UP.

The rate is the most specific line of the rate card: (customer's contract, skill) > (contract, ``*``) >
(``none``, skill) > (``none``, ``*``). A finished visit without a rate (or without an arrival time) is a
problem the export lists, never a silent zero: ``BillingRejected``, and nothing is marked exported.

A visit that ended needs_follow_up is billed like a completed one (its outcome column says which): the
technician drove and worked; the follow-up visit is a job of its own, billed when it is done.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, insert, select
from sqlmodel import Session

from dispatch_tui.domain import ANY_SKILL, FINISHED, NO_CONTRACT
from dispatch_tui.domain import JobStatus as S
from dispatch_tui.localtime import local_iso, local_period_bounds
from dispatch_tui.store.models import (
    Appointment,
    BillingExport,
    Customer,
    Job,
    JobEvent,
    JobPart,
    Rate,
    Skill,
    Technician,
)

CENT = Decimal("0.01")
BILLING_STEP_MINUTES = 15
COLUMNS = (
    "job_ref", "customer_ref", "customer_name", "technician_ref", "completed_at", "outcome", "skill", "contract",
    "work_minutes", "billed_minutes", "hourly_rate", "labor_covered", "labor", "callout", "parts", "subtotal",
    "tax", "total",
)  # fmt: skip
MONEY = ("hourly_rate", "labor", "callout", "parts", "subtotal", "tax", "total")

T_JOB = Job.__table__  # type: ignore[attr-defined]
T_EVENT = JobEvent.__table__  # type: ignore[attr-defined]
T_CUSTOMER = Customer.__table__  # type: ignore[attr-defined]
T_SKILL = Skill.__table__  # type: ignore[attr-defined]
T_APPOINTMENT = Appointment.__table__  # type: ignore[attr-defined]
T_TECH = Technician.__table__  # type: ignore[attr-defined]
T_PART_USE = JobPart.__table__  # type: ignore[attr-defined]
T_RATE = Rate.__table__  # type: ignore[attr-defined]
T_EXPORT = BillingExport.__table__  # type: ignore[attr-defined]


class BillingRejected(Exception):
    """Finished visits that cannot be billed; nothing was exported or marked."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} visit(s) cannot be billed")


@dataclass(frozen=True, slots=True)
class RateCard:
    hourly_rate_cents: int
    callout_fee_cents: int
    labor_covered: bool


@dataclass(frozen=True, slots=True)
class Amounts:
    billed_minutes: int
    hourly_rate: Decimal
    labor: Decimal
    callout: Decimal
    parts: Decimal
    subtotal: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class BillLine:
    job_id: int
    job_ref: str
    customer_ref: str
    customer_name: str
    technician_ref: str
    completed_at: datetime
    outcome: str
    skill: str
    contract: str
    work_minutes: int
    labor_covered: bool
    amounts: Amounts

    def values(self, zone: ZoneInfo) -> dict[str, Any]:
        """The line's columns (COLUMNS order): money as Decimal, the time as local ISO 8601."""
        a = self.amounts
        return {
            "job_ref": self.job_ref, "customer_ref": self.customer_ref, "customer_name": self.customer_name,
            "technician_ref": self.technician_ref, "completed_at": local_iso(self.completed_at, zone),
            "outcome": self.outcome, "skill": self.skill, "contract": self.contract,
            "work_minutes": self.work_minutes, "billed_minutes": a.billed_minutes, "hourly_rate": a.hourly_rate,
            "labor_covered": self.labor_covered, "labor": a.labor, "callout": a.callout, "parts": a.parts,
            "subtotal": a.subtotal, "tax": a.tax, "total": a.total,
        }  # fmt: skip


@lru_cache(maxsize=4096)  # rates, fees and part totals repeat across thousands of lines
def money(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def round_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def billed_minutes(work_minutes: int) -> int:
    """Work rounded up to the next 15 minutes (0 stays 0)."""
    return -(-work_minutes // BILLING_STEP_MINUTES) * BILLING_STEP_MINUTES


def work_minutes(on_site: datetime, completed: datetime) -> int:
    """Whole minutes from arrival to completion; a started minute counts."""
    seconds = (completed - on_site).total_seconds()
    return max(0, -int(-seconds // 60))


def amounts(work: int, rate: RateCard, parts_cents: int, tax_rate: Decimal) -> Amounts:
    billed = billed_minutes(work)
    hourly = money(rate.hourly_rate_cents)
    if rate.labor_covered:
        labor, callout = Decimal("0.00"), Decimal("0.00")
    else:
        labor = round_cents(hourly * billed / 60)
        callout = money(rate.callout_fee_cents)
    parts = money(parts_cents)
    subtotal = labor + callout + parts
    tax = round_cents(subtotal * tax_rate)
    return Amounts(billed, hourly, labor, callout, parts, subtotal, tax, subtotal + tax)


def pick_rate(rates: dict[tuple[str, str], RateCard], contract: str | None, skill: str) -> RateCard | None:
    """The most specific rate: (contract, skill) > (contract, *) > (none, skill) > (none, *)."""
    name = contract or NO_CONTRACT
    for key in ((name, skill), (name, ANY_SKILL), (NO_CONTRACT, skill), (NO_CONTRACT, ANY_SKILL)):
        if key in rates:
            return rates[key]
    return None


def load_rates(session: Session) -> dict[tuple[str, str], RateCard]:
    rows = session.connection().execute(select(T_RATE))
    return {(r.contract, r.skill): RateCard(r.hourly_rate_cents, r.callout_fee_cents, r.labor_covered) for r in rows}


def billing_lines(
    session: Session,
    first: date,
    last: date,
    *,
    zone: ZoneInfo,
    tax_rate: Decimal,
    include_exported: bool = False,
) -> list[BillLine]:
    """The invoice lines of the visits finished in [first, last] (local days), not yet exported unless asked.

    Raises ``BillingRejected`` listing every visit that cannot be billed.
    """
    conn = session.connection()
    start, end = local_period_bounds(first, last, zone)
    done = T_EVENT.alias("done")
    finished = and_(
        done.c.to_status.in_(FINISHED),
        done.c.from_status == S.ON_SITE.value,
        done.c.at >= start,
        done.c.at < end,
        T_JOB.c.status.in_(FINISHED),
    )
    query = (
        select(
            T_JOB.c.id, T_JOB.c.ref, T_JOB.c.status, done.c.at, T_CUSTOMER.c.ref.label("customer_ref"),
            T_CUSTOMER.c.name.label("customer_name"), T_CUSTOMER.c.contract, T_SKILL.c.name.label("skill"),
            T_TECH.c.ref.label("technician_ref"),
        )
        .select_from(T_JOB)
        .join(done, done.c.job_id == T_JOB.c.id)
        .join(T_CUSTOMER, T_CUSTOMER.c.id == T_JOB.c.customer_id)
        .join(T_SKILL, T_SKILL.c.id == T_JOB.c.skill_id)
        .outerjoin(T_APPOINTMENT, T_APPOINTMENT.c.job_id == T_JOB.c.id)
        .outerjoin(T_TECH, T_TECH.c.id == T_APPOINTMENT.c.technician_id)
        .where(finished)
        .order_by(done.c.at, T_JOB.c.ref)
    )  # fmt: skip
    if not include_exported:
        query = query.where(~select(T_EXPORT.c.job_id).where(T_EXPORT.c.job_id == T_JOB.c.id).exists())
    rows = conn.execute(query).all()
    ids = select(T_JOB.c.id).join(done, done.c.job_id == T_JOB.c.id).where(finished)
    arrived: dict[int, datetime] = dict(
        conn.execute(
            select(T_EVENT.c.job_id, func.max(T_EVENT.c.at))
            .where(T_EVENT.c.to_status == S.ON_SITE.value, T_EVENT.c.job_id.in_(ids))
            .group_by(T_EVENT.c.job_id)
        ).all()
    )
    parts: dict[int, int] = dict(
        conn.execute(
            select(T_PART_USE.c.job_id, func.sum(T_PART_USE.c.quantity * T_PART_USE.c.unit_price_cents))
            .where(T_PART_USE.c.job_id.in_(ids))
            .group_by(T_PART_USE.c.job_id)
        ).all()
    )
    rates = load_rates(session)
    lines: list[BillLine] = []
    problems: list[str] = []
    picked: dict[tuple[str | None, str], RateCard | None] = {}
    for row in rows:
        key = (row.contract, row.skill)
        rate = picked[key] if key in picked else picked.setdefault(key, pick_rate(rates, *key))
        on_site = arrived.get(row.id)
        contract = row.contract or NO_CONTRACT
        if rate is None:
            problems.append(
                f"{row.ref}: no rate for contract {contract!r} and skill {row.skill!r} (nor {ANY_SKILL}, nor a "
                f"{NO_CONTRACT!r} rate): import one with `dispatch import rates`"
            )
            continue
        if on_site is None or on_site > row.at:
            problems.append(f"{row.ref}: no arrival (on_site) time before its completion: the work cannot be timed")
            continue
        work = work_minutes(on_site, row.at)
        due = amounts(work, rate, int(parts.get(row.id) or 0), tax_rate)
        lines.append(
            BillLine(
                row.id, row.ref, row.customer_ref, row.customer_name, row.technician_ref or "", row.at, row.status,
                row.skill, contract, work, rate.labor_covered, due,
            )
        )  # fmt: skip
    if problems:
        raise BillingRejected(sorted(problems))
    return lines


def mark_exported(session: Session, lines: Sequence[BillLine], *, actor: str, at: datetime) -> None:
    """Mark the lines' jobs exported (again, with ``--include-exported``: the newest export's time wins)."""
    conn = session.connection()
    ids = [line.job_id for line in lines]
    for start in range(0, len(ids), 5_000):
        chunk = ids[start : start + 5_000]
        conn.execute(T_EXPORT.delete().where(T_EXPORT.c.job_id.in_(chunk)))
        conn.execute(insert(T_EXPORT), [{"job_id": job_id, "exported_at": at, "actor": actor} for job_id in chunk])


def totals(lines: Iterable[BillLine]) -> dict[str, Decimal]:
    result = dict.fromkeys(("labor", "callout", "parts", "subtotal", "tax", "total"), Decimal("0.00"))
    for line in lines:
        for key in result:
            result[key] += getattr(line.amounts, key)
    return result


# --- writing -----------------------------------------------------------------------------------------


def write_csv(lines: Sequence[BillLine], out: TextIO, zone: ZoneInfo) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in lines:
        values = line.values(zone)
        values["labor_covered"] = "true" if line.labor_covered else "false"
        writer.writerow([values[column] for column in COLUMNS])


def write_json(lines: Sequence[BillLine], out: TextIO, zone: ZoneInfo) -> None:
    """A JSON array, one line object per text line, written as it goes (100,000 lines built as one
    document first took twice the memory of the CSV). Money as strings ("12.50"): exact, unlike JSON
    numbers read as floats."""
    out.write("[")
    for n, line in enumerate(lines):
        values = line.values(zone)
        row = {key: str(value) if key in MONEY else value for key, value in values.items()}
        out.write(("\n  " if n == 0 else ",\n  ") + json.dumps(row, ensure_ascii=False))
    out.write("\n]\n" if lines else "]\n")


def write_xlsx(lines: Sequence[BillLine], path: Path, zone: ZoneInfo) -> None:
    """One sheet, a header row, money as numbers shown with two decimals, the time as a local date-time.

    XlsxWriter in constant-memory mode: rows go to disk as they are written, so memory stays flat.
    """
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("billing")
    cents = book.add_format({"num_format": "0.00"})
    clock = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, COLUMNS)
    text, number, moment, flag = sheet.write_string, sheet.write_number, sheet.write_datetime, sheet.write_boolean
    for r, line in enumerate(lines, start=1):
        a = line.amounts
        text(r, 0, line.job_ref)
        text(r, 1, line.customer_ref)
        text(r, 2, line.customer_name)
        text(r, 3, line.technician_ref)
        moment(r, 4, line.completed_at.astimezone(zone).replace(tzinfo=None), clock)
        text(r, 5, line.outcome)
        text(r, 6, line.skill)
        text(r, 7, line.contract)
        number(r, 8, line.work_minutes)
        number(r, 9, a.billed_minutes)
        number(r, 10, float(a.hourly_rate), cents)
        flag(r, 11, line.labor_covered)
        for column, amount in enumerate((a.labor, a.callout, a.parts, a.subtotal, a.tax, a.total), start=12):
            number(r, column, float(amount), cents)  # exact: every amount has two decimals and fits a double
    book.close()
