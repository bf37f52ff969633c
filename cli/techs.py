"""`dispatch techs`: read the technicians."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.context import app_context
from cli.output import print_json, stdout

app = typer.Typer(help="List technicians.", no_args_is_help=True)


@app.command("list")
def list_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """Technicians with skills, usual shift and status right now."""
    techs = app_context(ctx).core().technicians()
    if as_json:
        print_json([tech.as_json() for tech in techs])
        return
    table = Table("ref", "name", "skills", "shift", "territory", "status", box=None)
    for tech in techs:
        shift = f"{tech.shift_start}–{tech.shift_end}" if tech.shift_start else ""
        table.add_row(tech.ref, tech.name, ", ".join(tech.skills), shift, tech.territory or "", tech.status)
    stdout.print(table)
    stdout.print(f"{len(techs)} technician(s)", style="dim")
