"""The demo city generator: deterministic, and shaped exactly like the import files of docs/import-files.md."""

from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import Path

import pytest

from dispatch_tui.services.intake.demo_data import DemoData, DemoSpec, generate_demo, write_demo_files
from tests.clock import DAY

# Spelled out from docs/import-files.md, in that order, on purpose not imported from the module.
COLUMNS = {
    "technicians": [
        "ref",
        "name",
        "skills",
        "home_lat",
        "home_lon",
        "shift_start",
        "shift_end",
        "break_start",
        "break_minutes",
        "hourly_cost",
        "phone",
        "email",
        "territory",
    ],
    "customers": ["ref", "name", "address", "lat", "lon", "phone", "email", "contract"],
    "requests": [
        "ref",
        "customer_ref",
        "skill",
        "duration_min",
        "priority",
        "window_start",
        "window_end",
        "due_by",
        "description",
        "source",
        "lat",
        "lon",
        "address",
    ],
    "absences": ["technician_ref", "start", "end", "reason"],
    "rates": ["contract", "skill", "hourly_rate", "callout_fee", "labor_covered"],
    "parts": ["sku", "name", "unit_price"],
}
SOURCES = {"phone", "web", "email", "technician", "back_office"}
CLOCK = re.compile(r"^\d\d:\d\d$")


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate_demo(DemoSpec(day=DAY))


def _tables(data: DemoData) -> dict[str, list[dict[str, str]]]:
    return {
        "technicians": data.technicians,
        "customers": data.customers,
        "requests": data.requests,
        "absences": data.absences,
        "rates": data.rates,
        "parts": data.parts,
    }


def test_same_seed_gives_the_same_data() -> None:
    assert generate_demo(DemoSpec(day=DAY, seed=3)) == generate_demo(DemoSpec(day=DAY, seed=3))


def test_different_seed_gives_different_data() -> None:
    assert generate_demo(DemoSpec(day=DAY, seed=3)) != generate_demo(DemoSpec(day=DAY, seed=4))


def test_generation_leaves_the_global_random_alone() -> None:
    import random

    random.seed(1)
    expected = random.random()
    random.seed(1)
    generate_demo(DemoSpec(day=DAY))
    assert random.random() == expected


def test_columns_are_exactly_the_import_columns_in_order(demo: DemoData) -> None:
    for name, rows in _tables(demo).items():
        assert rows, name
        for row in rows:
            assert list(row) == COLUMNS[name], name
            assert all(isinstance(value, str) for value in row.values()), name


