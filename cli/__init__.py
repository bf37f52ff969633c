"""The `dispatch` command line: thin Typer commands over dispatch_tui.services."""
