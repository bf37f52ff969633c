"""Finding the customer on a call (`Core.find_customers`, `dispatch customers find`): by ref, phone in any
format, e-mail, name with a typo and address; the ranking; what each result shows; the index in memory
kept current by the store's customer stamp."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.config import Settings
from dispatch_tui.services.core import Core
from dispatch_tui.services.intake import customers
from dispatch_tui.services.intake.customers import CustomerHit, phone_region, zone_country
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.services.jobs import record_change
from dispatch_tui.store.models import Job
from tests.clock import DAY, PAST_DAY, ZONE, at, iso, naive
from tests.conftest import WEEKDAYS, db_arg

TECHNICIANS = """ref,name,skills,home_lat,home_lon,shift_start,shift_end
T1,Ana Silva,boiler;plumbing,45.7600,4.8400,08:00,17:00
"""

CUSTOMERS = """ref,name,address,lat,lon,phone,email,contract
C0001,Claire Dupont,12 Rue Garibaldi,45.7590,4.8520,+33 6 12 34 56 78,Claire.Dupont@example.test,
C0002,Marc Dupond,3 Quai Rambaud,45.7430,4.8180,04 78 00 00 09,,gold
C0003,Jean Dumont,5 Rue Garibaldi,45.7600,4.8530,,jean@example.test,
C0004,Harbour Bakery,40 Avenue Jean Jaurès,45.7450,4.8420,0478112233,contact@harbour-bakery.example,gold
C0005,Hélène O'Brien,7 Place Bellecour,45.7578,4.8320,+44 20 7946 0958,,
"""


def requests_csv() -> str:
    """C0001: two open jobs (one at a second site) and four finished visits on past days."""
    rows = [
        f"R1,C0001,boiler,60,2,{naive(DAY, '09:00')},{naive(DAY, '11:00')},,No heat,phone,,,",
        f"R2,C0001,plumbing,45,3,{naive(DAY, '13:00')},{naive(DAY, '15:00')},,Leak,phone,45.7700,4.8600,8 Rue Royale",
        f"R3,C0002,boiler,60,3,{naive(DAY, '10:00')},{naive(DAY, '12:00')},,Service,web,,,",
    ]
    rows += [
        f"V{k},C0001,boiler,60,3,{naive(PAST_DAY, f'{8 + k:02d}:00')},{naive(PAST_DAY, f'{9 + k:02d}:00')},,Visit,"
        "phone,,,"
        for k in range(1, 5)
    ]
    header = "ref,customer_ref,skill,duration_min,priority,window_start,window_end,due_by,description,source," \
             "lat,lon,address"  # fmt: skip
    return "\n".join([header, *rows]) + "\n"


@pytest.fixture
def store(engine: Engine, db_path: Path) -> Path:
    for kind, content in ((ImportKind.TECHNICIANS, TECHNICIANS), (ImportKind.CUSTOMERS, CUSTOMERS),
                          (ImportKind.REQUESTS, requests_csv())):  # fmt: skip
        import_data(engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    with Session(engine) as session:  # four past visits finished at 09:00, 10:00, 11:00, 12:00 of PAST_DAY
        for k in range(1, 5):
            job = session.exec(select(Job).where(Job.ref == f"V{k}")).one()
            record_change(session, job, "completed", "test", "done", at=at(PAST_DAY, f"{8 + k:02d}:00"))
        session.commit()
    return db_path


@pytest.fixture
def core(store: Path) -> Core:
    return Core(Settings(db=str(store), timezone="Europe/Paris"))


def refs(hits: list[CustomerHit]) -> list[str]:
    return [hit.ref for hit in hits]


def why(hits: list[CustomerHit], ref: str) -> tuple[str, float]:
    hit = next(h for h in hits if h.ref == ref)
    return hit.match.field, hit.match.score


# --- each field -------------------------------------------------------------------------------------------


def test_a_ref_is_found_whatever_its_case_spaces_or_zeros(core: Core) -> None:
    assert refs(core.find_customers("C0003")) == ["C0003"]
    assert why(core.find_customers(" c0003 "), "C0003") == ("ref", 100.0)
    assert why(core.find_customers("c3"), "C0003") == ("ref", 95.0)  # the same number under the same letters
    assert why(core.find_customers("3"), "C0003") == ("ref", 90.0)  # a bare number: a ref, not house number 3


def test_a_phone_typed_in_another_format_is_the_same_number(core: Core) -> None:
    # stored "+33 6 12 34 56 78", typed as a French caller says it, or in E.164, or with 0033
    for typed in ("06 12 34 56 78", "06.12.34.56.78", "+33612345678", "0033 6 12 34 56 78"):
        assert refs(core.find_customers(typed)) == ["C0001"], typed
        assert why(core.find_customers(typed), "C0001") == ("phone", 100.0)
    # stored without a country code ("04 78 00 00 09", "0478112233"): read in the region, France
    assert refs(core.find_customers("+33 4 78 00 00 09")) == ["C0002"]
    assert refs(core.find_customers("+33478112233")) == ["C0004"]
    # a foreign number stored with its code, typed with the international prefix
    assert refs(core.find_customers("0044 20 7946 0958")) == ["C0005"]
    # the end of a number (at least six digits) finds the numbers ending so
    assert why(core.find_customers("34 56 78"), "C0001") == ("phone", 90.0)
    assert core.find_customers("06 12 34 56 79") == []  # another number is nobody


def test_without_a_region_only_numbers_with_a_country_code_are_numbers(store: Path) -> None:
    core = Core(Settings(db=str(store), timezone="UTC"))  # a zone of no one country: no region
    assert phone_region(core.settings) is None
    assert refs(core.find_customers("+33 6 12 34 56 78")) == ["C0001"]  # stored with +33: a number
    assert core.find_customers("+33478000009") == []  # stored "04 78 00 00 09": no number without a region
    assert core.find_customers("06 12 34 56 78") == []  # a national number, of no known country
    assert why(core.find_customers("12 34 56 78"), "C0001") == ("phone", 90.0)  # still: the end of a number


def test_the_region_is_the_setting_else_the_time_zones_country() -> None:
    assert zone_country("Europe/Paris") == "FR"
    assert zone_country("America/New_York") == "US"
    assert zone_country("Europe/Monaco") == "MC"
    assert zone_country("UTC") is None and zone_country("Etc/GMT+2") is None
    assert phone_region(Settings(timezone="Europe/London")) == "GB"
    assert phone_region(Settings(timezone="Europe/London", phone_region="FR")) == "FR"


def test_an_email_whatever_its_case_or_with_a_typo(core: Core) -> None:
    assert why(core.find_customers("claire.dupont@EXAMPLE.test"), "C0001") == ("email", 100.0)
    hits = core.find_customers("claire.dupomt@example.test")
    assert refs(hits) == ["C0001"] and why(hits, "C0001")[0] == "email" and 85 <= why(hits, "C0001")[1] < 100


def test_a_name_with_a_typo_is_found_and_the_exact_name_ranks_first(core: Core) -> None:
    hits = core.find_customers("Dupont")
    assert refs(hits)[:2] == ["C0001", "C0002"]  # Dupont (exact) before Dupond (one letter off)
    assert why(hits, "C0001") == ("name", 100.0)
    assert why(hits, "C0002") == ("name", 83.3)
    assert refs(core.find_customers("Dupond"))[0] == "C0002"  # and the other way round
    assert refs(core.find_customers("Dupnot"))[0] == "C0001"  # two letters swapped
    assert refs(core.find_customers("Claire Dupon"))[0] == "C0001"  # a letter missing
    assert refs(core.find_customers("claire DUPONT")) == ["C0001"]  # the other Dupon*s lack "claire"
    assert refs(core.find_customers("helene obrien")) == ["C0005"]  # accents and apostrophes do not count
    assert refs(core.find_customers("harbour"))[0] == "C0004"
    assert "C0001" in refs(core.find_customers("dup"))  # the start of a word
    assert core.find_customers("Zyxwvut") == []


def test_an_address_finds_the_customer_at_any_of_its_sites(core: Core) -> None:
    assert set(refs(core.find_customers("rue garibaldi"))) == {"C0001", "C0003"}
    hits = core.find_customers("12 rue garibaldi")
    assert refs(hits)[0] == "C0001" and why(hits, "C0001") == ("address", 100.0)  # the house number counts
    assert all(hit.match.score < 100 for hit in hits[1:])
    assert why(core.find_customers("8 rue royale"), "C0001") == ("address", 100.0)  # R2's site
    assert why(core.find_customers("Avenue Jean Jaures"), "C0004")[0] == "address"
    assert set(refs(core.find_customers("Garibaldy"))) == {"C0001", "C0003"}  # a typo in a street


def test_best_first_within_the_limit(core: Core) -> None:
    hits = core.find_customers("garibaldi", limit=1)
    assert len(hits) == 1
    scores = [hit.match.score for hit in core.find_customers("Dupont")]
    assert scores == sorted(scores, reverse=True)


# --- what a result shows ------------------------------------------------------------------------------------


def test_a_result_shows_the_sites_open_jobs_and_last_visits(core: Core) -> None:
    [hit] = core.find_customers("C0001")
    assert (hit.name, hit.phone, hit.email) == ("Claire Dupont", "+33 6 12 34 56 78", "Claire.Dupont@example.test")
    assert [(s.address, s.primary) for s in hit.sites] == [("12 Rue Garibaldi", True), ("8 Rue Royale", False)]
    assert (hit.sites[1].lat, hit.sites[1].lon) == (45.77, 4.86)
    assert [(j.ref, j.status, j.skill) for j in hit.open_jobs] == [("R1", "new", "boiler"), ("R2", "new", "plumbing")]
    assert hit.open_jobs[0].window_start == at(DAY, "09:00")
    # the last three finished, the latest first
    assert [v.ref for v in hit.last_visits] == ["V4", "V3", "V2"]
    assert hit.last_visits[0].finished_at == at(PAST_DAY, "12:00")
    assert hit.last_visits[0].status == "completed"


def test_cli_find_json_and_text(store: Path) -> None:
    result = CliRunner().invoke(app, ["--db", str(store), "--tz", "Europe/Paris", "customers", "find", "C0001",
                                      "--json"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    [hit] = json.loads(result.stdout)
    assert hit["match"] == {"field": "ref", "score": 100.0, "value": "C0001"}
    assert hit["open_jobs"][0] == {"ref": "R1", "status": "new", "skill": "boiler", "priority": 2,
                                   "window_start": iso(DAY, "09:00"), "window_end": iso(DAY, "11:00")}  # fmt: skip
    assert hit["last_visits"][0] == {"ref": "V4", "status": "completed", "skill": "boiler",
                                     "finished_at": iso(PAST_DAY, "12:00"), "technician_ref": None}  # fmt: skip
    assert hit["sites"][0] == {"address": "12 Rue Garibaldi", "lat": 45.759, "lon": 4.852, "primary": True}
    result = CliRunner().invoke(app, ["--db", str(store), "--tz", "Europe/Paris", "customers", "find",
                                      "06 12 34 56 78"])  # fmt: skip
    assert result.exit_code == 0 and "C0001" in result.stdout and "1 customer(s)" in result.stdout
    result = CliRunner().invoke(app, ["--db", str(store), "customers", "find", "Nobody-at-all", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
    result = CliRunner().invoke(app, ["--db", str(store), "customers", "find", "Nobody-at-all"])
    assert result.exit_code == 0 and "no customer matches" in result.stderr


def test_cli_usage_errors_exit_2(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert CliRunner().invoke(app, ["--db", str(store), "customers", "find"]).exit_code == 2
    assert CliRunner().invoke(app, ["--db", str(store), "customers", "find", "x", "--limit", "0"]).exit_code == 2
    monkeypatch.setenv("DISPATCH_PHONE_REGION", "france")
    result = CliRunner().invoke(app, ["--db", str(store), "customers", "find", "x"])
    assert result.exit_code == 2 and "phone_region" in result.stderr


# --- the index in memory --------------------------------------------------------------------------------------


def test_the_index_is_kept_while_nothing_changed_and_read_again_after_any_change(core: Core, engine: Engine) -> None:
    core.find_customers("Dupont")
    with core.session() as session:
        first = customers.directory(session, "FR")
    core.find_customers("Dumont")
    with core.session() as session:
        assert customers.directory(session, "FR") is first  # nothing changed: not read again
    # another writer renames and re-numbers a customer (an update: the number of customers is the same)
    renamed = CUSTOMERS.replace(
        "C0003,Jean Dumont,5 Rue Garibaldi,45.7600,4.8530,,jean@example.test,",
        "C0003,Jeanne Lambert,5 Rue Garibaldi,45.7600,4.8530,+33 6 99 88 77 66,jean@example.test,",
    )
    assert renamed != CUSTOMERS
    import_data(engine, ImportKind.CUSTOMERS, renamed.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    assert refs(core.find_customers("Lambert")) == ["C0003"]
    assert refs(core.find_customers("06 99 88 77 66")) == ["C0003"]
    assert "C0003" not in refs(core.find_customers("Dumont"))
    assert refs(core.find_customers("helene obrien")) == ["C0005"]
    with engine.begin() as connection:  # a script moves a site and deletes a customer
        connection.execute(text("UPDATE site SET address = 'Quai Perrache' WHERE address = '3 Quai Rambaud'"))
        connection.execute(text("DELETE FROM customer WHERE ref = 'C0005'"))
    assert refs(core.find_customers("quai perrache")) == ["C0002"]
    assert core.find_customers("helene obrien") == []


def test_the_stamp_moves_on_every_change_of_customers_and_sites(store_engine: Engine) -> None:
    def stamp() -> int:
        with Session(store_engine) as session:
            return customers.stamp(session)

    seen = [stamp()]
    import_data(store_engine, ImportKind.CUSTOMERS, CUSTOMERS.encode(), FileFormat.CSV, zone=ZONE,
                working_days=WEEKDAYS)  # fmt: skip
    for statement in ("UPDATE customer SET name = 'X' WHERE ref = 'C0002'", "UPDATE site SET lat = 45.0 WHERE id = 1",
                      "DELETE FROM customer WHERE ref = 'C0005'"):  # fmt: skip
        seen.append(stamp())
        with store_engine.begin() as connection:
            connection.execute(text(statement))
    seen.append(stamp())
    assert all(a < b for a, b in pairwise(seen)), seen
    with store_engine.begin() as connection:
        connection.execute(text("UPDATE job SET priority = priority"))  # other tables do not move it
    assert stamp() == seen[-1]


def test_lookup_on_each_backend(store_engine: Engine) -> None:
    for kind, content in ((ImportKind.TECHNICIANS, TECHNICIANS), (ImportKind.CUSTOMERS, CUSTOMERS),
                          (ImportKind.REQUESTS, requests_csv())):  # fmt: skip
        import_data(store_engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    with Session(store_engine) as session:
        job = session.exec(select(Job).where(Job.ref == "V1")).one()
        record_change(session, job, "completed", "test", "done", at=at(PAST_DAY, "09:00"))
        session.commit()
    core = Core(Settings(db=db_arg(store_engine), timezone="Europe/Paris"))
    [hit] = core.find_customers("06 12 34 56 78")
    assert hit.ref == "C0001" and [j.ref for j in hit.open_jobs] == ["V2", "V3", "V4", "R1", "R2"]  # by window
    assert [(v.ref, v.finished_at) for v in hit.last_visits] == [("V1", at(PAST_DAY, "09:00"))]
    assert refs(core.find_customers("Dupnot"))[0] == "C0001"
    core.close()
