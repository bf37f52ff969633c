"""The travel cache on PostgreSQL: the upsert and the row-value lookups behave as on SQLite."""

from __future__ import annotations

from dispatch_tui.services.travel import StoreMatrixCache
from dispatch_tui.store import make_engine, upgrade
from tests.unit.osrm_fake import spread


def test_travel_cache_round_trip_overwrite_and_sources_on_postgresql(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    points = spread(30, seed=8)
    pairs = {(a, b): (i + j) % 50 for i, a in enumerate(points) for j, b in enumerate(points) if a != b}
    cache = StoreMatrixCache(engine, "http://osrm:5000")
    cache.put_many(pairs)
    cache.put_many({pair: minutes + 1 for pair, minutes in pairs.items()})
    assert cache.get_many(list(pairs)) == {pair: minutes + 1 for pair, minutes in pairs.items()}
    assert StoreMatrixCache(engine, "http://elsewhere:5000").get_many(list(pairs)) == {}
    engine.dispose()
