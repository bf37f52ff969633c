"""`dispatch report kpi`: how the service performed over a period (JSON for scripts, tables and charts for people)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.context import app_context
from cli.export import From, To, parse_period
from cli.output import print_json, stdout

app = typer.Typer(help="Reports over a period.", no_args_is_help=True)


@app.command("kpi")
def kpi(
    ctx: typer.Context,
    first: From,
    last: To,
    as_json: Annotated[bool, typer.Option("--json", help="Print every figure as JSON.")] = False,
) -> None:
    """Requests by source, waiting times (median, p90), on-time arrival, first-time fix, utilization,
    travel share, SLA breaches and ratings: overall, by technician and day by day.

    On a terminal the daily trend is also drawn as charts.
    """
    context = app_context(ctx)
    period = parse_period(first, last, context.settings.zone)
    report = context.core().kpis(*period)
    if as_json:
        print_json(report)
        return
    _print(report)
    if stdout.is_terminal and len(report["daily"]) > 1:
        _charts(report)


def _print(report: dict[str, Any]) -> None:
    from rich.table import Table

    from dispatch_tui.services.reports.kpi import TECHNICIAN_COLUMNS, WAIT_LABELS, figure, technician_rows

    received = report["requests_received"]
    by_source = ", ".join(f"{source} {count}" for source, count in received["by_source"].items()) or "none"
    stdout.print(f"KPIs {report['from']} – {report['to']}", style="bold", highlight=False)
    stdout.print(f"requests received: {received['total']} ({by_source})", highlight=False)
    for key, label in WAIT_LABELS:
        wait = report["waiting_minutes"][key]
        stdout.print(
            f"waiting {label}: median {figure(wait['median'], ' min')}, p90 {figure(wait['p90'], ' min')} "
            f"({wait['count']} requests)",
            highlight=False,
        )
    breaches = report["sla_breaches"]
    listed = (
        f": {', '.join(breaches['jobs'][:20])}" + (" …" if breaches["count"] > 20 else "") if breaches["count"] else ""
    )
    stdout.print(f"SLA breaches: {breaches['count']}{listed}", highlight=False)
    table = Table(*TECHNICIAN_COLUMNS, box=None)
    table.columns[0].no_wrap = True
    for row in technician_rows(report):
        table.add_row(*row)
    stdout.print(table)
    stdout.print("done: visits finished; use: work / shift; travel: travel / (travel + work)", style="dim")


def _charts(report: dict[str, Any]) -> None:
    """The daily trend as terminal charts (plotext), sized to the terminal."""
    import sys

    import plotext as plt

    days = [day["day"][5:] for day in report["daily"]]
    width = max(40, min(stdout.width, 120))
    figure = plt.figure
    for title, series in (
        ("requests received (1st bar) and visits finished (2nd) per day",
         [[d["requests_received"] for d in report["daily"]], [d["visits_finished"] for d in report["daily"]]]),
        ("on-time arrival % per day", [[d["on_time_pct"] or 0 for d in report["daily"]]]),
    ):  # fmt: skip
        figure.clear()
        figure.plot_size(width, 14)
        figure.draw(figure.bar(days, series if len(series) > 1 else series[0]))
        figure.title(title)
        sys.stdout.write(str(figure.build()) + "\n")
