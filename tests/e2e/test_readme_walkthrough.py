"""The README's import walkthrough, run as written by a shell in an empty folder, with the installed
`dispatch` first on the PATH: it must work on whatever day a user tries it.

So this test, alone in the suite, runs on the real date: the clock is set (frozen, so that every command
of the walkthrough agrees on what "tuesday" is, even across midnight) to the real moment the test starts.
CI runs the suite on the real date and again with the system clock shifted (libfaketime), so the
walkthrough is tried on more than one calendar day.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dispatch_tui import clock

REPO = Path(__file__).resolve().parents[2]
MARKER = "<!-- tests/e2e/test_readme_walkthrough.py runs this block as written, on the real date -->"


def walkthrough() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert MARKER in readme, "the README's walkthrough lost the marker this test finds it by"
    block = re.search(r"```sh\n(.*?)```", readme[readme.index(MARKER) :], re.DOTALL)
    assert block is not None
    return block.group(1)


def test_the_readme_import_walkthrough_works_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, set_clock: Callable[[datetime], None]
) -> None:
    set_clock(datetime.now(UTC))  # the real moment, held still for the walkthrough's commands
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    script = walkthrough()
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, f"the walkthrough failed:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    assert "60 unchanged" in done.stdout, "importing the same file again changes nothing"

    # What the walkthrough promised: next Tuesday's 60 requests, now planned by the optimizer.
    db = str(tmp_path / "walkthrough.db")
    listed = subprocess.run(["dispatch", "--db", db, "jobs", "list", "--date", "tuesday", "--json"],
                            capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    jobs = json.loads(listed.stdout)
    assert len(jobs) == 60
    planned = [job for job in jobs if job["status"] == "scheduled"]
    assert len(planned) >= 30, f"the optimizer planned only {len(planned)} of the day's 60 requests"
    start = datetime.fromisoformat(planned[0]["start"])
    assert start.weekday() == 1 and start.date() > clock.now().astimezone(start.tzinfo).date()
