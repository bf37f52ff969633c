"""`dispatch import KIND FILE`: batch import, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli import exit_codes
from cli.context import app_context, refusals
from cli.output import fail, print_json, stderr, stdout
from dispatch_tui.domain import FileFormat, ImportKind

if TYPE_CHECKING:
    from collections.abc import Callable

PROGRESS_FROM_BYTES = 1_000_000  # show a progress bar for files past ~10,000 rows, on a terminal only


def import_command(
    ctx: typer.Context,
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds.")],
    file: Annotated[
        Path, typer.Argument(help="CSV with a header row, a JSON array, or JSON Lines.", show_default=False)
    ],
    fmt: Annotated[
        FileFormat | None, typer.Option("--format", "-f", help="File format (default: from the file's extension).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate everything, write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import technicians, customers, requests, absences, rates or parts, upserting by ref.

    Rates are keyed by (contract, skill) and parts by sku.

    The whole file lands in one transaction or not at all: every bad row is listed as
    `line N, column: reason` on stderr and the exit code is 3.
    """
    from dispatch_tui.services.intake.imports import ImportRejected, format_from_path

    fmt = fmt or format_from_path(file)
    if fmt is None:
        fail(
            f"cannot tell the format of {file.name}: name it .csv, .json or .jsonl, or pass --format", exit_codes.USAGE
        )
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}", exit_codes.USAGE)
    context = app_context(ctx)
    core = context.core(create=not dry_run)  # an import makes the store; a dry run writes nothing
    try:
        with _progress(len(data), file.name) as on_progress, refusals():
            report = core.import_data(kind, data, fmt, dry_run=dry_run, on_progress=on_progress)
    except ImportRejected as rejected:
        for error in rejected.errors:
            stderr.print(f"{file.name}: {error}", highlight=False, markup=False, soft_wrap=True)
        fail(f"{len(rejected.errors)} problem(s): nothing was imported from {file.name}", exit_codes.REJECTED)
    summary = {
        "kind": report.kind.value,
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "dry_run": report.dry_run,
        "broken_promises": [
            {
                "job_ref": promise.job_ref,
                "technician_ref": promise.technician_ref,
                "kind": promise.kind,
                "message": f"{promise.message} — {promise.advice}",
            }
            for promise in report.broken_promises
        ],
    }
    if as_json:
        print_json(summary)
        return
    verb = "would import" if dry_run else "imported"
    stdout.print(
        f"{verb} {report.rows:,} {kind.value} from {file.name}: {report.created:,} created, "
        f"{report.updated:,} updated, {report.unchanged:,} unchanged"
        + (" (dry run: nothing written)" if dry_run else ""),
        highlight=False,
    )
    if report.broken_promises:
        # Kept where they were planned (one customer's change must not block the import), and said loudly.
        stdout.print(f"{len(report.broken_promises)} planned visit(s) no longer keep their promise:", highlight=False)
        for promise in report.broken_promises:
            stdout.print(f"  {promise.message} — {promise.advice}", highlight=False, markup=False, soft_wrap=True)


class _progress:
    """A Rich progress bar on stderr for large files on a terminal; nothing otherwise (cron, pipes)."""

    def __init__(self, size: int, name: str) -> None:
        self.enabled = size >= PROGRESS_FROM_BYTES and stderr.is_terminal
        self.name = name
        self.size = size

    def __enter__(self) -> Callable[[str, int], None] | None:
        if not self.enabled:
            return None
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=stderr, transient=True
        )
        self.task = self.bar.add_task(f"reading {self.name}")
        self.bar.start()

        def on_progress(stage: str, count: int) -> None:
            self.bar.update(self.task, description=f"{stage} {self.name}: {count:,} rows")

        return on_progress

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.stop()
