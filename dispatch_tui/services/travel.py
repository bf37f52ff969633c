"""The travel model the settings ask for, and the store-backed cache of routing-server times.

``travel_model(settings, engine)`` is the one place that turns settings into a ``TravelModel``: the
straight-line model when no routing server is configured, else an ``OsrmModel`` whose matrices are
cached in the store (table ``travelcacheentry``, keyed by the server's URL) and which falls back to the
straight-line model only if ``travel_fallback`` allows it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Engine, and_, delete, insert, select, tuple_

from dispatch_tui.store.models import TravelCacheEntry, utcnow
from dispatch_tui.travel.model import HaversineModel, Point, TravelModel

if TYPE_CHECKING:
    from dispatch_tui.config import Settings
    from dispatch_tui.travel.osrm import OsrmModel

__all__ = ["StoreMatrixCache", "point_travel", "prefetch", "travel_model"]

E5 = tuple[int, int]  # a place in whole 1e-5 degrees
Key = tuple[int, int, int, int]  # from_lat_e5, from_lon_e5, to_lat_e5, to_lon_e5

# Places per side of one lookup query: (2 + 2) * 250 + 1 bound parameters, well under every limit.
_LOOKUP_CHUNK = 250

_table = TravelCacheEntry.__table__  # type: ignore[attr-defined]
_c = _table.c
_KEY_COLUMNS = ("source", "from_lat_e5", "from_lon_e5", "to_lat_e5", "to_lon_e5")


def _e5(p: Point) -> E5:
    return (round(p[0] * 1e5), round(p[1] * 1e5))


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    return (items[k : k + size] for k in range(0, len(items), size))


class StoreMatrixCache:
    """A ``MatrixCache`` in the store, for the routing server named by ``source`` (its URL)."""

    def __init__(self, engine: Engine, source: str) -> None:
        self.engine = engine
        self.source = source

    def get_many(self, pairs: Collection[tuple[Point, Point]]) -> dict[tuple[Point, Point], int]:
        # A matrix asks for (nearly) every pair between its places, so the lookup is by places, not by
        # pairs: one query per up to 250 origins x 250 destinations (a 200-place matrix, 40,000 pairs,
        # is one query), keeping only the rows for pairs that were asked for.
        wanted: dict[Key, tuple[Point, Point]] = {}
        also: dict[Key, list[tuple[Point, Point]]] = defaultdict(list)  # other points rounding to the same key
        destinations: dict[E5, set[E5]] = defaultdict(set)
        places: dict[Point, E5] = {}  # each place is in many pairs: round it once
        for pair in pairs:
            origin, destination = pair
            a = places.get(origin) or places.setdefault(origin, _e5(origin))
            b = places.get(destination) or places.setdefault(destination, _e5(destination))
            key = (*a, *b)
            if wanted.setdefault(key, pair) is not pair:
                also[key].append(pair)
            destinations[a].add(b)
        found: dict[tuple[Point, Point], int] = {}
        if not wanted:
            return found
        columns = (_c.from_lat_e5, _c.from_lon_e5, _c.to_lat_e5, _c.to_lon_e5, _c.minutes)
        with self.engine.connect() as connection:
            for origins in _chunks(sorted(destinations), _LOOKUP_CHUNK):
                targets = sorted(set().union(*(destinations[origin] for origin in origins)))
                for some_targets in _chunks(targets, _LOOKUP_CHUNK):
                    query = select(*columns).where(
                        _c.source == self.source,
                        tuple_(_c.from_lat_e5, _c.from_lon_e5).in_(origins),
                        tuple_(_c.to_lat_e5, _c.to_lon_e5).in_(some_targets),
                    )
                    for from_lat, from_lon, to_lat, to_lon, minutes in connection.execute(query):
                        hit = wanted.get((from_lat, from_lon, to_lat, to_lon))
                        if hit is not None:
                            found[hit] = minutes
        for key, pairs_alike in also.items():
            if wanted[key] in found:
                for pair in pairs_alike:
                    found[pair] = found[wanted[key]]
        return found

    def put_many(self, entries: Mapping[tuple[Point, Point], int]) -> None:
        now = utcnow()
        rows: dict[Key, dict[str, Any]] = {}  # by key: two points rounding alike are one entry (last wins)
        for (origin, destination), minutes in entries.items():
            if minutes < 0:
                raise ValueError(f"travel minutes must be 0 or more, got {minutes} for {origin} -> {destination}")
            key = (*_e5(origin), *_e5(destination))
            rows[key] = {
                "source": self.source, "from_lat_e5": key[0], "from_lon_e5": key[1], "to_lat_e5": key[2],
                "to_lon_e5": key[3], "minutes": int(minutes), "fetched_at": now,
            }  # fmt: skip
        if not rows:
            return
        with self.engine.begin() as connection:
            _upsert(connection, self.source, rows)


def _upsert(connection: Connection, source: str, rows: dict[Key, dict[str, Any]], *, portable: bool = False) -> None:
    """Insert the rows, replacing those with the same keys: ``ON CONFLICT DO UPDATE`` on SQLite and
    PostgreSQL (safe against a concurrent writer), delete-then-insert in the caller's transaction
    elsewhere (or when ``portable``, which the tests use to check that path)."""
    values = list(rows.values())
    dialect = connection.dialect.name
    if not portable and dialect in ("sqlite", "postgresql"):
        from sqlalchemy.dialects import postgresql, sqlite

        statement = (sqlite if dialect == "sqlite" else postgresql).insert(_table)
        statement = statement.on_conflict_do_update(
            index_elements=list(_KEY_COLUMNS),
            set_={"minutes": statement.excluded.minutes, "fetched_at": statement.excluded.fetched_at},
        )
        connection.execute(statement, values)
        return
    for keys in _chunks(list(rows), _LOOKUP_CHUNK):
        connection.execute(
            delete(_table).where(
                and_(
                    _c.source == source,
                    tuple_(_c.from_lat_e5, _c.from_lon_e5, _c.to_lat_e5, _c.to_lon_e5).in_(keys),
                )
            )
        )
    connection.execute(insert(_table), values)


def travel_model(settings: Settings, engine: Engine) -> TravelModel:
    """The travel model the settings ask for (see ``Settings.travel_*``)."""
    straight_line = HaversineModel(settings.travel_road_factor, settings.travel_speed_kmh)
    if not settings.travel_url:  # unset (or set empty): no routing server
        return straight_line
    from dispatch_tui.travel.osrm import OsrmModel  # httpx only when a routing server is configured

    url = settings.travel_url.rstrip("/")
    return OsrmModel(
        url,
        timeout_s=settings.travel_timeout_s,
        retries=settings.travel_retries,
        cache=StoreMatrixCache(engine, url),
        fallback=straight_line if settings.travel_fallback else None,
    )


def point_travel(settings: Settings, engine: Engine) -> Callable[[Point, Point], int]:
    """Minutes from one place to another under the configured model, for rules that ask pair by pair.

    The straight-line model answers directly. With a routing server, answers are remembered for the life
    of the returned function, and callers that know which legs they will ask for hand them to
    ``prefetch`` first, so that they cost one cache query and a few server requests, not one each.
    """
    model = travel_model(settings, engine)
    if isinstance(model, HaversineModel):
        return model.minutes
    return _RoutedTravel(cast("OsrmModel", model))  # the only other model travel_model makes


class _RoutedTravel:
    def __init__(self, model: OsrmModel) -> None:
        self.model = model
        self.known: dict[tuple[Point, Point], int] = {}

    def prefetch(self, pairs: Iterable[tuple[Point, Point]]) -> None:
        wanted = list(dict.fromkeys(pair for pair in pairs if pair not in self.known))
        if wanted:
            self.known.update(self.model.pairs(wanted))

    def __call__(self, a: Point, b: Point) -> int:
        if (a, b) not in self.known:
            self.prefetch([(a, b), (b, a)])
        return self.known[(a, b)]


def prefetch(travel: Callable[[Point, Point], int], pairs: Iterable[tuple[Point, Point]]) -> None:
    """Warm ``travel`` with the legs about to be asked for (a no-op for the straight-line model)."""
    warm = getattr(travel, "prefetch", None)
    if warm is not None:
        warm(pairs)
