"""Travel times from an OSRM-compatible routing server's ``/table`` service, cached.

``GET {base_url}/table/v1/driving/{lon,lat;lon,lat;...}?annotations=duration[&sources=..&destinations=..]``
answers ``{"code": "Ok", "durations": [[seconds or null, ...], ...]}``; a travel time is the whole minutes
``ceil(seconds / 60)``. Points are sent (and cached) rounded to 5 decimals, see ``cache_key``.

Only the pairs missing from the cache are asked for, in requests of at most ``MAX_TABLE`` sources by
``MAX_TABLE`` destinations (OSRM's default ``--max-table-size``). Connection errors, timeouts and 5xx
answers are retried a bounded number of times with a short backoff; 4xx answers are not. When the server
still gives no answer, or no route for a pair, the ``fallback`` model is used if there is one (with a
logged warning), else ``TravelUnavailable`` says what went wrong and what to do.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

from dispatch_tui.travel.model import MatrixCache, Point, TravelModel, TravelUnavailable, cache_key

__all__ = ["MAX_TABLE", "OsrmModel", "TravelUnavailable"]

log = logging.getLogger(__name__)

MAX_TABLE = 100  # OSRM's default max-table-size: sources x destinations per request at most 100 x 100
_ADVICE = "check DISPATCH_TRAVEL_URL or set travel_fallback"
_NO_ROUTE_ADVICE = "check that place's coordinates, or set travel_fallback to use a straight-line time there"

Pair = tuple[int, int]  # indices into the matrix's distinct points
Block = tuple[list[int], list[int]]  # sources, destinations


class _Unreachable(Exception):
    """No answer after every attempt: connection errors, timeouts, 5xx."""


class _Refused(Exception):
    """An answer that is not a table: 4xx, a code other than "Ok", a malformed body."""


class OsrmModel:
    """A ``TravelModel`` backed by an OSRM-compatible routing server."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        retries: int = 2,
        cache: MatrixCache | None = None,
        fallback: TravelModel | None = None,
        client: httpx.Client | None = None,
        backoff_s: float = 0.2,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        if retries < 0:
            raise ValueError(f"retries must be 0 or more, got {retries}")
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.retries = retries
        self.cache = cache
        self.fallback = fallback
        self.backoff_s = backoff_s
        self._client = client

    def __repr__(self) -> str:
        return f"OsrmModel({self.base_url!r}, timeout_s={self.timeout_s}, retries={self.retries})"

    def matrix(self, points: Sequence[Point]) -> list[list[int]]:
        keys = [cache_key(p) for p in points]
        times = self.pairs([(a, b) for a in keys for b in keys if a != b])
        return [[0 if a == b else times[(a, b)] for b in keys] for a in keys]

    def pairs(self, wanted: Collection[tuple[Point, Point]]) -> dict[tuple[Point, Point], int]:
        """Minutes for just these (from, to) pairs: the cache first, then as few server requests as the
        missing pairs need. Keys are the pairs as given; places within ~1 m of each other are 0 apart."""
        keyed = [(cache_key(a), cache_key(b)) for a, b in wanted]
        places = list(dict.fromkeys(place for pair in keyed for place in pair))  # distinct, in order
        index = {place: i for i, place in enumerate(places)}
        asked = {(a, b): (index[a], index[b]) for a, b in keyed if a != b}
        known: dict[Pair, int] = {}
        if self.cache is not None and asked:
            for pair, minutes in self.cache.get_many(asked.keys()).items():
                known[asked[pair]] = minutes
        missing = {pair for pair in asked.values() if pair not in known}
        if missing:
            known.update(self._fetch(places, missing))
        return {
            original: 0 if a == b else known[(index[a], index[b])]
            for original, (a, b) in zip(wanted, keyed, strict=True)
        }

    # -- fetching -------------------------------------------------------------------------------------

    def _fetch(self, places: list[Point], missing: set[Pair]) -> dict[Pair, int]:
        """Minutes for every missing pair: from the server, else from the fallback (or raise)."""
        fresh: dict[Pair, int] = {}  # from the server: these go to the cache
        unanswered: set[Pair] = set()  # for the fallback
        reasons: list[str] = []
        down = False
        try:
            with self._session() as client:
                for sources, destinations in _plan(missing):
                    block = {(i, j) for i in sources for j in destinations if (i, j) in missing}
                    if down:
                        unanswered |= block  # no use waiting again for a server that just did not answer
                        continue
                    try:
                        durations = self._table(client, places, sources, destinations)
                    except (_Unreachable, _Refused) as exc:
                        self._give_up_unless_fallback(str(exc), _ADVICE)
                        down = isinstance(exc, _Unreachable)
                        reasons.append(str(exc))
                        unanswered |= block
                        continue
                    no_route: list[Pair] = []
                    for row, i in zip(durations, sources, strict=True):
                        for seconds, j in zip(row, destinations, strict=True):
                            if i == j:
                                continue
                            if seconds is not None:
                                fresh[(i, j)] = _minutes(seconds)
                            elif (i, j) in missing:
                                no_route.append((i, j))
                    if no_route:
                        reason = self._no_route(places[no_route[0][0]], places[no_route[0][1]], len(no_route))
                        self._give_up_unless_fallback(reason, _NO_ROUTE_ADVICE)
                        reasons.append(reason)
                        unanswered.update(no_route)
        except TravelUnavailable:
            try:  # keep what did arrive, without hiding why the rest did not
                self._remember(places, fresh)
            except Exception:
                log.exception("could not cache %d travel times from %s", len(fresh), self.base_url)
            raise
        self._remember(places, fresh)

        result = dict(fresh)
        if unanswered:
            assert self.fallback is not None  # else _give_up_unless_fallback raised
            log.warning(
                "%s; using %r for %d of %d travel times",
                "; ".join(dict.fromkeys(reasons[:3])), self.fallback, len(unanswered), len(missing),
            )  # fmt: skip
            involved = sorted({i for pair in unanswered for i in pair})
            substitute = self.fallback.matrix([places[i] for i in involved])
            at = {i: k for k, i in enumerate(involved)}
            for i, j in unanswered:
                result[(i, j)] = substitute[at[i]][at[j]]
        return result

    def _remember(self, places: list[Point], fresh: dict[Pair, int]) -> None:
        if fresh and self.cache is not None:
            self.cache.put_many({(places[i], places[j]): minutes for (i, j), minutes in fresh.items()})

    def _give_up_unless_fallback(self, reason: str, advice: str) -> None:
        if self.fallback is None:
            raise TravelUnavailable(f"{reason}; {advice}")

    def _no_route(self, a: Point, b: Point, pairs: int) -> str:
        more = f" (and {pairs - 1} other pair{'s' if pairs > 2 else ''})" if pairs > 1 else ""
        return f"routing server {self.base_url} found no route from {_show(a)} to {_show(b)}{more}"

    @contextmanager
    def _session(self) -> Iterator[httpx.Client]:
        if self._client is not None:
            yield self._client
            return
        with httpx.Client(timeout=self.timeout_s) as client:
            yield client

    def _table(
        self, client: httpx.Client, places: list[Point], sources: list[int], destinations: list[int]
    ) -> list[list[Any]]:
        """One ``/table`` request: durations in seconds (or None), ``[source][destination]``."""
        chosen = list(dict.fromkeys([*sources, *destinations]))
        at = {i: k for k, i in enumerate(chosen)}
        coordinates = ";".join(f"{places[i][1]:.5f},{places[i][0]:.5f}" for i in chosen)
        url = f"{self.base_url}/table/v1/driving/{coordinates}?annotations=duration"
        if not (sources == destinations == chosen):
            # Built by hand: OSRM wants literal ';' separators, which a params dict would percent-encode.
            url += "&sources=" + ";".join(str(at[i]) for i in sources)
            url += "&destinations=" + ";".join(str(at[j]) for j in destinations)
        response = self._get(client, url)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _Refused(
                f"routing server {self.base_url} gave no table (HTTP {response.status_code}, "
                f"not OSRM JSON: {response.text[:80]!r})"
            )
        code = body.get("code")
        if response.is_error or code != "Ok":
            message = body.get("message")
            detail = f"{code}: {message}" if message else str(code)
            raise _Refused(
                f"routing server {self.base_url} refused the table request (HTTP {response.status_code}, {detail})"
            )
        durations = body.get("durations")
        if (
            not isinstance(durations, list)
            or len(durations) != len(sources)
            or any(not isinstance(row, list) or len(row) != len(destinations) for row in durations)
            or any(not (x is None or isinstance(x, int | float)) for row in durations for x in row)
        ):
            raise _Refused(
                f"routing server {self.base_url} answered an unreadable table "
                f"(expected {len(sources)} x {len(destinations)} durations in seconds)"
            )
        return durations

    def _get(self, client: httpx.Client, url: str) -> httpx.Response:
        attempts = self.retries + 1
        problem = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(min(self.backoff_s * 2 ** (attempt - 1), 2.0))
            try:
                response = client.get(url, timeout=self.timeout_s)
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout_s:g} s"
            except httpx.TransportError as exc:
                problem = _describe(exc)
            else:
                if response.status_code < 500:
                    return response
                problem = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
            log.debug("routing request %d/%d to %s failed: %s", attempt + 1, attempts, self.base_url, problem)
        plural = "attempt" if attempts == 1 else "attempts"
        raise _Unreachable(f"routing server {self.base_url} did not answer after {attempts} {plural} ({problem})")


