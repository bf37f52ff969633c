"""The OSRM-compatible client against a real HTTP server on 127.0.0.1 (tests/unit/osrm_fake.py)."""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterator
from typing import TypedDict

import httpx
import pytest

from dispatch_tui.travel.model import HaversineModel, TravelUnavailable
from dispatch_tui.travel.osrm import MAX_TABLE, OsrmModel, _plan
from tests.unit.osrm_fake import DictCache, FakeOsrm, closed_port_url, expected, fake_osrm, spread


class Timing(TypedDict):
    timeout_s: float
    backoff_s: float


FAST: Timing = {"timeout_s": 0.5, "backoff_s": 0.01}  # tests never wait long


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    with fake_osrm() as fake:
        yield fake


@pytest.fixture
def closed_url() -> str:
    return closed_port_url()


# -- answers -----------------------------------------------------------------------------------------


def test_matrix_from_the_server_in_whole_minutes_the_right_way_round(osrm: FakeOsrm) -> None:
    south, north = (45.70000, 4.80000), (45.80000, 4.80000)  # 11.1 km: 800.6 s south-bound, 890.6 s north
    points = [south, north, *spread(4)]
    matrix = OsrmModel(osrm.url, **FAST).matrix(points)
    assert matrix == expected(points)
    assert (matrix[0][1], matrix[1][0]) == (15, 14)  # from south to north is the longer one
    assert len(osrm.requests) == 1
    (request,) = osrm.requests
    assert request.coordinates == points and "sources" not in request.raw  # a square: no index lists


def test_duplicate_and_one_metre_apart_points_are_zero_and_asked_once(osrm: FakeOsrm) -> None:
    a, b = spread(2)
    near_a = (a[0] + 0.000001, a[1] - 0.000002)  # rounds to a
    matrix = OsrmModel(osrm.url, **FAST).matrix([a, b, a, near_a])
    ab, ba = expected([a, b])[0][1], expected([a, b])[1][0]
    assert matrix == [[0, ab, 0, 0], [ba, 0, ba, ba], [0, ab, 0, 0], [0, ab, 0, 0]]
    assert [r.coordinates for r in osrm.requests] == [[a, b]]


def test_no_places_or_one_place_asks_nothing(osrm: FakeOsrm) -> None:
    model = OsrmModel(osrm.url, **FAST)
    assert model.matrix([]) == []
    assert model.matrix([(45.0, 4.0)]) == [[0]]
    assert model.matrix([(45.0, 4.0), (45.0, 4.0)]) == [[0, 0], [0, 0]]
    assert osrm.hits == 0


def test_an_injected_client_is_used_and_left_open(osrm: FakeOsrm) -> None:
    seen: list[str] = []
    with httpx.Client(event_hooks={"request": [lambda request: seen.append(str(request.url))]}) as client:
        points = spread(3)
        assert OsrmModel(osrm.url + "/", client=client, **FAST).matrix(points) == expected(points)
        assert len(seen) == 1 and seen[0].startswith(f"{osrm.url}/table/v1/driving/")
        assert not client.is_closed


# -- failures and retries ----------------------------------------------------------------------------


def test_5xx_is_retried_and_then_the_answer_is_used(osrm: FakeOsrm) -> None:
    osrm.fail_first = 2
    points = spread(3)
    assert OsrmModel(osrm.url, retries=2, **FAST).matrix(points) == expected(points)
    assert osrm.hits == 3


def test_5xx_past_the_retries_is_a_clear_error(osrm: FakeOsrm) -> None:
    osrm.fail_first = 100
    with pytest.raises(TravelUnavailable) as caught:
        OsrmModel(osrm.url, retries=1, **FAST).matrix(spread(3))
    assert str(caught.value) == (
        f"routing server {osrm.url} did not answer after 2 attempts (HTTP 503 Service Unavailable); "
        "check DISPATCH_TRAVEL_URL or set travel_fallback"
    )
    assert osrm.hits == 2


