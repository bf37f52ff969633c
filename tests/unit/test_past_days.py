"""A day that has passed says so: the optimizer and the candidates refuse to plan into it and say what can
still be done, instead of an empty plan ("0 assigned") or "try more --days"."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.main import app
from tests.clock import DAY, NOW, PAST_DAY, ZONE
from tests.conftest import db_arg, dump
from tests.unit import notifydata


def dispatch(engine: Engine, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--db", db_arg(engine), "--tz", ZONE.key, *args])
    return result.exit_code, result.stdout, result.stderr


def test_optimizing_a_past_day_is_refused_with_what_can_still_be_planned(engine: Engine) -> None:
    store = notifydata.load(engine)  # three requests waiting, their windows tomorrow
    before = dump(store)
    code, _out, err = dispatch(store, "optimize", "--date", PAST_DAY.isoformat(), "--apply")
    today = NOW.astimezone(ZONE).date()
    assert code == 3
    assert f"{PAST_DAY:%a %d %b} is over" in err and "3 request(s) can still be planned" in err
    assert f"dispatch optimize --date {today.isoformat()}" in err
    assert dump(store) == before
    code, out, _err = dispatch(store, "optimize", "--date", DAY.isoformat(), "--time-limit", "1")  # tomorrow: planned
    assert code == 0 and "3 assigned" in out


def test_candidates_on_past_days_say_the_days_are_over_and_which_day_to_try(engine: Engine) -> None:
    store = notifydata.load(engine)
    yesterday = NOW.astimezone(ZONE).date() - timedelta(days=1)
    code, out, _err = dispatch(store, "candidates", "R1", "--date", (yesterday - timedelta(days=1)).isoformat(),
                               "--days", "2")  # fmt: skip
    today = NOW.astimezone(ZONE).date()
    assert code == 0
    assert f"{yesterday:%a %d %b} is over" in out
    assert f"try --date {today.isoformat()} (today) or a later day" in out
    assert "try more --days" not in out
