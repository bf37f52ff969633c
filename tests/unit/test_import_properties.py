"""Property tests: whatever the file holds, an import lands whole or not at all, and never crashes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, ImportRejected, import_data
from dispatch_tui.store import make_engine, upgrade
from tests.clock import ZONE
from tests.conftest import WEEKDAYS, dump
from tests.unit.importdata import ABSENCES, CUSTOMERS, REQUESTS, TECHNICIANS, D
from tests.unit.workdata import PARTS, RATES

VALID = {
    ImportKind.TECHNICIANS: TECHNICIANS,
    ImportKind.CUSTOMERS: CUSTOMERS,
    ImportKind.REQUESTS: REQUESTS,
    ImportKind.ABSENCES: ABSENCES,
    ImportKind.RATES: RATES,
    ImportKind.PARTS: PARTS,
}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One loaded store for all examples: each example either leaves it as it was or fully applies."""
    engine = make_engine(tmp_path_factory.mktemp("props") / "dispatch.db")
    upgrade(engine)
    # Module-scoped, so made before any test's clock is set: under the suite's clock all the same
    # (tests/conftest.py sets it in pytest_configure).
    for kind in (ImportKind.TECHNICIANS, ImportKind.CUSTOMERS, ImportKind.REQUESTS):
        import_data(engine, kind, VALID[kind].encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    yield engine
    engine.dispose()


def attempt(engine: Engine, kind: ImportKind, data: bytes, fmt: FileFormat) -> None:
    """Import; on rejection the store must be exactly as before and every error must point at a line."""
    before = dump(engine)
    try:
        report = import_data(engine, kind, data, fmt, zone=ZONE, working_days=WEEKDAYS)
    except ImportRejected as rejected:
        assert rejected.errors, "a rejection must say why"
        assert all(error.line >= 1 and error.reason for error in rejected.errors)
        assert dump(engine) == before
    else:
        assert report.created + report.updated + report.unchanged == report.rows


@SETTINGS
@given(data=st.binary(max_size=600), kind=st.sampled_from(ImportKind), fmt=st.sampled_from(FileFormat))
def test_arbitrary_bytes_never_half_land_or_crash(
    store: Engine, data: bytes, kind: ImportKind, fmt: FileFormat
) -> None:
    attempt(store, kind, data, fmt)


# Cells that are wrong in the ways real files are wrong: blanks, junk, out-of-range numbers, odd dates. The
# calendar's own traps keep their fixed dates (30 February, the time skipped on 29 March 2026, the ends of
# the calendar): the test that draws them sets its clock near them.
nasty_cells = st.one_of(
    st.just(""),
    st.text(max_size=12),
    st.sampled_from(["0", "-1", "5", "1e999", "nan", "inf", "9" * 30, "12.345", "١٢", "1_000", " 60 "]),
    st.sampled_from(["2026-02-30T09:00", "0001-01-01T00:00+05:00", "9999-12-31T23:59-05:00", D,
                     "2026-03-29T02:30", "24:00", "25:61", "T", f"{D}T09:00Z"]),
    st.sampled_from(["C1", "C404", "T1", "boiler", "BOILER", "roofing", "phone", "carrier pigeon", "R1", "R2"]),
)  # fmt: skip


@st.composite
def mutated_csv(draw: st.DrawFn) -> tuple[ImportKind, bytes]:
    kind = draw(st.sampled_from(ImportKind))
    rows = list(csv.reader(io.StringIO(VALID[kind])))
    header, body = rows[0], rows[1:]
    for _ in range(draw(st.integers(1, 4))):
        row = body[draw(st.integers(0, len(body) - 1))]
        row[draw(st.integers(0, len(header) - 1))] = draw(nasty_cells)
    if draw(st.booleans()):
        body.append(list(draw(st.sampled_from(body))))  # a duplicated row
    if draw(st.booleans()):
        body[0] = body[0][: draw(st.integers(0, len(header)))]  # a short row
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    return kind, out.getvalue().encode()


@pytest.mark.clock("2026-03-28T12:00+01:00")  # near the fixed dates of nasty_cells
@SETTINGS
@given(case=mutated_csv())
def test_malformed_rows_never_half_land_or_crash(store: Engine, case: tuple[ImportKind, bytes]) -> None:
    kind, data = case
    attempt(store, kind, data, FileFormat.CSV)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@SETTINGS
@given(
    kind=st.sampled_from(ImportKind),
    records=st.lists(st.dictionaries(st.sampled_from(["ref", "name", "skill", "priority", "lat", "x"]), json_values)),
)
def test_odd_json_records_never_half_land_or_crash(store: Engine, kind: ImportKind, records: list[object]) -> None:
    attempt(store, kind, json.dumps(records).encode(), FileFormat.JSON)
    attempt(store, kind, "\n".join(json.dumps(r) for r in records).encode(), FileFormat.JSONL)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), kind=st.sampled_from(ImportKind))
def test_the_cli_answers_any_file_with_0_or_3_and_no_traceback(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, kind: ImportKind
) -> None:
    folder = tmp_path_factory.mktemp("cli")
    path: Path = folder / "input.csv"
    path.write_bytes(data)
    result = CliRunner().invoke(app, ["--db", str(folder / "d.db"), "import", kind.value, str(path)])
    assert result.exit_code in (0, 3), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