@pytest.mark.parametrize(("technicians", "requests"), [(12, 60), (6, 9), (20, 150)])
def test_counts_follow_the_spec(technicians: int, requests: int) -> None:
    data = generate_demo(DemoSpec(day=DAY, technicians=technicians, requests=requests))
    assert len(data.technicians) == technicians
    assert len(data.requests) == requests
    assert len(data.customers) == max(10, requests * 2 // 3)
    assert len(data.absences) == 2


def test_some_customers_have_several_requests(demo: DemoData) -> None:
    refs = [row["customer_ref"] for row in demo.requests]
    assert len(set(refs)) < len(refs)


@pytest.mark.parametrize("seed", range(5))
def test_every_requested_skill_has_at_least_two_technicians(seed: int) -> None:
    data = generate_demo(DemoSpec(day=DAY, seed=seed))
    for request in data.requests:
        holders = [t for t in data.technicians if request["skill"] in t["skills"].split(";")]
        assert len(holders) >= 2, request


def test_technicians_look_right(demo: DemoData) -> None:
    for tech in demo.technicians:
        assert 1 <= len(tech["skills"].split(";")) <= 3
        assert CLOCK.match(tech["shift_start"])
        assert CLOCK.match(tech["shift_end"])
        assert tech["shift_start"] < tech["shift_end"]
        if tech["break_start"]:
            assert tech["shift_start"] < tech["break_start"] < tech["shift_end"]
            assert tech["break_minutes"] in ("30", "45")
        else:
            assert tech["break_minutes"] in ("", "0")
        assert float(tech["hourly_cost"]) > 0
        assert re.match(r"^[a-z]+\.[a-z]+@example-dispatch\.test$", tech["email"]), tech["email"]
        assert len(tech["home_lat"].split(".")[1]) == 5
        assert len(tech["home_lon"].split(".")[1]) == 5
        assert tech["territory"]
    assert len({t["email"] for t in demo.technicians}) == len(demo.technicians)
    assert len({t["territory"] for t in demo.technicians}) >= 4, "homes spread around the city"


@pytest.mark.parametrize(("technicians", "requests"), [(12, 60), (200, 20_000)])
def test_every_phone_number_is_its_own_and_in_a_range_kept_for_fiction(technicians: int, requests: int) -> None:
    data = generate_demo(DemoSpec(day=DAY, technicians=technicians, requests=requests))
    for rows, blocks in ((data.technicians, ("06 39 98",)), (data.customers, ("01 99 00", "02 61 91"))):
        phones = [row["phone"] for row in rows]
        assert len(set(phones)) == len(phones), "two people of the demo share a number"
        assert all(re.fullmatch(r"0\d \d\d \d\d \d\d \d\d", p) and p[:8] in blocks for p in phones), phones[:3]


def test_places_are_in_one_city(demo: DemoData) -> None:
    points = [(c["lat"], c["lon"]) for c in demo.customers] + [(t["home_lat"], t["home_lon"]) for t in demo.technicians]
    points += [(r["lat"], r["lon"]) for r in demo.requests if r["lat"]]
    for lat, lon in points:
        assert 45.60 < float(lat) < 45.92
        assert 4.60 < float(lon) < 5.08


def test_every_customer_ref_exists(demo: DemoData) -> None:
    customers = {c["ref"] for c in demo.customers}
    assert all(r["customer_ref"] in customers for r in demo.requests)
    technicians = {t["ref"] for t in demo.technicians}
    assert all(a["technician_ref"] in technicians for a in demo.absences)


def test_refs_are_unique(demo: DemoData) -> None:
    for rows in (demo.technicians, demo.customers, demo.requests):
        assert len({row["ref"] for row in rows}) == len(rows)


def test_windows_lie_on_the_day_and_end_after_they_start(demo: DemoData) -> None:
    for request in demo.requests:
        start = datetime.fromisoformat(request["window_start"])
        end = datetime.fromisoformat(request["window_end"])
        assert start.tzinfo is None, "naive local time"
        assert end.tzinfo is None, "naive local time"
        assert start.date() == end.date() == DAY
        assert start < end
        assert start.hour * 60 + start.minute >= 8 * 60
        assert end.hour * 60 + end.minute <= 18 * 60
        assert 2 * 60 <= (end - start).total_seconds() / 60 <= 4 * 60
        if request["due_by"]:
            assert datetime.fromisoformat(request["due_by"]) >= end


def test_requests_look_right(demo: DemoData) -> None:
    for request in demo.requests:
        assert request["priority"] in ("1", "2", "3", "4")
        duration = int(request["duration_min"])
        assert 30 <= duration <= 180
        assert duration % 15 == 0
        assert request["source"] in SOURCES
        assert request["description"]
        if request["priority"] in ("1", "2"):
            assert request["due_by"]
        overrides = [request["lat"], request["lon"], request["address"]]
        assert all(overrides) or not any(overrides)


def test_priorities_are_mostly_routine() -> None:
    data = generate_demo(DemoSpec(day=DAY, requests=400))
    counts = {p: sum(r["priority"] == p for r in data.requests) for p in "1234"}
    assert counts["3"] > counts["4"] > counts["1"]
    assert counts["2"] > counts["1"]
    assert counts["1"] < 0.12 * 400


def test_absences_are_on_the_day(demo: DemoData) -> None:
    reasons = sorted(a["reason"] for a in demo.absences)
    assert reasons == ["dentist", "holiday"]
    for absence in demo.absences:
        start, end = datetime.fromisoformat(absence["start"]), datetime.fromisoformat(absence["end"])
        assert start.tzinfo is None
        assert start.date() == DAY
        assert start < end


def test_write_demo_files_writes_six_csv_files_with_header_rows(tmp_path: Path, demo: DemoData) -> None:
    paths = write_demo_files(demo, tmp_path)
    assert [p.name for p in paths] == [
        "technicians.csv", "customers.csv", "requests.csv", "absences.csv", "rates.csv", "parts.csv",
    ]  # fmt: skip
    tables = _tables(demo)
    for path in paths:
        name = path.stem
        raw = path.read_bytes()
        assert b"\r\n" not in raw
        assert raw.endswith(b"\n")
        raw.decode("utf-8")
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == COLUMNS[name]
        assert [dict(zip(rows[0], row, strict=True)) for row in rows[1:]] == tables[name]


def test_the_rate_card_prices_every_skill_and_customer_the_demo_has(demo: DemoData) -> None:
    """Every visit the demo completes can be billed: a default line, and one for each contract in use."""
    lines = {(rate["contract"], rate["skill"]) for rate in demo.rates}
    assert ("none", "*") in lines
    contracts = {customer["contract"] for customer in demo.customers if customer["contract"]}
    assert contracts and all((contract, "*") in lines for contract in contracts)
    held = {skill for tech in demo.technicians for skill in tech["skills"].split(";")}
    assert {skill for _, skill in lines} <= held | {"*"}
    assert len({part["sku"] for part in demo.parts}) == len(demo.parts) >= 5


def test_same_spec_gives_byte_identical_files(tmp_path: Path) -> None:
    first = write_demo_files(generate_demo(DemoSpec(day=DAY, seed=11)), tmp_path / "a")
    second = write_demo_files(generate_demo(DemoSpec(day=DAY, seed=11)), tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