def test_a_server_slower_than_the_timeout_is_given_up_on(osrm: FakeOsrm) -> None:
    osrm.delay_s = 5.0
    model = OsrmModel(osrm.url, timeout_s=0.2, retries=1, backoff_s=0.01)
    with pytest.raises(TravelUnavailable, match=r"did not answer after 2 attempts \(no answer within 0.2 s\)"):
        model.matrix(spread(2))
    assert osrm.hits == 2


def test_a_4xx_is_not_retried_and_its_reason_is_shown(osrm: FakeOsrm) -> None:
    osrm.invalid = True
    with pytest.raises(TravelUnavailable) as caught:
        OsrmModel(osrm.url, retries=3, **FAST).matrix(spread(2))
    assert osrm.hits == 1
    assert str(caught.value) == (
        f"routing server {osrm.url} refused the table request (HTTP 400, InvalidQuery: Query string malformed "
        "close to position 28); check DISPATCH_TRAVEL_URL or set travel_fallback"
    )


def test_a_4xx_with_fallback_gives_straight_line_times(osrm: FakeOsrm, caplog: pytest.LogCaptureFixture) -> None:
    osrm.invalid = True
    points = spread(3)
    with caplog.at_level(logging.WARNING, logger="dispatch_tui.travel.osrm"):
        matrix = OsrmModel(osrm.url, fallback=HaversineModel(), **FAST).matrix(points)
    assert matrix == HaversineModel().matrix(points)
    assert "InvalidQuery" in caplog.text and "HaversineModel" in caplog.text


def test_no_route_for_a_pair_names_the_two_places(osrm: FakeOsrm) -> None:
    a, b, c = (45.7, 4.8), (45.75, 4.85), (45.8, 4.9)
    osrm.no_route = {(b, c)}
    cache = DictCache()
    with pytest.raises(TravelUnavailable) as caught:
        OsrmModel(osrm.url, cache=cache, **FAST).matrix([a, b, c])
    assert len(cache.entries) == 5  # what did arrive is kept
    message = str(caught.value)
    assert message.startswith(
        f"routing server {osrm.url} found no route from (45.75000, 4.85000) to (45.80000, 4.90000)"
    )
    assert "travel_fallback" in message


def test_no_route_with_fallback_replaces_only_that_pair_and_does_not_cache_it(osrm: FakeOsrm) -> None:
    a, b, c = (45.7, 4.8), (45.75, 4.85), (45.8, 4.9)
    osrm.no_route = {(b, c)}
    cache = DictCache()
    fallback = HaversineModel(road_factor=3.0, speed_kmh=10.0)  # unmistakable values
    matrix = OsrmModel(osrm.url, cache=cache, fallback=fallback, **FAST).matrix([a, b, c])
    wanted = expected([a, b, c])
    wanted[1][2] = fallback.minutes(b, c)
    assert matrix == wanted
    assert (b, c) not in cache.entries and len(cache.entries) == 5


def test_an_unreachable_server_is_a_clear_error(closed_url: str) -> None:
    model = OsrmModel(closed_url, retries=2, **FAST)
    with pytest.raises(TravelUnavailable) as caught:
        model.matrix(spread(3))
    assert str(caught.value) == (
        f"routing server {closed_url} did not answer after 3 attempts (connection refused); "
        "check DISPATCH_TRAVEL_URL or set travel_fallback"
    )


