"""Printing: results to stdout, messages to stderr (so `--json` output stays parseable)."""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import typer
from rich.console import Console

from cli import exit_codes

stdout = Console(soft_wrap=True)  # never break a message mid-line: scripts grep it
stderr = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = exit_codes.FAILED) -> NoReturn:
    stderr.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def print_json(value: Any) -> None:
    # Plain json (not Rich) so that output is byte-stable and never wrapped or coloured.
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")
