"""The import schemas (docs/import-files.md): which columns each kind has, how each value is read, and the checks
that span columns. A record becomes a typed row or a list of ``RowError``s saying what to fix."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from dispatch_tui.domain import ANY_SKILL, ImportKind, JobSource
from dispatch_tui.localtime import format_clock, parse_clock, parse_datetime
from dispatch_tui.services.intake.imports.reading import Record, RowError


@dataclass(frozen=True, slots=True)
class TechnicianRow:
    line: int
    ref: str
    name: str
    skills: tuple[str, ...]
    home_lat: float
    home_lon: float
    shift_start: int
    shift_end: int
    break_start: int | None
    break_minutes: int
    hourly_cost_cents: int
    phone: str
    email: str
    territory: str | None


@dataclass(frozen=True, slots=True)
class CustomerRow:
    line: int
    ref: str
    name: str
    address: str
    lat: float
    lon: float
    phone: str
    email: str
    contract: str | None


@dataclass(frozen=True, slots=True)
class RequestRow:
    line: int
    ref: str
    customer_ref: str
    skill: str
    duration_min: int
    priority: int
    window_start: datetime
    window_end: datetime
    due_by: datetime | None
    description: str
    source: str
    lat: float | None
    lon: float | None
    address: str | None


@dataclass(frozen=True, slots=True)
class AbsenceRow:
    line: int
    technician_ref: str
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class RateRow:
    line: int
    contract: str
    skill: str
    hourly_rate_cents: int
    callout_fee_cents: int
    labor_covered: bool


@dataclass(frozen=True, slots=True)
class PartRow:
    line: int
    sku: str
    name: str
    unit_price_cents: int


Row = TechnicianRow | CustomerRow | RequestRow | AbsenceRow | RateRow | PartRow
Parser = Callable[[str], Any]

_SKILL_NAME = re.compile(r"^[a-z0-9][a-z0-9 _./+-]{0,63}$")


def _text(limit: int) -> Parser:
    def parse(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"is {len(value)} characters long, at most {limit} fit")
        return value

    return parse


def _whole(low: int, high: int, unit: str = "") -> Parser:
    expected = f"a whole number{unit} from {low} to {high}"

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"must be {expected}, got {value!r}") from None
        if not low <= number <= high:
            raise ValueError(f"must be {expected}, got {number}")
        return number

    return parse


def _priority(value: str) -> int:
    if value not in ("1", "2", "3", "4"):
        raise ValueError(f"must be 1 (emergency), 2, 3 or 4 (low), got {value!r}")
    return int(value)


def _degrees(limit: float) -> Parser:
    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"must be a number of degrees, got {value!r}") from None
        if not -limit <= number <= limit:  # also refuses nan
            raise ValueError(f"must lie between -{limit:g} and {limit:g} degrees, got {value}")
        return number

    return parse


def _clock(value: str) -> int:
    return parse_clock(value)


def _money_cents(value: str) -> int:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"must be an amount such as 42.50, got {value!r}") from None
    # Range first: quantize() of a huge value raises instead of answering.
    if not amount.is_finite() or not 0 <= amount <= 100_000 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"must be an amount such as 42.50 (at most two decimals, not negative), got {value!r}")
    return int(amount * 100)


def _skill_name(value: str) -> str:
    name = value.lower()
    if not _SKILL_NAME.match(name):
        raise ValueError(f"{value!r} is not a skill name (letters, digits, space, - _ . / +; at most 64)")
    return name


def _skill_list(value: str) -> tuple[str, ...]:
    names = [part.strip() for part in value.split(";") if part.strip()]
    if not names:
        raise ValueError("needs at least one skill")
    return tuple(dict.fromkeys(_skill_name(name) for name in names))


def _rate_skill(value: str) -> str:
    return ANY_SKILL if value == ANY_SKILL else _skill_name(value)


_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


def _yes_no(value: str) -> bool:
    word = value.lower()
    if word not in _TRUE | _FALSE:
        raise ValueError(f"must be true or false (yes/no, 1/0), got {value!r}")
    return word in _TRUE


def _email(value: str) -> str:
    if len(value) > 200 or " " in value or value.count("@") != 1 or value.startswith("@") or value.endswith("@"):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


def _source(value: str) -> str:
    try:
        return JobSource(value.lower()).value
    except ValueError:
        raise ValueError(f"must be one of {', '.join(s.value for s in JobSource)}, got {value!r}") from None


def _moment(zone: ZoneInfo) -> Parser:
    def parse(value: str) -> datetime:
        try:
            return parse_datetime(value, zone)
        except OverflowError:
            raise ValueError(f"{value!r} is outside the range of dates this tool handles") from None
        except ValueError as exc:
            message = str(exc)
            if "does not exist" in message or "ambiguous" in message:
                raise
            raise ValueError(f"must be an ISO 8601 date and time such as 2026-12-01T09:00, got {value!r}") from None

    return parse


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    parse: Parser
    required: bool = True
    default: Any = None


def columns_for(kind: ImportKind, zone: ZoneInfo) -> tuple[Column, ...]:
    ref = _text(64)
    moment = _moment(zone)
    if kind is ImportKind.TECHNICIANS:
        return (
            Column("ref", ref),
            Column("name", _text(200)),
            Column("skills", _skill_list),
            Column("home_lat", _degrees(90)),
            Column("home_lon", _degrees(180)),
            Column("shift_start", _clock),
            Column("shift_end", _clock),
            Column("break_start", _clock, required=False),
            Column("break_minutes", _whole(0, 240), required=False, default=0),
            Column("hourly_cost", _money_cents, required=False, default=0),
            Column("phone", _text(64), required=False, default=""),
            Column("email", _email, required=False, default=""),
            Column("territory", _text(100), required=False),
        )
    if kind is ImportKind.CUSTOMERS:
        return (
            Column("ref", ref),
            Column("name", _text(200)),
            Column("address", _text(300), required=False, default=""),
            Column("lat", _degrees(90)),
            Column("lon", _degrees(180)),
            Column("phone", _text(64), required=False, default=""),
            Column("email", _email, required=False, default=""),
            Column("contract", _text(100), required=False),
        )
    if kind is ImportKind.REQUESTS:
        return (
            Column("ref", ref),
            Column("customer_ref", ref),
            Column("skill", _skill_name),
            Column("duration_min", _whole(1, 24 * 60, " of minutes")),
            Column("priority", _priority),
            Column("window_start", moment),
            Column("window_end", moment),
            Column("due_by", moment, required=False),
            Column("description", _text(2000), required=False, default=""),
            Column("source", _source),
            Column("lat", _degrees(90), required=False),
            Column("lon", _degrees(180), required=False),
            Column("address", _text(300), required=False),
        )
    if kind is ImportKind.RATES:
        return (
            # The contract a customer names (customers.contract), or `none` for customers without one.
            Column("contract", _text(100)),
            Column("skill", _rate_skill),
            Column("hourly_rate", _money_cents),
            Column("callout_fee", _money_cents, required=False, default=0),
            Column("labor_covered", _yes_no, required=False, default=False),
        )
    if kind is ImportKind.PARTS:
        return (Column("sku", ref), Column("name", _text(200)), Column("unit_price", _money_cents))
    return (
        Column("technician_ref", ref),
        Column("start", moment),
        Column("end", moment),
        Column("reason", _text(200), required=False, default=""),
    )


def parse_record(kind: ImportKind, columns: tuple[Column, ...], record: Record) -> tuple[Row | None, list[RowError]]:
    errors: list[RowError] = []
    values: dict[str, Any] = {}
    for column in columns:
        text = record.values.get(column.name)
        if text is None:
            if column.required:
                errors.append(RowError(record.line, column.name, "a value is required"))
            values[column.name] = column.default
            continue
        try:
            values[column.name] = column.parse(text)
        except ValueError as exc:
            errors.append(RowError(record.line, column.name, str(exc)))
    if errors:
        return None, errors
    return _build(kind, record.line, values)


def _build(kind: ImportKind, line: int, v: dict[str, Any]) -> tuple[Row | None, list[RowError]]:
    problems: list[tuple[str, str]] = []
    if kind is ImportKind.TECHNICIANS:
        if v["shift_end"] <= v["shift_start"]:
            problems.append(
                (
                    "shift_end",
                    f"{format_clock(v['shift_end'])} is not after shift_start "
                    f"{format_clock(v['shift_start'])} (overnight shifts are not supported)",
                )
            )
        elif v["break_start"] is not None:
            if not v["shift_start"] <= v["break_start"] < v["shift_end"]:
                problems.append(("break_start", f"{format_clock(v['break_start'])} is outside the shift"))
            elif v["break_start"] + v["break_minutes"] > v["shift_end"]:
                problems.append(("break_minutes", "the break would run past shift_end"))
        elif v["break_minutes"]:
            problems.append(("break_start", "is required when break_minutes is given"))
        row: Row = TechnicianRow(line=line, hourly_cost_cents=v.pop("hourly_cost"), **v)
    elif kind is ImportKind.CUSTOMERS:
        row = CustomerRow(line=line, **v)
    elif kind is ImportKind.REQUESTS:
        if v["window_end"] <= v["window_start"]:
            problems.append(("window_end", "the window ends before (or when) it starts"))
        if (v["lat"] is None) != (v["lon"] is None):
            problems.append(("lat" if v["lat"] is None else "lon", "lat and lon go together: give both or neither"))
        if v["due_by"] is not None and v["due_by"] < v["window_start"]:
            problems.append(("due_by", "is before the window starts"))
        row = RequestRow(line=line, **v)
    elif kind is ImportKind.RATES:
        row = RateRow(
            line=line,
            contract=v["contract"],
            skill=v["skill"],
            hourly_rate_cents=v["hourly_rate"],
            callout_fee_cents=v["callout_fee"],
            labor_covered=v["labor_covered"],
        )
    elif kind is ImportKind.PARTS:
        row = PartRow(line=line, sku=v["sku"], name=v["name"], unit_price_cents=v["unit_price"])
    else:
        if v["end"] <= v["start"]:
            problems.append(("end", "the absence ends before (or when) it starts"))
        row = AbsenceRow(line=line, **v)
    if problems:
        return None, [RowError(line, column, reason) for column, reason in problems]
    return row, []


def row_key(row: Row) -> str:
    """What identifies a row in its file (duplicates are refused)."""
    if isinstance(row, AbsenceRow):
        return f"{row.technician_ref} {row.start.isoformat()}–{row.end.isoformat()}"
    if isinstance(row, RateRow):
        return f"{row.contract} / {row.skill}"
    if isinstance(row, PartRow):
        return row.sku
    return row.ref


# The column a duplicate row is reported on, by kind (default: ref).
KEY_COLUMN = {ImportKind.ABSENCES: "technician_ref", ImportKind.RATES: "skill", ImportKind.PARTS: "sku"}
