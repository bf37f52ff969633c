"""A new customer and its site on a call (`Core.create_customer`, `dispatch customers new`): the import's
rules, a valid phone, the next ref, and a position typed or found by a Nominatim-compatible geocoder on
127.0.0.1 (cached in the store: an address is asked for once), never guessed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.config import Settings
from dispatch_tui.services.core import Core
from dispatch_tui.services.errors import Refused
from dispatch_tui.services.intake.customers import next_customer_ref
from dispatch_tui.services.intake.geocoder import GeocoderUnavailable
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.store.models import Customer, GeocodeCacheEntry, Site
from tests.clock import ZONE
from tests.conftest import WEEKDAYS, db_arg, dump
from tests.unit.nominatim_fake import FakeNominatim, fake_nominatim
from tests.unit.osrm_fake import closed_port_url

CUSTOMERS = """ref,name,address,lat,lon,phone,email,contract
C0001,Claire Dupont,12 Rue Garibaldi,45.7590,4.8520,+33 6 12 34 56 78,claire@example.test,
C0002,Marc Dupond,3 Quai Rambaud,45.7430,4.8180,04 78 00 00 09,,gold
"""
REPUBLIQUE = "10 Rue de la République, Lyon"
PLACE = (45.7640, 4.8357, "10, Rue de la République, Lyon 2e, Lyon, Métropole de Lyon, France")


@pytest.fixture
def store(engine: Engine, db_path: Path) -> Path:
    import_data(engine, ImportKind.CUSTOMERS, CUSTOMERS.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    return db_path


@pytest.fixture
def geocoder() -> Iterator[FakeNominatim]:
    with fake_nominatim({REPUBLIQUE: PLACE}) as fake:
        yield fake


def dispatch(db: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--db", str(db), "--tz", "Europe/Paris", "customers", "new", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def customer(engine: Engine, ref: str) -> tuple[Customer, list[Site]]:
    with Session(engine) as session:
        found = session.exec(select(Customer).where(Customer.ref == ref)).one()
        return found, list(session.exec(select(Site).where(Site.customer_id == found.id)))


# --- the position ---------------------------------------------------------------------------------------------


def test_the_geocoder_gives_the_position_once_per_address(
    store: Path, engine: Engine, geocoder: FakeNominatim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPATCH_GEOCODER_URL", geocoder.url + "/")
    code, out, err = dispatch(store, "--name", "Zoé Martin", "--address", REPUBLIQUE, "--json")
    assert code == 0, err
    made = json.loads(out)
    assert made == {
        "ref": "C0003", "name": "Zoé Martin", "phone": "", "email": "",
        "site": {"address": REPUBLIQUE, "lat": 45.764, "lon": 4.8357, "primary": True},
        "position_source": "geocoder", "geocoded_as": PLACE[2],
    }  # fmt: skip
    [asked] = geocoder.requests
    assert asked.path == "/search"
    assert asked.params == {"q": REPUBLIQUE, "format": "jsonv2", "limit": "1"}
    assert asked.user_agent.startswith("dispatch-console/")
    _, [site] = customer(engine, "C0003")
    assert (site.lat, site.lon, site.is_primary) == (45.764, 4.8357, True)
    # the same address again (case and spaces aside), for another customer: from the store, not the server
    code, out, err = dispatch(store, "--name", "Paul Martin", "--address", "10  rue de la RÉPUBLIQUE, Lyon ",
                              "--json")  # fmt: skip
    assert code == 0, err
    again = json.loads(out)
    assert again["position_source"] == "geocoder cache" and again["site"]["lat"] == 45.764
    assert len(geocoder.requests) == 1
    with Session(engine) as session:
        [entry] = session.exec(select(GeocodeCacheEntry)).all()
    assert (entry.source, entry.query) == (geocoder.url, "10 rue de la république, lyon")


def test_typed_positions_are_never_sent_to_the_geocoder(
    store: Path, engine: Engine, geocoder: FakeNominatim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPATCH_GEOCODER_URL", geocoder.url)
    code, out, _ = dispatch(store, "--name", "Zoé Martin", "--address", REPUBLIQUE, "--lat", "45.7", "--lon", "4.8")
    assert code == 0 and out.strip() == "C0003"
    assert geocoder.requests == []
    _, [site] = customer(engine, "C0003")
    assert (site.lat, site.lon, site.address) == (45.7, 4.8, REPUBLIQUE)


def test_without_a_geocoder_a_missing_position_is_refused_with_how_to_give_one(store: Path, engine: Engine) -> None:
    before = dump(engine)
    code, _, err = dispatch(store, "--name", "Zoé Martin", "--address", REPUBLIQUE)
    assert code == 3
    assert "refused: position: no position for the site: give it with --lat and --lon, or set " \
           "DISPATCH_GEOCODER_URL" in err  # fmt: skip
    code, _, err = dispatch(store, "--name", "Zoé Martin", "--lat", "45.7")
    assert code == 3 and "lon: lat and lon go together" in err
    assert dump(engine) == before


def test_an_address_the_geocoder_does_not_know_is_refused(
    store: Path, engine: Engine, geocoder: FakeNominatim, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPATCH_GEOCODER_URL", geocoder.url)
    before = dump(engine)
    code, _, err = dispatch(store, "--name", "Zoé Martin", "--address", "1 Nowhere Lane")
    assert code == 3 and "knows no place at '1 Nowhere Lane'" in err and "--lat and --lon" in err
    code, _, err = dispatch(store, "--name", "Zoé Martin")
    assert code == 3 and "address: needed to find the site's position" in err
    assert len(geocoder.requests) == 1  # nothing asked without an address
    assert dump(engine) == before


def test_a_geocoder_that_cannot_answer_fails_with_exit_1_and_writes_nothing(
    store: Path, engine: Engine, geocoder: FakeNominatim, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = dump(engine)
    monkeypatch.setenv("DISPATCH_GEOCODER_URL", closed_port_url())
    code, _, err = dispatch(store, "--name", "Zoé Martin", "--address", REPUBLIQUE)
    assert code == 1 and "cannot be reached" in err and "--lat and --lon" in err
    monkeypatch.setenv("DISPATCH_GEOCODER_URL", geocoder.url)
    geocoder.status = 503
    code, _, err = dispatch(store, "--name", "Zoé Martin", "--address", REPUBLIQUE)
    assert code == 1 and "answered HTTP 503" in err
    geocoder.status, geocoder.body = 200, b"<html>not json</html>"
    code, _, err = dispatch(store, "--name", "Zoé Martin", "--address", REPUBLIQUE)
    assert code == 1 and "not JSON" in err
    geocoder.body = b'[{"lat": "north", "lon": "4.8"}]'
    code, _, err = dispatch(store, "--name", "Zoé Martin", "--address", REPUBLIQUE)
    assert code == 1 and "without a readable lat/lon" in err
    geocoder.body, geocoder.delay_s = None, 2.0
    monkeypatch.setenv("DISPATCH_GEOCODER_TIMEOUT_S", "0.2")
    code, _, err = dispatch(store, "--name", "Zoé Martin", "--address", REPUBLIQUE)
    assert code == 1 and "did not answer within 0.2 s" in err
    assert dump(engine) == before


def test_the_core_refuses_what_the_cli_reports(store: Path, geocoder: FakeNominatim) -> None:
    core = Core(Settings(db=str(store), timezone="Europe/Paris", geocoder_url=closed_port_url()))
    with pytest.raises(GeocoderUnavailable):  # a Refused: every front end shows it
        core.create_customer(name="Zoé", address=REPUBLIQUE)
    core = Core(Settings(db=str(store), timezone="Europe/Paris"))
    with pytest.raises(Refused, match="no position for the site"):
        core.create_customer(name="Zoé", address=REPUBLIQUE)
    made = Core(Settings(db=str(store), timezone="Europe/Paris", geocoder_url=geocoder.url)).create_customer(
        name="Zoé", address=REPUBLIQUE, phone="0611223344"
    )
    assert (made.ref, made.site.lat, made.phone, made.position_source) == ("C0003", 45.764, "+33 6 11 22 33 44",
                                                                           "geocoder")  # fmt: skip


# --- the customer's fields ----------------------------------------------------------------------------------


def test_the_import_rules_and_a_valid_phone_every_problem_at_once(store: Path, engine: Engine) -> None:
    before = dump(engine)
    code, _, err = dispatch(store, "--name", "Zoé", "--phone", "06 12 34", "--email", "zoe@", "--lat", "95", "--lon",
                            "4.8")  # fmt: skip
    assert code == 3
    assert "refused: phone: '06 12 34' is not a valid number in FR" in err
    assert "refused: email: 'zoe@' is not an e-mail address" in err
    assert "refused: lat: must lie between -90 and 90 degrees, got 95.0" in err  # the import's own rule
    code, _, err = dispatch(store, "--name", " ", "--lat", "45", "--lon", "4.8")
    assert code == 3 and "refused: name: a value is required" in err
    code, _, err = dispatch(store, "--name", "Zoé", "--phone", "+999 1234", "--lat", "45", "--lon", "4.8")
    assert code == 3 and "phone: '+999 1234' starts with an unknown country code" in err
    code, _, err = dispatch(store, "--name", "Zoé", "--phone", "call me", "--lat", "45", "--lon", "4.8")
    assert code == 3 and "phone: 'call me' is not a phone number" in err
    assert dump(engine) == before
    assert dispatch(store, "--lat", "45", "--lon", "4.8")[0] == 2  # --name is required: a usage error
    assert dispatch(store, "--name", "Zoé", "--lat", "north", "--lon", "4.8")[0] == 2


def test_the_phone_is_stored_in_its_international_format_and_found_as_typed(store: Path, engine: Engine) -> None:
    code, out, _ = dispatch(store, "--name", "Zoé Martin", "--phone", "06 11 22 33 44", "--email", "zoe@example.test",
                            "--address", "1 Place Bellecour", "--lat", "45.7578", "--lon", "4.8320",
                            "--json")  # fmt: skip
    assert code == 0 and json.loads(out)["phone"] == "+33 6 11 22 33 44"
    found = CliRunner().invoke(app, ["--db", str(store), "--tz", "Europe/Paris", "customers", "find", "0611223344",
                                     "--json"])  # fmt: skip
    assert [hit["ref"] for hit in json.loads(found.stdout)] == ["C0003"]
    code, _, err = dispatch(store, "--name", "Tom", "--phone", "020 7946 0958", "--lat", "45", "--lon", "4.8")
    assert code == 3 and "not a valid number in FR" in err  # a London number typed without its code


def test_without_a_region_a_phone_needs_its_country_code(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(app, ["--db", str(store), "--tz", "UTC", "customers", "new", "--name", "Tom",
                                      "--phone", "06 11 22 33 44", "--lat", "45", "--lon", "4.8"])  # fmt: skip
    assert result.exit_code == 3 and "no country code and no phone_region is set" in result.stderr
    monkeypatch.setenv("DISPATCH_PHONE_REGION", "GB")
    result = CliRunner().invoke(app, ["--db", str(store), "--tz", "UTC", "customers", "new", "--name", "Tom",
                                      "--phone", "020 7946 0958", "--lat", "45", "--lon", "4.8", "--json"])  # fmt: skip
    assert result.exit_code == 0 and json.loads(result.stdout)["phone"] == "+44 20 7946 0958"


def test_the_ref_is_the_next_in_the_stores_numbering_or_the_one_given(store: Path, engine: Engine) -> None:
    assert dispatch(store, "--name", "A", "--lat", "45", "--lon", "4.8")[1].strip() == "C0003"
    assert dispatch(store, "--name", "B", "--lat", "45", "--lon", "4.8", "--ref", "C0100")[1].strip() == "C0100"
    assert dispatch(store, "--name", "C", "--lat", "45", "--lon", "4.8")[1].strip() == "C0101"
    code, _, err = dispatch(store, "--name", "D", "--lat", "45", "--lon", "4.8", "--ref", "C0001")
    assert code == 3 and "ref: customer C0001 exists already (Claire Dupont)" in err


def test_an_empty_store_starts_the_numbering(engine: Engine) -> None:
    with Session(engine) as session:
        assert next_customer_ref(session) == "C0001"


def test_customers_entered_at_once_get_distinct_refs(store: Path) -> None:
    def enter(k: int) -> str:
        core = Core(Settings(db=str(store), timezone="Europe/Paris"))
        try:
            return core.create_customer(name=f"Caller {k}", lat=45.7, lon=4.8).ref
        finally:
            core.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        made = list(pool.map(enter, range(6)))
    assert sorted(made) == [f"C{n:04d}" for n in range(3, 9)]


def test_new_customers_and_the_geocoders_cache_on_each_backend(store_engine: Engine, geocoder: FakeNominatim) -> None:
    core = Core(Settings(db=db_arg(store_engine), timezone="Europe/Paris", geocoder_url=geocoder.url))
    first = core.create_customer(name="Zoé Martin", address=REPUBLIQUE, phone="06 11 22 33 44")
    second = core.create_customer(name="Paul Martin", address=REPUBLIQUE.upper())
    assert (first.ref, first.position_source, second.ref, second.position_source) == (
        "C0001", "geocoder", "C0002", "geocoder cache")  # fmt: skip
    assert len(geocoder.requests) == 1
    assert [hit.ref for hit in core.find_customers("0611223344")] == ["C0001"]
    core.close()
