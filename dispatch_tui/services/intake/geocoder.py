"""An address's position from a Nominatim-compatible geocoding server, cached in the store.

``GET {url}/search?q=ADDRESS&format=jsonv2&limit=1`` answers a JSON array of places, best first, each
with ``lat`` and ``lon`` as decimal text and a ``display_name``. The answer for an address is kept in
``geocodecacheentry`` (keyed by the server's URL and the folded address), so that the same address is
never asked for twice. Nothing here guesses: no answer is a refusal that says how to give the position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import insert, select
from sqlmodel import Session

from dispatch_tui import __version__
from dispatch_tui.services.errors import Refused
from dispatch_tui.store.models import GeocodeCacheEntry

USER_AGENT = f"dispatch-console/{__version__} (field-service dispatch; new customer sites)"
ADVICE = "give the position with --lat and --lon"
_SPACES = re.compile(r"\s+")


class GeocoderUnavailable(Refused):
    """The geocoding server could not be asked (down, too slow, an answer that is not Nominatim's JSON);
    nothing was written. A refusal, so that every front end shows it; the CLI exits 1 for it, as for any
    server it cannot reach (docs/exit-codes.md)."""


@dataclass(frozen=True)
class Position:
    lat: float
    lon: float
    display_name: str
    cached: bool  # from the store's cache: the server was not asked


def address_key(address: str) -> str:
    """What identifies an address in the cache: case and runs of spaces do not count."""
    return _SPACES.sub(" ", address).strip().casefold()


def source_of(url: str) -> str:
    return url.rstrip("/")


def cached_position(session: Session, url: str, address: str) -> Position | None:
    entry = session.scalars(
        select(GeocodeCacheEntry).where(
            GeocodeCacheEntry.source == source_of(url),  # type: ignore[arg-type]
            GeocodeCacheEntry.query == address_key(address),  # type: ignore[arg-type]
        )
    ).first()
    if entry is None:
        return None
    return Position(entry.lat, entry.lon, entry.display_name, cached=True)


def ask(url: str, address: str, *, timeout_s: float, client: httpx.Client | None = None) -> Position:
    """The server's best place for ``address``. Raises ``GeocoderUnavailable`` when it cannot answer,
    ``Refused`` when it knows no such address."""
    where = f"the geocoder at {source_of(url)}"
    params = {"q": address, "format": "jsonv2", "limit": "1"}
    try:
        if client is None:
            response = httpx.get(
                f"{source_of(url)}/search", params=params, headers={"User-Agent": USER_AGENT}, timeout=timeout_s
            )
        else:
            response = client.get(f"{source_of(url)}/search", params=params, headers={"User-Agent": USER_AGENT})
    except httpx.TimeoutException:
        raise GeocoderUnavailable([f"{where} did not answer within {timeout_s:g} s; try again, or {ADVICE}"]) from None
    except httpx.HTTPError as exc:
        raise GeocoderUnavailable([f"{where} cannot be reached ({exc}); try again, or {ADVICE}"]) from None
    if response.status_code != 200:
        raise GeocoderUnavailable(
            [f"{where} answered HTTP {response.status_code} ({response.text[:120].strip()}); {ADVICE}"]
        )
    try:
        places = response.json()
    except ValueError:
        raise GeocoderUnavailable([f"{where} answered something that is not JSON; {ADVICE}"]) from None
    if not isinstance(places, list):
        raise GeocoderUnavailable([f"{where} answered JSON that is not a list of places; {ADVICE}"])
    if not places:
        raise Refused([f"address: {where} knows no place at {address!r}; check the address, or {ADVICE}"])
    return _position(places[0], where)


def _position(place: Any, where: str) -> Position:
    try:
        lat, lon = float(place["lat"]), float(place["lon"])
    except (TypeError, KeyError, ValueError):
        raise GeocoderUnavailable([f"{where} answered a place without a readable lat/lon; {ADVICE}"]) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise GeocoderUnavailable([f"{where} answered a position off the globe ({lat}, {lon}); {ADVICE}"])
    name = place.get("display_name") if isinstance(place.get("display_name"), str) else ""
    return Position(lat, lon, name[:1000], cached=False)


def remember(session: Session, url: str, address: str, position: Position, at: datetime) -> None:
    """Keep the server's answer, in the caller's transaction; one already there (a concurrent writer's)
    is kept as it is."""
    if position.cached:
        return
    values = {"source": source_of(url), "query": address_key(address), "lat": position.lat, "lon": position.lon,
              "display_name": position.display_name, "fetched_at": at}  # fmt: skip
    table = GeocodeCacheEntry.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        from sqlalchemy.dialects import postgresql, sqlite

        statement = (sqlite if dialect == "sqlite" else postgresql).insert(table).on_conflict_do_nothing()
        session.execute(statement, values)
    elif session.get(GeocodeCacheEntry, (values["source"], values["query"])) is None:
        session.execute(insert(table), values)
