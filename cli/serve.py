"""`dispatch serve`: the console in a browser, for dispatchers without a terminal (textual-serve)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import exit_codes
from cli.context import app_context
from cli.output import fail, stderr


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8000,
    public_url: Annotated[
        str | None,
        typer.Option(
            "--public-url",
            help="The address browsers use (a reverse proxy's, e.g. https://dispatch.example.com); "
            "default: this host and --port.",
        ),
    ] = None,
) -> None:
    """Serve the dispatcher console over HTTP: each browser tab gets its own console on the same store.

    There is no login: keep it on 127.0.0.1, or behind a reverse proxy that authenticates.
    """
    import shlex
    import socket
    import sys
    from pathlib import Path

    from textual_serve.server import Server

    from cli.tui import check_keymap

    context = app_context(ctx)
    # A bad keymap or a store that cannot be opened is said here, once, not in every browser tab.
    check_keymap(context.settings)
    context.core().close()
    settings = context.settings
    clock = ["--now", settings.now, "--now-frozen" if settings.now_frozen else "--now-running"] if settings.now else []
    store = ["--db", settings.db, "--timezone", settings.timezone]
    command = shlex.join([sys.executable, "-m", "cli", *store, *clock, "tui"])  # each tab's clock starts there
    if public_url is None:
        # The page's links are absolute: on a wildcard address they must name this machine, not 0.0.0.0.
        shown_host = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
        public_url = f"http://[{shown_host}]:{port}" if ":" in shown_host else f"http://{shown_host}:{port}"
    stderr.print(f"serving the console on {public_url} (Ctrl+C to stop)", highlight=False)
    page = Path(__file__).parent / "serve_page"  # textual-serve's page, with its fonts served from here
    try:
        Server(
            command, host=host, port=port, title="dispatch", public_url=public_url.rstrip("/"), templates_path=page
        ).serve()
    except OSError as exc:  # the address is taken, or not this machine's: say so, no traceback
        reason = exc.strerror or str(exc)
        fail(f"cannot listen on {host}:{port}: {reason} (another server there? pick another --port)", exit_codes.FAILED)
