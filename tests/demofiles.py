"""The demo's import files for a day of the suite, as `dispatch demo --files DIR --date D` writes them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from dispatch_tui.services.intake.demo_data import DemoSpec, generate_demo, write_demo_files
from tests.clock import DAY

IMPORT_ORDER = ("technicians", "customers", "requests", "absences", "rates", "parts")


def demo_files(directory: Path, day: date = DAY, **shape: int) -> Path:
    """Write the six CSV files of the demo for ``day`` (seed, technicians, requests: ``DemoSpec``'s) into
    ``directory`` and return it."""
    write_demo_files(generate_demo(DemoSpec(day=day, **shape)), directory)
    return directory