def _plan(missing: set[Pair]) -> list[Block]:
    """Requests (sources x destinations, at most MAX_TABLE each) that cover every missing pair.

    Sources missing the same destinations share a request; a source may also ask for itself (free: the
    diagonal is 0), so that the new places of a grown matrix form one group asking for everything while
    the old places ask only for the new ones. If that makes more than twice the requests of one rectangle
    over every source and destination concerned (scattered gaps), the rectangle is used instead: a few
    known pairs are asked again rather than many small requests made.
    """
    wants: dict[int, set[int]] = defaultdict(set)
    for i, j in missing:
        wants[i].add(j)
    options = {i: (frozenset(d), frozenset(d | {i})) for i, d in wants.items()}
    popularity = Counter(key for pair in options.values() for key in pair)
    groups: dict[frozenset[int], list[int]] = {}
    for i in sorted(options):
        exact, with_self = options[i]
        groups.setdefault(with_self if popularity[with_self] > popularity[exact] else exact, []).append(i)
    grouped = [(sources, sorted(destinations)) for destinations, sources in groups.items()]
    everything = [(sorted(wants), sorted({j for _, j in missing}))]
    chosen = grouped if _requests(grouped) <= 2 * _requests(everything) else everything
    return [
        (sources[s : s + MAX_TABLE], destinations[d : d + MAX_TABLE])
        for sources, destinations in chosen
        for s in range(0, len(sources), MAX_TABLE)
        for d in range(0, len(destinations), MAX_TABLE)
    ]


def _requests(blocks: list[Block]) -> int:
    return sum(math.ceil(len(s) / MAX_TABLE) * math.ceil(len(d) / MAX_TABLE) for s, d in blocks)


def _minutes(seconds: Any) -> int:
    # Rounded to a microminute first so that float noise does not cost a whole extra minute.
    return max(0, math.ceil(round(float(seconds) / 60, 6)))


def _show(p: Point) -> str:
    return f"({p[0]:.5f}, {p[1]:.5f})"


def _describe(exc: httpx.TransportError) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    text = str(exc)
    if "refused" in text.lower():
        return "connection refused"
    return text or type(exc).__name__
