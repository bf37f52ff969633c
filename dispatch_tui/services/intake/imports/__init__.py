"""Batch import of technicians, customers, requests, absences, rates and parts (columns in docs/import-files.md).

A file lands whole or not at all: every row is validated and every reference resolved before anything
is written, all in one transaction; any problem raises ``ImportRejected`` with every ``RowError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from dispatch_tui.domain import AlertKind, FileFormat, ImportKind
from dispatch_tui.services.intake.imports.reading import RowError, decode, format_from_path, read_records
from dispatch_tui.services.intake.imports.rows import (
    KEY_COLUMN,
    AbsenceRow,
    CustomerRow,
    PartRow,
    RateRow,
    RequestRow,
    Row,
    TechnicianRow,
    columns_for,
    parse_record,
    row_key,
)
from dispatch_tui.services.intake.imports.writing import (
    Counts,
    write_absences,
    write_customers,
    write_parts,
    write_rates,
    write_requests,
    write_technicians,
)
from dispatch_tui.services.planning.promises import BrokenPromise, broken_promises

__all__ = ["FileFormat", "ImportKind", "ImportRejected", "ImportReport", "RowError", "format_from_path", "import_data"]


class ImportRejected(Exception):
    """The file was refused; nothing of it was written."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = sorted(errors)
        super().__init__(f"{len(self.errors)} problem(s) in the file")


@dataclass(frozen=True)
class ImportReport:
    kind: ImportKind
    rows: int
    created: int
    updated: int
    unchanged: int
    dry_run: bool
    # Planned visits the changes leave outside their window, too short or without the skill: kept, and named.
    broken_promises: tuple[BrokenPromise, ...] = field(default=())


def import_data(
    engine: Engine,
    kind: ImportKind,
    data: bytes,
    fmt: FileFormat,
    *,
    zone: ZoneInfo,
    working_days: list[int],
    actor: str = "import",
    dry_run: bool = False,
    on_progress: Callable[[str, int], None] | None = None,
) -> ImportReport:
    """Validate ``data`` and upsert its rows by ref in one transaction (rolled back on ``dry_run``).

    ``on_progress(stage, rows)`` feeds progress bars: ("reading", rows read so far) every 1,000 rows,
    then ("writing", rows to write) once.
    """
    rows, errors = parse_rows(kind, data, fmt, zone, on_progress)
    if on_progress is not None:
        on_progress("writing", len(rows))
    with Session(engine) as session:
        try:
            # Rows that parsed are still resolved against the store, so one run reports every problem.
            counts = _write(session, kind, rows, working_days, actor, errors)
            if errors:
                raise ImportRejected(errors)
            broken = _broken_promises(session, kind, counts, zone)
            if dry_run:
                session.rollback()
            else:
                session.commit()
        except BaseException:
            session.rollback()
            raise
    return ImportReport(kind, len(rows), counts.created, counts.updated, counts.unchanged, dry_run, broken)


def _broken_promises(session: Session, kind: ImportKind, counts: Counts, zone: ZoneInfo) -> tuple[BrokenPromise, ...]:
    """The planned visits of what this import changed that no longer keep their promise (a new window, a
    longer duration, a skill the technician lacks), read in the import's own transaction."""
    if not counts.updated_refs:
        return ()
    if kind is ImportKind.REQUESTS:
        return tuple(broken_promises(session, zone, job_refs=counts.updated_refs))
    if kind is ImportKind.TECHNICIANS:
        found = broken_promises(session, zone, tech_refs=counts.updated_refs)
        return tuple(promise for promise in found if promise.kind == AlertKind.SKILL_MISSING)
    return ()


def parse_rows(
    kind: ImportKind,
    data: bytes,
    fmt: FileFormat,
    zone: ZoneInfo,
    on_progress: Callable[[str, int], None] | None = None,
) -> tuple[list[Row], list[RowError]]:
    """The rows of the file that parse, and every problem found in the others."""
    text, problem = decode(data)
    if text is None:
        return [], [problem] if problem else []
    columns = columns_for(kind, zone)
    errors: list[RowError] = []
    rows: list[Row] = []
    first_line: dict[str, int] = {}
    known = [column.name for column in columns]
    required = {column.name for column in columns if column.required}
    for count, record in enumerate(read_records(text, fmt, known, required, errors), start=1):
        row, row_errors = parse_record(kind, columns, record)
        errors.extend(row_errors)
        if row is not None:
            key = row_key(row)
            if key in first_line:
                column = KEY_COLUMN.get(kind, "ref")
                errors.append(RowError(row.line, column, f"duplicate of line {first_line[key]} ({key})"))
            else:
                first_line[key] = row.line
                rows.append(row)
        if on_progress is not None and count % 1000 == 0:
            on_progress("reading", count)
    return rows, errors


def _write(
    session: Session, kind: ImportKind, rows: list[Row], working_days: list[int], actor: str, errors: list[RowError]
) -> Counts:
    if kind is ImportKind.TECHNICIANS:
        return write_technicians(session, [r for r in rows if isinstance(r, TechnicianRow)], working_days)
    if kind is ImportKind.CUSTOMERS:
        return write_customers(session, [r for r in rows if isinstance(r, CustomerRow)])
    if kind is ImportKind.REQUESTS:
        return write_requests(session, [r for r in rows if isinstance(r, RequestRow)], actor, errors)
    if kind is ImportKind.RATES:
        return write_rates(session, [r for r in rows if isinstance(r, RateRow)], errors)
    if kind is ImportKind.PARTS:
        return write_parts(session, [r for r in rows if isinstance(r, PartRow)])
    return write_absences(session, [r for r in rows if isinstance(r, AbsenceRow)], errors)
