"""On PostgreSQL the optimizer's lock is the server's: a run holding it (from any machine) makes a
second one exit 75, and a run that dies releases it."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.services.planning.run_lock import exclusive
from dispatch_tui.store import make_engine, upgrade
from tests.clock import DAY, MONDAY, at


def optimize(url: str) -> int:
    return (
        CliRunner().invoke(app, ["--db", url, "optimize", "--date", DAY.isoformat(), "--time-limit", "0.1"]).exit_code
    )


def test_a_second_run_exits_75_while_the_first_holds_the_servers_lock(pg_url: str) -> None:
    upgrade(make_engine(pg_url))
    with exclusive(pg_url):  # another run, mid-solve, on its own connection
        assert optimize(pg_url) == 75
    assert optimize(pg_url) == 0


def test_a_killed_run_leaves_no_lock_behind(pg_url: str) -> None:
    upgrade(make_engine(pg_url))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom dispatch_tui.services.planning.run_lock import exclusive\n"
         "with exclusive(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(60)\n", pg_url],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    assert optimize(pg_url) == 75
    holder.kill()
    holder.wait()
    assert optimize(pg_url) == 0


def test_an_optimized_day_on_postgresql_passes_the_independent_checker(pg_url: str) -> None:
    import json
    from zoneinfo import ZoneInfo

    from dispatch_tui.services.intake.demo import build_demo
    from dispatch_tui.services.intake.demo_data import DemoSpec
    from tests.checker import check_store

    zone, day = ZoneInfo("Europe/Paris"), DAY
    engine = make_engine(pg_url)
    upgrade(engine)
    build_demo(engine, DemoSpec(day=day, technicians=5, requests=25), zone, now=at(MONDAY, "18:00"))
    result = CliRunner().invoke(app, ["--db", pg_url, "--tz", "Europe/Paris", "optimize", "--date", day.isoformat(),
                                      "--time-limit", "1", "--apply", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["assigned"] > 0
    assert check_store(engine, day, zone) == []
    engine.dispose()
