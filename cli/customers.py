"""`dispatch customers find|new`: find the customer on a call; enter a new customer with its site."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli import exit_codes
from cli.context import app_context, refusals
from cli.output import fail, print_json, stderr, stdout

app = typer.Typer(help="Find a customer, or enter a new one.", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


@app.command("find")
def find_command(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="A name, phone number, e-mail, ref or address.", show_default=False)],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100, help="At most this many customers.")] = 10,
    as_json: AsJson = False,
) -> None:
    """The customers QUERY may mean, best first: typos and phone formats allowed, each with why it matched,
    its sites, open jobs and last visits. Nothing found is no error (an empty list, exit 0)."""
    context = app_context(ctx)
    with refusals():
        hits = context.core().find_customers(query, limit=limit)
    zone = context.settings.zone
    if as_json:
        print_json([hit.as_json(zone) for hit in hits])
        return
    if not hits:
        stderr.print(f"no customer matches {query!r}; enter one with: dispatch customers new --name …",
                     highlight=False, markup=False)  # fmt: skip
        return
    table = Table("ref", "name", "phone", "address", "matched", "open jobs", "last visit", box=None)
    for hit in hits:
        primary = hit.sites[0].address if hit.sites else ""
        more = f" (+{len(hit.sites) - 1})" if len(hit.sites) > 1 else ""
        jobs = ", ".join(f"{job.ref} {job.status}" for job in hit.open_jobs) or "—"
        last = hit.last_visits[0] if hit.last_visits else None
        when = f" {last.finished_at.astimezone(zone):%d %b %Y}" if last and last.finished_at else ""
        seen = f"{last.ref} {last.skill}{when}" if last else "—"
        why = f"{hit.match.field} {hit.match.score:g}"
        table.add_row(hit.ref, hit.name, hit.phone, primary + more, why, jobs, seen)
    stdout.print(table)
    stdout.print(f"{len(hits)} customer(s)", style="dim")


@app.command("new")
def new_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="The customer's name.", show_default=False)],
    ref: Annotated[str | None, typer.Option("--ref", help="The ref (default: the next in the store).")] = None,
    phone: Annotated[
        str | None, typer.Option("--phone", help="Phone number; without + and a country code, of phone_region.")
    ] = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail address.")] = None,
    address: Annotated[str | None, typer.Option("--address", help="The site's address.")] = None,
    lat: Annotated[float | None, typer.Option("--lat", help="The site's latitude (with --lon).")] = None,
    lon: Annotated[float | None, typer.Option("--lon", help="The site's longitude (with --lat).")] = None,
    as_json: AsJson = False,
) -> None:
    """Enter a new customer and its site, checked like an imported customer (exit 3 with every reason).

    The site's position is --lat/--lon, or, when DISPATCH_GEOCODER_URL names a Nominatim-compatible
    server, the one it gives for --address (asked once per address: the answer is kept in the store)."""
    from dispatch_tui.services.intake.geocoder import GeocoderUnavailable

    core = app_context(ctx).core()
    with refusals():
        try:
            made = core.create_customer(name=name, ref=ref, phone=phone, email=email, address=address, lat=lat,
                                        lon=lon)  # fmt: skip
        except GeocoderUnavailable as down:
            fail(f"{'; '.join(down.reasons)}; nothing was written", exit_codes.FAILED)
    if as_json:
        print_json(made.as_json())
        return
    stdout.print(made.ref, highlight=False)
    where = f" ({made.position_source}: {made.geocoded_as})" if made.geocoded_as else f" ({made.position_source})"
    stderr.print(f"new customer {made.ref}: {made.name}, {made.site.address or 'no address'} at "
                 f"{made.site.lat:.5f}, {made.site.lon:.5f}{where}; take a request with: "
                 f"dispatch request new --customer {made.ref} --skill …", highlight=False, markup=False)  # fmt: skip
