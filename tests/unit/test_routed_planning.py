"""Planning against a routing server: legs are fetched in a few batched requests, then from the store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from tests.clock import DAY, ZONE
from tests.conftest import WEEKDAYS
from tests.demofiles import demo_files
from tests.unit.osrm_fake import FakeOsrm, fake_osrm


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    with fake_osrm() as server:
        yield server


@pytest.fixture
def demo_store(db_path: Path, engine: Engine, tmp_path: Path) -> Path:
    files = demo_files(tmp_path / "files", day=DAY)
    for kind in ImportKind:
        data = (files / f"{kind.value}.csv").read_bytes()
        import_data(engine, kind, data, FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    return db_path


def dispatch(db: Path, url: str, *args: str) -> str:
    result = CliRunner().invoke(app, ["--db", str(db), "--tz", "Europe/Paris", *args], env={"DISPATCH_TRAVEL_URL": url})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_candidates_and_schedule_batch_their_legs_and_reuse_the_cache(demo_store: Path, osrm: FakeOsrm) -> None:
    first = json.loads(dispatch(demo_store, osrm.url, "candidates", "R00001", "--json"))
    assert first
    assert 1 <= osrm.hits <= 4, f"{osrm.hits} requests for one ranking: legs are not batched"
    best = first[0]
    dispatch(demo_store, osrm.url, "assign", "R00001", best["technician_ref"], "--start", best["start"])
    hits = osrm.hits
    again = json.loads(dispatch(demo_store, osrm.url, "candidates", "R00001", "--json"))
    assert again[0]["technician_ref"] == best["technician_ref"]
    plan = json.loads(dispatch(demo_store, osrm.url, "schedule", "--date", DAY.isoformat(), "--format", "json"))
    assert plan["routes"][0]["stops"][0]["job_ref"] == "R00001"
    # The schedule asks for every waiting job's legs too: new pairs, but still a few requests, not hundreds.
    assert osrm.hits - hits <= 8