def test_an_unreachable_server_with_fallback_gives_straight_line_times(
    closed_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    points = spread(5)
    with caplog.at_level(logging.WARNING, logger="dispatch_tui.travel.osrm"):
        matrix = OsrmModel(closed_url, fallback=HaversineModel(), **FAST).matrix(points)
    assert matrix == HaversineModel().matrix(points)
    assert "connection refused" in caplog.text and "20 of 20 travel times" in caplog.text


def test_when_the_server_is_down_cached_times_still_count(closed_url: str) -> None:
    a, b, c = spread(3)
    cache = DictCache()
    cache.entries[(a, b)] = 999
    matrix = OsrmModel(closed_url, cache=cache, fallback=HaversineModel(), **FAST).matrix([a, b, c])
    straight = HaversineModel().matrix([a, b, c])
    straight[0][1] = 999
    assert matrix == straight
    assert cache.puts == []  # straight-line times are never cached as the server's


def test_the_server_is_not_tried_block_after_block_once_it_is_down(closed_url: str) -> None:
    points = spread(130, seed=3)  # four blocks
    tries: list[httpx.Request] = []
    with httpx.Client(event_hooks={"request": [tries.append]}) as client:
        model = OsrmModel(closed_url, retries=1, fallback=HaversineModel(), client=client, **FAST)
        assert model.matrix(points) == HaversineModel().matrix(points)
    assert len(tries) == 2  # the first block's two attempts, then straight to the fallback


def test_settings_that_would_wait_forever_are_refused() -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        OsrmModel("http://x", timeout_s=0)
    with pytest.raises(ValueError, match="retries"):
        OsrmModel("http://x", retries=-1)


# -- large matrices and the cache --------------------------------------------------------------------


def test_a_130_place_matrix_is_asked_in_blocks_of_at_most_100_by_100(osrm: FakeOsrm) -> None:
    points = spread(130, seed=2)
    matrix = OsrmModel(osrm.url, **FAST).matrix(points)
    assert matrix == expected(points)
    assert len(osrm.requests) == 4
    for request in osrm.requests:
        assert len(request.sources) <= MAX_TABLE and len(request.destinations) <= MAX_TABLE
        assert len(request.coordinates) <= 2 * MAX_TABLE
        assert "%3B" not in request.raw  # literal ';' separators, as OSRM wants
    assert osrm.requested_pairs() == {(a, b) for a in points for b in points if a != b}
    assert sum("sources=" in request.raw for request in osrm.requests) == 2  # the two off-diagonal blocks


def test_a_second_identical_matrix_asks_the_server_nothing(osrm: FakeOsrm) -> None:
    points = spread(6)
    cache = DictCache()
    model = OsrmModel(osrm.url, cache=cache, **FAST)
    first = model.matrix(points)
    assert len(cache.entries) == 30 and osrm.hits == 1
    assert model.matrix(points) == first == expected(points)
    assert osrm.hits == 1
    assert OsrmModel(osrm.url, cache=cache, **FAST).matrix(points[::-1]) == expected(points[::-1])
    assert osrm.hits == 1


def test_a_larger_matrix_fetches_only_the_missing_pairs(osrm: FakeOsrm) -> None:
    old, new = spread(8)[:5], spread(8)[5:]
    cache = DictCache()
    model = OsrmModel(osrm.url, cache=cache, **FAST)
    model.matrix(old)
    osrm.requests.clear()
    points = [new[0], *old, *new[1:]]
    assert model.matrix(points) == expected(points)
    asked = osrm.requested_pairs()
    assert asked == {(a, b) for a in points for b in points if a != b and not (a in old and b in old)}
    assert len(osrm.requests) == 2  # old -> new, and new -> everything
    assert len(cache.entries) == 8 * 7


def test_the_plan_groups_sources_that_want_the_same_places() -> None:
    old = range(150)  # known among themselves; 150..159 are new
    missing = {(i, j) for i in range(160) for j in range(160) if i != j and not (i in old and j in old)}
    blocks = _plan(missing)
    assert sorted((len(s), len(d)) for s, d in blocks) == [(10, 60), (10, 100), (50, 10), (100, 10)]
    covered = {(i, j) for s, d in blocks for i in s for j in d}
    assert missing <= covered and covered - missing <= {(i, i) for i in range(160)}


def test_scattered_missing_pairs_are_asked_in_one_rectangle_not_one_request_each() -> None:
    rng = random.Random(5)
    missing = {(i, j) for i in range(60) for j in range(60) if i != j and rng.random() < 0.3}
    blocks = _plan(missing)
    assert len(blocks) == 1
    sources, destinations = blocks[0]
    assert missing <= {(i, j) for i in sources for j in destinations}


def test_repr_shows_the_url_without_its_trailing_slash() -> None:
    assert re.fullmatch(r"OsrmModel\('http://h:5000', .*\)", repr(OsrmModel("http://h:5000/")))
