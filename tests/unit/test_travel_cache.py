"""The store-backed matrix cache and the choice of travel model from the settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, event, text

from dispatch_tui import clock
from dispatch_tui.config import Settings
from dispatch_tui.services.travel import StoreMatrixCache, _upsert, point_travel, travel_model
from dispatch_tui.travel.model import HaversineModel, TravelUnavailable
from dispatch_tui.travel.osrm import OsrmModel
from tests.unit.osrm_fake import FakeOsrm, closed_port_url, expected, fake_osrm, spread

URL = "http://osrm.example:5000"
A, B, C = (45.76, 4.84), (45.77512, -4.0), (-33.86785, 151.20732)


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    with fake_osrm() as fake:
        yield fake


@pytest.fixture(autouse=True)
def no_routing_server_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPATCH_TRAVEL_URL", "DISPATCH_TRAVEL_FALLBACK", "DISPATCH_TRAVEL_SPEED_KMH"):
        monkeypatch.delenv(name, raising=False)


def _selects(engine: Engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn, cursor, statement: str, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "travelcacheentry" in statement:
            seen.append(statement)

    return seen


def test_round_trip_and_unknown_pairs_are_absent(engine: Engine) -> None:
    cache = StoreMatrixCache(engine, URL)
    cache.put_many({(A, B): 12, (B, A): 14, (A, C): 0})
    assert cache.get_many([(A, B), (B, A), (A, C), (C, A), (B, C)]) == {(A, B): 12, (B, A): 14, (A, C): 0}
    assert cache.get_many([]) == {}


def test_places_are_stored_as_exact_whole_1e5_degrees(engine: Engine) -> None:
    StoreMatrixCache(engine, URL).put_many({(A, C): 7})
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT source, from_lat_e5, from_lon_e5, to_lat_e5, to_lon_e5, minutes FROM travelcacheentry")
        ).one()
    assert tuple(row) == (URL, 4576000, 484000, -3386785, 15120732, 7)
    assert all(type(value) is int for value in tuple(row)[1:])


def test_points_a_metre_apart_share_an_entry(engine: Engine) -> None:
    cache = StoreMatrixCache(engine, URL)
    cache.put_many({((45.123454, 4.84), B): 9})
    assert cache.get_many([((45.123446, 4.84), B), ((45.12345, 4.84), B)]) == {
        ((45.123446, 4.84), B): 9,
        ((45.12345, 4.84), B): 9,
    }


def test_entries_of_different_servers_do_not_mix(engine: Engine) -> None:
    one, other = StoreMatrixCache(engine, URL), StoreMatrixCache(engine, "http://other:5000")
    one.put_many({(A, B): 12})
    assert other.get_many([(A, B)]) == {}
    other.put_many({(A, B): 30})
    assert one.get_many([(A, B)]) == {(A, B): 12}
    assert other.get_many([(A, B)]) == {(A, B): 30}


def test_putting_the_same_pairs_again_overwrites(engine: Engine) -> None:
    cache = StoreMatrixCache(engine, URL)
    cache.put_many({(A, B): 12, (B, A): 14})
    cache.put_many({(A, B): 13, (B, C): 1})
    assert cache.get_many([(A, B), (B, A), (B, C)]) == {(A, B): 13, (B, A): 14, (B, C): 1}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM travelcacheentry")).scalar() == 3


def test_the_portable_delete_then_insert_path_overwrites_too(engine: Engine) -> None:
    cache = StoreMatrixCache(engine, URL)
    cache.put_many({(A, B): 12, (B, A): 14})
    key = (4576000, 484000, 4577512, -400000)  # A -> B
    row = {"source": URL, "from_lat_e5": key[0], "from_lon_e5": key[1], "to_lat_e5": key[2], "to_lon_e5": key[3],
           "minutes": 20, "fetched_at": clock.now()}  # fmt: skip
    with engine.begin() as connection:
        _upsert(connection, URL, {key: row}, portable=True)
    assert cache.get_many([(A, B), (B, A)]) == {(A, B): 20, (B, A): 14}


def test_negative_minutes_are_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="0 or more"):
        StoreMatrixCache(engine, URL).put_many({(A, B): -1})


def test_a_200_place_matrix_is_looked_up_in_one_query(engine: Engine) -> None:
    points = spread(200, seed=4)
    pairs = {(a, b): (i * 7 + j) % 300 for i, a in enumerate(points) for j, b in enumerate(points) if a != b}
    cache = StoreMatrixCache(engine, URL)
    cache.put_many(pairs)
    selects = _selects(engine)
    assert cache.get_many(list(pairs)) == pairs
    assert len(selects) == 1


def test_the_osrm_model_with_the_store_cache_asks_each_pair_once(engine: Engine, osrm: FakeOsrm) -> None:
    points = spread(12, seed=6)
    model = OsrmModel(osrm.url, timeout_s=0.5, cache=StoreMatrixCache(engine, osrm.url))
    assert model.matrix(points[:8]) == expected(points[:8])
    assert model.matrix(points) == expected(points)
    fresh = OsrmModel(osrm.url, timeout_s=0.5, cache=StoreMatrixCache(engine, osrm.url))  # a later command
    assert fresh.matrix(points[::-1]) == expected(points[::-1])
    assert osrm.hits == 3  # one for the first 8, two for what the 4 new places add, none for the third
    assert len(osrm.requested_pairs()) == 12 * 11


# -- from the settings ---------------------------------------------------------------------------------


def test_without_a_url_the_straight_line_model_with_the_settings_parameters(engine: Engine) -> None:
    model = travel_model(Settings(travel_road_factor=1.5, travel_speed_kmh=30.0), engine)
    assert isinstance(model, HaversineModel)
    assert (model.road_factor, model.speed_kmh) == (1.5, 30.0)
    assert isinstance(travel_model(Settings(travel_url=""), engine), HaversineModel)


def test_with_a_url_the_routing_server_cached_in_the_store_and_no_silent_fallback(engine: Engine) -> None:
    model = travel_model(Settings(travel_url=URL + "/", travel_timeout_s=0.3, travel_retries=4), engine)
    assert isinstance(model, OsrmModel)
    assert (model.base_url, model.timeout_s, model.retries, model.fallback) == (URL, 0.3, 4, None)
    assert isinstance(model.cache, StoreMatrixCache) and model.cache.source == URL


def test_fallback_only_when_the_settings_allow_it(engine: Engine) -> None:
    settings = Settings(travel_url=URL, travel_fallback=True, travel_road_factor=1.2, travel_speed_kmh=50.0)
    model = travel_model(settings, engine)
    assert isinstance(model, OsrmModel) and isinstance(model.fallback, HaversineModel)
    assert (model.fallback.road_factor, model.fallback.speed_kmh) == (1.2, 50.0)


def test_point_travel_pair_by_pair(engine: Engine, osrm: FakeOsrm) -> None:
    straight = point_travel(Settings(), engine)
    assert straight(A, B) == HaversineModel().minutes(A, B)

    a, b = spread(2, seed=7)
    routed = point_travel(Settings(travel_url=osrm.url, travel_timeout_s=0.5), engine)
    assert (routed(a, b), routed(b, a), routed(a, a)) == (expected([a, b])[0][1], expected([a, b])[1][0], 0)
    assert osrm.hits == 1  # both directions in one request, then remembered


def test_point_travel_falls_back_only_if_allowed(engine: Engine) -> None:
    url = closed_port_url()
    with pytest.raises(TravelUnavailable, match="did not answer"):
        point_travel(Settings(travel_url=url, travel_retries=0), engine)(A, B)
    allowed = point_travel(Settings(travel_url=url, travel_retries=0, travel_fallback=True), engine)
    assert allowed(A, B) == HaversineModel().minutes(A, B)
