"""`dispatch export billing|timesheets`: invoice lines and time sheets for a period, for other systems."""

from __future__ import annotations

import os
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO
from zoneinfo import ZoneInfo

import typer

from cli import exit_codes
from cli.context import app_context
from cli.dates import parse_day
from cli.output import fail, stderr, stdout

if TYPE_CHECKING:
    from collections.abc import Sequence

    from dispatch_tui.services.billing.invoicing import BillLine

app = typer.Typer(help="Billing lines and time sheets for a period.", no_args_is_help=True)

From = Annotated[str, typer.Option("--from", help="First day: YYYY-MM-DD, today or yesterday.")]
To = Annotated[str, typer.Option("--to", help="Last day, included: YYYY-MM-DD, today or yesterday.")]
Out = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")]


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


def parse_period(first: str, last: str, zone: ZoneInfo) -> tuple[date, date]:
    start, end = parse_day(first, zone, "--from"), parse_day(last, zone, "--to")
    if end < start:
        fail(f"--to {end} is before --from {start}", exit_codes.USAGE)
    return start, end


@app.command("billing")
def billing(
    ctx: typer.Context,
    first: From,
    last: To,
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="csv, json or xlsx (xlsx needs -o).")] = (
        ExportFormat.CSV
    ),
    output: Out = None,
    include_exported: Annotated[
        bool, typer.Option("--include-exported", help="Repeat visits an earlier export already sent.")
    ] = False,
) -> None:
    """One line per visit finished in the period (completed or needs_follow_up), with its amounts.

    Exported visits are marked: the next export skips them unless --include-exported. A visit that
    cannot be billed (no rate for its contract and skill, no arrival time) is listed and nothing is
    exported or marked (exit 3). The file is written whole or not at all.
    """
    from dispatch_tui.services.billing.invoicing import BillingRejected, totals

    if fmt is ExportFormat.XLSX and output is None:
        fail("--format xlsx writes a file: give -o FILE.xlsx", exit_codes.USAGE)
    context = app_context(ctx)
    zone = context.settings.zone
    period = parse_period(first, last, zone)
    core = context.core()
    temp = None if output is None else output.with_name(f".{output.name}.{os.getpid()}.part")
    try:
        # The file is written whole before the lines are marked, and takes its name once they are.
        with core.billing_export(*period, include_exported=include_exported) as lines:
            _write(lines, fmt, sys.stdout if temp is None else None, temp, zone)
        if temp is not None and output is not None:
            os.replace(temp, output)
            temp = None
    except BillingRejected as rejected:
        for problem in rejected.problems:
            stderr.print(f"cannot bill {problem}", highlight=False, markup=False, soft_wrap=True)
        fail(f"{len(rejected.problems)} visit(s) cannot be billed: nothing was exported", exit_codes.REJECTED)
    except OSError as exc:
        fail(f"cannot write {output or 'stdout'}: {exc.strerror or exc}; nothing was marked exported")
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
    sums = totals(lines)
    message = f"exported {len(lines):,} visit(s), total {sums['total']}" + (f" to {output}" if output else "")
    if not lines:
        message = "nothing to export: no finished visit in the period" + (
            "" if include_exported else " that was not exported already (--include-exported repeats them)"
        )
    stderr.print(message, highlight=False, markup=False)


def _write(
    lines: Sequence[BillLine], fmt: ExportFormat, stream: TextIO | None, path: Path | None, zone: ZoneInfo
) -> None:
    from dispatch_tui.services.billing import invoicing as billing

    if fmt is ExportFormat.XLSX:
        assert path is not None
        billing.write_xlsx(lines, path, zone)
        return
    if path is not None:
        with path.open("w", encoding="utf-8", newline="") as out:
            _write(lines, fmt, out, None, zone)
        return
    assert stream is not None
    if fmt is ExportFormat.CSV:
        billing.write_csv(lines, stream, zone)
    else:
        billing.write_json(lines, stream, zone)


class SheetFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


@app.command("timesheets")
def timesheets(
    ctx: typer.Context,
    first: From,
    last: To,
    fmt: Annotated[SheetFormat, typer.Option("--format", "-f", help="table, csv or json.")] = SheetFormat.TABLE,
    output: Out = None,
) -> None:
    """Per technician and day, in minutes: shift, travel, work, break, idle, overtime (from the status events).

    Travel runs from en_route to on_site, work from on_site to the end of the visit; idle is the shift
    less break, travel and work; overtime is travel and work outside the shift hours.
    """
    import csv
    import io
    import json

    from dispatch_tui.services.billing import timesheets as sheets_service

    context = app_context(ctx)
    period = parse_period(first, last, context.settings.zone)
    sheets = context.core().timesheets(*period)
    rows = [sheet.as_dict() for sheet in sheets]
    if fmt is SheetFormat.TABLE and output is None:
        from rich.table import Table

        table = Table(*sheets_service.COLUMNS[:1], *sheets_service.COLUMNS[2:], box=None)
        for row in rows:
            table.add_row(*(str(row[column]) for column in sheets_service.COLUMNS if column != "technician_name"))
        stdout.print(table)
        return
    if fmt is SheetFormat.JSON:
        text = json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=sheets_service.COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    if output is None:
        sys.stdout.write(text)
        return
    temp = output.with_name(f".{output.name}.{os.getpid()}.part")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, output)
    except OSError as exc:
        temp.unlink(missing_ok=True)  # a half-written file is no time sheet
        fail(f"cannot write {output}: {exc.strerror or exc}")
    stderr.print(f"wrote {len(rows)} time sheet line(s) to {output}", highlight=False, markup=False)
