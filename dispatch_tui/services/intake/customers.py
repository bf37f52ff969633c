"""Finding the customer on a call, and entering a new customer with its site.

**Lookup.** One query is tried as a ref, a phone number, an e-mail address, a name and an address at once;
each customer keeps its best field, and results come best first. The store is read into an index in memory
(``Directory``) on the first lookup, once per store (per engine: one per ``Core``), and read again only when
the ``customerstamp`` row moved: triggers on ``customer`` and ``site`` bump it at every change, whoever
writes (migration 0005), so one row is read per lookup to know the index is current. Then:

- **ref**: the same ref whatever the case and spaces (100); the same number under the same letters
  (``c42`` for ``C0042``: 95) or a bare number (``42``: 90).
- **phone**: both sides are read by ``phonenumbers`` as E.164 numbers, numbers without a country code in
  the region ``phone_region`` (default: the country of the time zone), so ``06 12 34 56 78`` finds
  ``+33 6 12 34 56 78`` (100). Without a region, only numbers written with ``+`` and a country code are
  numbers. A query that is no whole number but at least six digits finds the numbers ending with them (90).
  Candidates are found by their last six digits first, so that only a few stored numbers are parsed.
- **email**: the same address whatever the case (100); when none is, a typo or two away (``fuzz.ratio`` ≥
  85, among the addresses of about its length).
- **name** and **address** (of any of the customer's sites): words folded (case, accents and apostrophes do
  not count), each query word scored against the field's words by ``rapidfuzz.fuzz.ratio``, the normalised
  Indel similarity: a substitution or a swap of two letters in a six-letter word scores 83, one letter
  missing 91, so a typo still finds the name while the exact word (100) ranks first: "Dupont" before
  "Dupond". Token-set or partial scorers (``WRatio``) were not chosen: they score a word inside a longer one
  as high as the word itself. The words one typo away are found through a deletion index (``_Vocabulary``),
  two typos in words of ``LONG_WORD`` letters or more; words shorter than four letters, numbers and codes
  must match exactly (a house number 12 is not 13); a word of three letters or more also matches the words
  it begins (``dup`` → ``dupont``, 85-95). A field's score is the mean of its query words' best scores, each
  weighted by how rare the word is in that field (an inverse document frequency): "rue" or a common first
  name weighs little, a surname or a street name much. Only words in fewer than ``EXPAND_SHARE`` of the
  entries (at least 1,000) are looked up through their lists of entries; commoner ones are checked on the
  candidates those give. A query that is an e-mail address, a whole ref or no word at all (digits) is
  looked for in those fields only.

Scores run 0-100; a customer is listed from ``MIN_SCORE``. Ties go to the closest whole value
(``fuzz.ratio`` of the folded query and value), then the ref.

**A new customer** is checked by the import's own rules for a customer row (``imports.rows``: one place),
plus a phone number ``phonenumbers`` calls valid (stored in its international format); its ref is the one
given or the next in the store's numbering; its site's position is the one typed or, when ``geocoder_url``
names a Nominatim-compatible server, the server's for the address (cached: an address is asked for once).
Nothing guesses a position: without either, the customer is refused with how to give one.
"""

from __future__ import annotations

import contextlib
import heapq
import math
import re
import threading
import unicodedata
import weakref
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import phonenumbers
from rapidfuzz import fuzz, process
from sqlalchemy import Engine, func, text
from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from dispatch_tui.domain import FINISHED, ImportKind, JobStatus
from dispatch_tui.localtime import local_iso
from dispatch_tui.services.errors import Refused
from dispatch_tui.services.intake import geocoder
from dispatch_tui.services.intake.imports.reading import Record
from dispatch_tui.services.intake.imports.rows import CustomerRow, columns_for, parse_record
from dispatch_tui.store.models import Appointment, Customer, Job, JobEvent, Site, Skill, Technician

if TYPE_CHECKING:
    from dispatch_tui.config import Settings

MIN_SCORE = 60.0  # a customer scoring less is not listed
LAST_VISITS = 3  # finished jobs shown per customer, newest first
OPEN_STATUSES = tuple(s.value for s in JobStatus if s not in FINISHED and s is not JobStatus.CANCELLED)
FINISHED_STATUSES = tuple(s.value for s in FINISHED)
FUZZY_MIN = 4  # words this long or longer may differ by a typo
LONG_WORD = 8  # words this long or longer may differ by two
PREFIX_MIN = 3  # words this long or longer also match the words they begin
PREFIX_MAX = 500  # at most this many words begun by one query word
EXPAND_SHARE = 0.02  # query words in more of a field's entries than this share are checked, not looked up
TIES = 5  # entries tied with the last wanted are kept up to this many times as many as wanted
EMAIL_CUTOFF = 85.0
EMAIL_TYPOS = 2  # an e-mail address one or two letters longer or shorter may be a typo of it
PHONE_TAIL = 6  # stored numbers are found by their last digits, then compared as E.164 numbers
MIN_PHONE_DIGITS = 6
FIRST_REF = "C0001"  # a store without numbered customer refs starts the demo's numbering
NUMBERING_SAMPLE = 500  # the latest customers the next ref is read from

FIELDS = ("ref", "phone", "email", "name", "address")  # on equal scores, the first listed explains the match
_RANK = {field: i for i, field in enumerate(FIELDS)}
_NUMBERED = re.compile(r"^([A-Za-z]*)(\d+)$")
_REF_NUMBER = re.compile(r"^([a-z]*)[-_]?(\d+)$")
_PHONEISH = re.compile(r"^\+?[\d\s().\-/]+$")
_WORD = re.compile(r"[^\W_]+")
_NOT_DIGITS = re.compile(r"\D+")


# --- the results -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    field: str  # ref, phone, email, name, address
    score: float  # 0-100
    value: str  # the stored text that matched


@dataclass(frozen=True, slots=True)
class SiteInfo:
    address: str
    lat: float
    lon: float
    primary: bool

    def as_json(self) -> dict[str, Any]:
        return {"address": self.address, "lat": self.lat, "lon": self.lon, "primary": self.primary}


@dataclass(frozen=True, slots=True)
class OpenJob:
    ref: str
    status: str
    skill: str
    priority: int
    window_start: datetime
    window_end: datetime

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {"ref": self.ref, "status": self.status, "skill": self.skill, "priority": self.priority,
                "window_start": local_iso(self.window_start, zone),
                "window_end": local_iso(self.window_end, zone)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PastVisit:
    ref: str
    status: str  # completed, needs_follow_up
    skill: str
    finished_at: datetime | None  # when it was reported finished (the audit trail)
    technician_ref: str | None

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {"ref": self.ref, "status": self.status, "skill": self.skill,
                "finished_at": local_iso(self.finished_at, zone), "technician_ref": self.technician_ref}  # fmt: skip


@dataclass(frozen=True, slots=True)
class CustomerHit:
    ref: str
    name: str
    phone: str
    email: str
    match: Match
    sites: tuple[SiteInfo, ...]  # the primary first
    open_jobs: tuple[OpenJob, ...]  # soonest window first
    last_visits: tuple[PastVisit, ...]  # newest first, at most LAST_VISITS

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "ref": self.ref, "name": self.name, "phone": self.phone, "email": self.email,
            "match": {"field": self.match.field, "score": self.match.score, "value": self.match.value},
            "sites": [site.as_json() for site in self.sites],
            "open_jobs": [job.as_json(zone) for job in self.open_jobs],
            "last_visits": [visit.as_json(zone) for visit in self.last_visits],
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class NewCustomer:
    ref: str
    name: str
    phone: str
    email: str
    site: SiteInfo
    position_source: str  # typed, geocoder, geocoder cache
    geocoded_as: str | None  # the geocoder's name for the place, when it gave the position

    def as_json(self) -> dict[str, Any]:
        return {"ref": self.ref, "name": self.name, "phone": self.phone, "email": self.email,
                "site": self.site.as_json(), "position_source": self.position_source,
                "geocoded_as": self.geocoded_as}  # fmt: skip


# --- folding text and reading phone numbers ----------------------------------------------------------------


class _Folding(dict[int, str]):
    """A ``str.translate`` table that folds each character once, when first met: case, accents (the
    combining marks of its NFKD form) and apostrophes go."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char in "'’`´":
            folded = ""
        else:
            decomposed = unicodedata.normalize("NFKD", char)
            folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        self[code] = folded
        return folded


_FOLD = _Folding()


def fold(value: str) -> str:
    """Case, accents and apostrophes do not count: ``O'Brien`` → ``obrien``, ``Hélène`` → ``helene``."""
    return value.translate(_FOLD)


def words(value: str) -> list[str]:
    return _WORD.findall(fold(value))


def _digits(value: str) -> str:
    return _NOT_DIGITS.sub("", value)


def e164(number: str, region: str | None) -> str | None:
    """``number`` as E.164 (``+33612345678``) when ``phonenumbers`` reads it as a possible number (without
    a country code: of ``region``); None otherwise."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_region(settings: Settings) -> str | None:
    """The region of numbers typed without a country code: ``phone_region``, else the country of the time
    zone (from zone.tab), else none."""
    return settings.phone_region or zone_country(settings.timezone)


@cache
def zone_country(zone: str) -> str | None:
    """The ISO 3166 country of an IANA zone, from the zone.tab of the ``tzdata`` package or the system's
    tz database; None for a zone of no one country (UTC, Etc/GMT+1) or when neither is there."""
    for table in _zone_tables():
        for line in table.splitlines():
            if line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) >= 3 and parts[2] == zone:
                return parts[0].upper()
        return None  # the first table found answers: one source
    return None


def _zone_tables() -> Iterable[str]:
    with contextlib.suppress(ModuleNotFoundError, OSError):
        yield resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    system = Path("/usr/share/zoneinfo/zone.tab")
    if system.is_file():
        yield system.read_text(encoding="utf-8")


def checked_phone(number: str, region: str | None) -> str:
    """A phone number a person typed, in its international format (``+33 6 12 34 56 78``); ``ValueError``
    saying why when ``phonenumbers`` does not call it a valid number."""
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"phone_region {region!r} is not a country phonenumbers knows (FR, GB, US…)")
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException as exc:
        if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE:
            if region is None:
                raise ValueError(
                    f"{number!r} has no country code and no phone_region is set: start it with + and the "
                    "country code, or set DISPATCH_PHONE_REGION"
                ) from None
            raise ValueError(f"{number!r} starts with an unknown country code") from None
        raise ValueError(f"{number!r} is not a phone number ({exc._msg})") from None
    if not phonenumbers.is_valid_number(parsed):
        where = phonenumbers.region_code_for_number(parsed) or region or "its country"
        raise ValueError(
            f"{number!r} is not a valid number in {where} (a digit missing or too many?); another country's "
            "number starts with + and its code"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- the index ---------------------------------------------------------------------------------------------


class _Multi(dict[Any, int | list[int]]):
    """Key → positions, compactly (most keys have one): one position is kept as an int, more as a list."""

    def add(self, key: Any, position: int) -> None:
        old = self.get(key)
        if old is None:
            self[key] = position
        elif isinstance(old, int):
            self[key] = [old, position]
        else:
            old.append(position)

    def of(self, key: Any) -> Sequence[int]:
        found = self.get(key)
        if found is None:
            return ()
        return (found,) if isinstance(found, int) else found


class _Vocabulary:
    """Every word of the names and addresses, once: a query word is matched against it once for both.

    Typos are found through the words' one-letter deletions (a symmetric deletion index): two words one
    substitution, swap, insertion or deletion apart share a deletion, or one is a deletion of the other,
    so candidates come from a few dictionary lookups, and ``fuzz.ratio`` scores them. A long word's two
    typos are looked for by ``rapidfuzz.process`` over words of near lengths, only when one typo finds none.
    """

    def __init__(self, every: Iterable[str]) -> None:
        self.words = sorted(set(every))
        self.ids = {word: i for i, word in enumerate(self.words)}
        self.deletions = _Multi()
        self.by_length: dict[int, tuple[list[str], list[int]]] = {}
        for i, word in enumerate(self.words):
            if len(word) >= FUZZY_MIN and word.isalpha():
                for k in range(len(word)):
                    self.deletions.add(word[:k] + word[k + 1 :], i)
            if len(word) >= LONG_WORD - 2:
                same = self.by_length.setdefault(len(word), ([], []))
                same[0].append(word)
                same[1].append(i)

    def matches(self, word: str) -> dict[int, float]:
        """Word id → how well it matches the query ``word`` (100: the same word)."""
        found: dict[int, float] = {}
        exact = self.ids.get(word)
        if exact is not None:
            found[exact] = 100.0
        if not word.isalpha():  # numbers and codes (12, 69003, c0042) match exactly or not at all
            return found
        size = len(word)
        if size >= PREFIX_MIN:
            start = bisect_left(self.words, word)
            for i in range(start, min(start + PREFIX_MAX, len(self.words))):
                other = self.words[i]
                if not other.startswith(word):
                    break
                if i != exact:
                    found[i] = 75.0 + 20.0 * size / len(other)
        if size < FUZZY_MIN:
            return found
        candidates: set[int] = set(self.deletions.of(word))
        for k in range(size):
            shorter = word[:k] + word[k + 1 :]
            candidates.update(self.deletions.of(shorter))
            if shorter in self.ids:
                candidates.add(self.ids[shorter])
        candidates.discard(exact)
        cutoff = 100.0 * (1 - 1 / size) - 0.01  # one substitution
        typos = False
        for i in candidates:
            score = fuzz.ratio(word, self.words[i], score_cutoff=cutoff)
            if score:
                typos = True
                if score > found.get(i, 0.0):
                    found[i] = score
        if typos or exact is not None or size < LONG_WORD:
            return found
        cutoff = 100.0 * (1 - 2 / size) - 0.01  # two substitutions, in a long word
        for length in range(size - 2, size + 3):  # fuzz.ratio is 1 - Indel distance / total length
            if length not in self.by_length:
                continue
            choices, ids = self.by_length[length]
            for _, score, k in process.extract(word, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None):
                if score > found.get(ids[k], 0.0):
                    found[ids[k]] = float(score)
        return found


class _Words:
    """The words of one field over its entries (a customer's name; a site's address), each entry owned by
    a customer (its position in the directory); words are ids of the shared vocabulary."""

    def __init__(
        self, vocabulary: _Vocabulary, entries: Sequence[Sequence[str]], owners: list[int], values: list[str]
    ) -> None:
        ids = vocabulary.ids
        self.entry_words = [tuple(dict.fromkeys(ids[word] for word in entry)) for entry in entries]
        self.postings = _Multi()
        for e, entry_words in enumerate(self.entry_words):
            for i in entry_words:
                self.postings.add(i, e)
        self.owners = owners
        self.values = values  # the stored text of each entry

    def search(self, query: list[tuple[str, dict[int, float]]], want: int) -> list[tuple[float, int]]:
        """The best entries for the query's words (each with its matches in the vocabulary): (score 0-100,
        entry), the ``want`` best and entries tied with the last of them, from MIN_SCORE."""
        n = len(self.entry_words)
        if not n or not query:
            return []
        terms = []  # (weight, matches in this field, entries they reach)
        for _, everywhere in query:
            found = {i: score for i, score in everywhere.items() if i in self.postings}
            reach = sum(len(self.postings.of(i)) for i in found)
            best = max(found, key=found.__getitem__) if found else None  # the word itself, if here
            df = len(self.postings.of(best)) if best is not None else 0
            terms.append((math.log(1 + n / (1 + df)), found, reach))
        total = sum(weight for weight, _, _ in terms)
        terms.sort(key=lambda term: term[2])
        limit = max(1000, int(n * EXPAND_SHARE))
        looked_up: list[tuple[float, dict[int, float], int]] = []
        checked: list[tuple[float, dict[int, float], int]] = []
        for term in terms:
            if term[2] and (not looked_up or term[2] <= limit):
                looked_up.append(term)
            elif term[2]:
                checked.append(term)
        if not looked_up:
            return []
        partial: dict[int, float] = {}
        for weight, found, _ in looked_up:
            reached: dict[int, float] = {}
            for i, score in found.items():
                for entry in self.postings.of(i):
                    if score > reached.get(entry, 0.0):
                        reached[entry] = score
            for entry, score in reached.items():
                partial[entry] = partial.get(entry, 0.0) + weight * score
        headroom = 100.0 * sum(weight for weight, _, _ in checked)
        floor = MIN_SCORE * total
        bounds = sorted(((s + headroom, -e) for e, s in partial.items() if s + headroom >= floor), reverse=True)
        scored: list[tuple[float, int]] = []
        top: list[float] = []  # the ``want`` best scores so far (a min-heap)
        for bound, minus_entry in bounds:
            if len(top) == want and bound < top[0]:
                break  # no entry left can reach the ``want`` best
            entry = -minus_entry
            score = partial[entry]
            for weight, found, _ in checked:
                score += weight * max((found.get(i, 0.0) for i in self.entry_words[entry]), default=0.0)
            if score < floor:
                continue
            scored.append((score, -entry))
            if len(top) < want:
                heapq.heappush(top, score)
            elif score > top[0]:
                heapq.heapreplace(top, score)
        kth = top[0] if len(top) == want else floor
        scored.sort(reverse=True)  # best first; among equal scores, the earlier entry (the older customer)
        kept = [(score / total, -minus_entry) for score, minus_entry in scored if score >= kth]
        return kept[: want * TIES]


class Directory:
    """Every customer's ref, name, phone, e-mail and site addresses, indexed for ``search``. Built whole
    from the store at one ``version`` of ``customerstamp``; never changed after (threads share it)."""

    def __init__(self, version: int, region: str | None, customers: Sequence[Any], sites: Sequence[Any]) -> None:
        self.version, self.region = version, region
        self.ids: list[int] = [c.id for c in customers]
        self.refs: list[str] = [c.ref for c in customers]
        self.names: list[str] = [c.name for c in customers]
        self.phones: list[str] = [c.phone for c in customers]
        self.emails: list[str] = [c.email for c in customers]
        position = {customer_id: i for i, customer_id in enumerate(self.ids)}
        self.by_ref: dict[str, int] = {}
        self.by_number = _Multi()
        for i, ref in enumerate(self.refs):
            key = "".join(ref.split()).casefold()
            self.by_ref[key] = i
            numbered = _REF_NUMBER.match(key)
            if numbered:
                self.by_number.add(int(numbered.group(2)), i)
        self.by_email = _Multi()
        for i, email in enumerate(self.emails):
            if email:
                self.by_email.add(email.casefold(), i)
        self.emails_by_length: dict[int, list[str]] = {}
        for key in self.by_email:
            self.emails_by_length.setdefault(len(key), []).append(key)
        self.phone_digits = [_digits(phone) for phone in self.phones]
        self.by_phone_tail = _Multi()
        for i, digits in enumerate(self.phone_digits):
            if len(digits) >= MIN_PHONE_DIGITS:
                self.by_phone_tail.add(digits[-PHONE_TAIL:], i)
        self._e164: dict[str, str | None] = {}
        folded: dict[str, list[str]] = {}  # names and streets repeat: fold each text once

        def split(value: str) -> list[str]:
            found = folded.get(value)
            if found is None:
                found = folded[value] = words(value)
            return found

        name_entries = [split(name) for name in self.names]
        kept = [site for site in sites if site.customer_id in position and site.address]
        address_entries = [split(site.address) for site in kept]
        self.vocabulary = _Vocabulary(word for entry in folded.values() for word in entry)
        self.name_words = _Words(self.vocabulary, name_entries, list(range(len(self.ids))), self.names)
        self.address_words = _Words(
            self.vocabulary, address_entries, [position[site.customer_id] for site in kept], [s.address for s in kept]
        )

    def __len__(self) -> int:
        return len(self.ids)

    def stored_e164(self, i: int) -> str | None:
        phone = self.phones[i]
        if phone not in self._e164:
            self._e164[phone] = e164(phone, self.region)
        return self._e164[phone]

    def search(self, query: str, limit: int) -> list[tuple[int, Match]]:
        """(customer id, why) of the best ``limit`` customers for ``query``, best first."""
        query = " ".join(query.split())
        if not query or limit <= 0:
            return []
        best: dict[int, Match] = {}

        def offer(i: int, field: str, score: float, value: str) -> None:
            old = best.get(i)
            if old is None or score > old.score or (score == old.score and _RANK[field] < _RANK[old.field]):
                best[i] = Match(field, round(score, 1), value)

        for i, score in self._by_ref(query):
            offer(i, "ref", score, self.refs[i])
        for i, score in self._by_phone(query):
            offer(i, "phone", score, self.phones[i])
        for i, score in self._by_email(query):
            offer(i, "email", score, self.emails[i])
        query_words = words(query)
        # A bare number is a ref or a phone, an e-mail address is one, a whole ref is that customer: no names.
        exact = any(why.score == 100.0 and why.field in ("ref", "email") for why in best.values())
        if any(word.isalpha() for word in query_words) and "@" not in query and not exact:
            matched = [(word, self.vocabulary.matches(word)) for word in dict.fromkeys(query_words)]
            want = limit * 3
            for score, entry in self.name_words.search(matched, want):
                offer(self.name_words.owners[entry], "name", score, self.name_words.values[entry])
            for score, entry in self.address_words.search(matched, want):
                offer(self.address_words.owners[entry], "address", score, self.address_words.values[entry])
        folded = fold(query)
        ranked = sorted(
            best.items(),
            key=lambda item: (-item[1].score, -fuzz.ratio(folded, fold(item[1].value)), self.refs[item[0]]),
        )
        return [(self.ids[i], why) for i, why in ranked[:limit]]

    def _by_ref(self, query: str) -> Iterable[tuple[int, float]]:
        key = "".join(query.split()).casefold()
        exact = self.by_ref.get(key)
        if exact is not None:
            yield exact, 100.0
        numbered = _REF_NUMBER.match(key)
        if not numbered or len(numbered.group(2)) > 6:
            return
        letters = numbered.group(1)
        for i in self.by_number.of(int(numbered.group(2))):
            if i == exact:
                continue
            stored = _REF_NUMBER.match("".join(self.refs[i].split()).casefold())
            if letters and stored and stored.group(1) == letters:
                yield i, 95.0
            elif not letters:
                yield i, 90.0

    def _by_phone(self, query: str) -> Iterable[tuple[int, float]]:
        digits = _digits(query)
        if len(digits) < MIN_PHONE_DIGITS or not _PHONEISH.match(query):
            return
        number = e164(query, self.region)
        if number is not None:
            for i in self.by_phone_tail.of(number[-PHONE_TAIL:]):
                if self.stored_e164(i) == number:
                    yield i, 100.0
            return
        for i in self.by_phone_tail.of(digits[-PHONE_TAIL:]):
            if self.phone_digits[i].endswith(digits):
                yield i, 90.0

    def _by_email(self, query: str) -> Iterable[tuple[int, float]]:
        if "@" not in query or " " in query:
            return
        key = query.casefold()
        if key in self.by_email:
            for i in self.by_email.of(key):
                yield i, 100.0
            return
        size = len(key)
        for length in range(size - EMAIL_TYPOS, size + EMAIL_TYPOS + 1):  # a typo or two: lengths near
            for other, score, _ in process.extract(key, self.emails_by_length.get(length, ()), scorer=fuzz.ratio,
                                                   score_cutoff=EMAIL_CUTOFF, limit=10):  # fmt: skip
                for i in self.by_email.of(other):
                    yield i, float(score)


_directories: weakref.WeakKeyDictionary[Engine, Directory] = weakref.WeakKeyDictionary()
_building = threading.Lock()


def stamp(session: Session) -> int:
    return int(session.execute(text("SELECT coalesce(max(version), 0) FROM customerstamp")).scalar_one())


def directory(session: Session, region: str | None) -> Directory:
    """The store's directory, current as of now: the one in memory while the stamp has not moved. The
    stamp is read before the rows, so the rows are at least that new (a change in between costs one
    rebuild more, never a stale index)."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    version = stamp(session)
    known = _directories.get(engine)
    if known is not None and known.version == version and known.region == region:
        return known
    with _building:
        known = _directories.get(engine)
        if known is not None and known.version == version and known.region == region:
            return known
        connection = session.connection()
        customers = connection.execute(
            columns(col(Customer.id), col(Customer.ref), col(Customer.name), col(Customer.phone), col(Customer.email))
        ).all()
        sites = connection.execute(columns(col(Site.customer_id), col(Site.address))).all()
        built = Directory(version, region, customers, sites)
        _directories[engine] = built
        return built


def find_customers(session: Session, query: str, *, region: str | None, limit: int = 10) -> list[CustomerHit]:
    """The customers ``query`` may mean, best first, each with why, its sites, open jobs and last visits."""
    found = directory(session, region).search(query, limit)
    if not found:
        return []
    ids = [customer_id for customer_id, _ in found]
    people = {
        row.id: row
        for row in session.execute(
            columns(col(Customer.id), col(Customer.ref), col(Customer.name), col(Customer.phone), col(Customer.email))
            .where(col(Customer.id).in_(ids))
        )
    }  # fmt: skip
    sites: dict[int, list[SiteInfo]] = {}
    for customer_id, address, lat, lon, primary in session.execute(
        columns(col(Site.customer_id), col(Site.address), col(Site.lat), col(Site.lon), col(Site.is_primary))
        .where(col(Site.customer_id).in_(ids))
        .order_by(col(Site.is_primary).desc(), col(Site.id))
    ):  # fmt: skip
        sites.setdefault(customer_id, []).append(SiteInfo(address, lat, lon, bool(primary)))
    open_jobs: dict[int, list[OpenJob]] = {}
    for customer_id, ref, status, skill, priority, w0, w1 in session.execute(
        columns(col(Job.customer_id), col(Job.ref), col(Job.status), col(Skill.name), col(Job.priority),
                col(Job.window_start), col(Job.window_end))
        .join(Skill, col(Skill.id) == col(Job.skill_id))
        .where(col(Job.customer_id).in_(ids), _status().in_(OPEN_STATUSES))
        .order_by(col(Job.window_start), col(Job.priority), col(Job.ref))
    ):  # fmt: skip
        open_jobs.setdefault(customer_id, []).append(OpenJob(ref, status, skill, priority, w0, w1))
    visits = last_visits(session, ids)
    hits = []
    for customer_id, why in found:
        person = people.get(customer_id)
        if person is None:  # deleted since the index was read
            continue
        hit = CustomerHit(person.ref, person.name, person.phone, person.email, why, tuple(sites.get(customer_id, ())),
                          tuple(open_jobs.get(customer_id, ())), tuple(visits.get(customer_id, ())))  # fmt: skip
        hits.append(hit)
    return hits


def last_visits(session: Session, customer_ids: Sequence[int], count: int = LAST_VISITS) -> dict[int, list[PastVisit]]:
    """Customer id → its finished jobs, the latest finished first (at most ``count``), in one query."""
    finished_at = (
        columns(func.max(col(JobEvent.at)))
        .where(col(JobEvent.job_id) == col(Job.id), col(JobEvent.to_status).in_(FINISHED_STATUSES))
        .scalar_subquery()
    )
    latest_first = (func.coalesce(finished_at, col(Job.window_end)).desc(), col(Job.id).desc())
    ranked = (
        columns(col(Job.customer_id).label("customer_id"), col(Job.ref).label("ref"), col(Job.status).label("status"),
                col(Skill.name).label("skill"), finished_at.label("finished_at"),
                col(Technician.ref).label("technician_ref"),
                func.row_number().over(partition_by=col(Job.customer_id), order_by=latest_first).label("n"))
        .join(Skill, col(Skill.id) == col(Job.skill_id))
        .outerjoin(Appointment, col(Appointment.job_id) == col(Job.id))
        .outerjoin(Technician, col(Technician.id) == col(Appointment.technician_id))
        .where(col(Job.customer_id).in_(list(customer_ids)), _status().in_(FINISHED_STATUSES))
        .subquery()
    )  # fmt: skip
    visits: dict[int, list[PastVisit]] = {}
    query = columns(ranked).where(ranked.c.n <= count).order_by(ranked.c.customer_id, ranked.c.n)
    for row in session.execute(query):
        visit = PastVisit(row.ref, row.status, row.skill, _aware(row.finished_at), row.technician_ref)
        visits.setdefault(row.customer_id, []).append(visit)
    return visits


def _status() -> Any:
    """The job's status as an expression (``status || ''``): SQLite, without statistics, would otherwise
    read the jobs by their status index (every finished job in the store) rather than by customer."""
    return col(Job.status) + ""


def _aware(value: Any) -> datetime | None:
    """A time read through a subquery, where the column's UTC type may not apply: aware UTC."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- a new customer ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Geocoding:
    """Where to ask for an address's position (``geocoder_url``), if anywhere."""

    url: str | None
    timeout_s: float = 10.0


def create_customer(
    session: Session,
    *,
    name: str,
    ref: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    address: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    region: str | None,
    geocoding: Geocoding,
    now: datetime,
    zone: ZoneInfo,
) -> NewCustomer:
    """A new customer and its primary site, in the caller's transaction (``Refused`` with every reason
    otherwise, nothing written). Everything is checked before the geocoder is asked."""
    from dispatch_tui.services.intake.imports.writing import write_customers

    given = {"ref": ref, "name": name, "address": address, "phone": phone, "email": email,
             "lat": None if lat is None else repr(lat), "lon": None if lon is None else repr(lon)}  # fmt: skip
    values = {key: value.strip() for key, value in given.items() if value is not None and value.strip()}
    problems: list[str] = []
    if "phone" in values:
        try:
            values["phone"] = checked_phone(values["phone"], region)
        except ValueError as exc:
            problems.append(f"phone: {exc}")
    typed = "lat" in values or "lon" in values
    if typed and ("lat" not in values or "lon" not in values):
        problems.append(f"{'lon' if 'lat' in values else 'lat'}: lat and lon go together: give both")
    elif not typed:
        if geocoding.url is None:
            problems.append(
                "position: no position for the site: give it with --lat and --lon, or set DISPATCH_GEOCODER_URL "
                "(geocoder_url) to a Nominatim-compatible server to find it from the address"
            )
        elif "address" not in values:
            problems.append("address: needed to find the site's position with the geocoder (or give --lat and --lon)")
    draft = {"ref": "-", "lat": "0", "lon": "0"} | values  # what is not known yet is not what is checked here
    _, errors = parse_record(ImportKind.CUSTOMERS, columns_for(ImportKind.CUSTOMERS, zone), Record(0, draft))
    problems += [f"{error.column}: {error.reason}" for error in errors]
    if problems:
        raise Refused(sorted(set(problems), key=problems.index))
    position: geocoder.Position | None = None
    if not typed:
        assert geocoding.url is not None
        position = geocoder.cached_position(session, geocoding.url, values["address"])
        if position is None:
            position = geocoder.ask(geocoding.url, values["address"], timeout_s=geocoding.timeout_s)
        values["lat"], values["lon"] = repr(position.lat), repr(position.lon)
    _one_at_a_time(session)
    if "ref" in values:
        taken = session.exec(select(Customer).where(col(Customer.ref) == values["ref"])).first()
        if taken is not None:
            raise Refused([f"ref: customer {taken.ref} exists already ({taken.name}); leave --ref out for the next"])
    else:
        values["ref"] = next_customer_ref(session)
    row, errors = parse_record(ImportKind.CUSTOMERS, columns_for(ImportKind.CUSTOMERS, zone), Record(0, values))
    if errors or not isinstance(row, CustomerRow):
        raise Refused([f"{error.column}: {error.reason}" for error in errors])
    write_customers(session, [row])
    if position is not None:
        assert geocoding.url is not None
        geocoder.remember(session, geocoding.url, row.address, position, now)
    source = "typed" if position is None else "geocoder cache" if position.cached else "geocoder"
    return NewCustomer(row.ref, row.name, row.phone, row.email, SiteInfo(row.address, row.lat, row.lon, True), source,
                       position.display_name if position is not None else None)  # fmt: skip


def next_customer_ref(session: Session) -> str:
    """The next free ref in the store's customer numbering (C0042 after C0041), read from the latest
    customers; C0001 in a store without numbered refs."""
    latest = session.exec(select(Customer.ref).order_by(col(Customer.id).desc()).limit(NUMBERING_SAMPLE)).all()
    numbered = [(m.group(1), m.group(2)) for ref in latest if (m := _NUMBERED.match(ref))]
    if not numbered:
        prefix, digits = FIRST_REF[0], "0" * (len(FIRST_REF) - 1)
    else:
        prefix, digits = max(numbered, key=lambda n: (int(n[1]), n[0]))
    number = int(digits) + 1
    while session.exec(select(Customer.id).where(Customer.ref == f"{prefix}{number:0{len(digits)}d}")).first():
        number += 1
    return f"{prefix}{number:0{len(digits)}d}"


def _one_at_a_time(session: Session) -> None:
    """Hold the store's customer numbering until the transaction ends, so that two customers entered at
    once never get one ref: SQLite's write lock now; on PostgreSQL a transaction-scoped advisory lock."""
    from dispatch_tui.services.planning.assignment import hold
    from dispatch_tui.services.planning.run_lock import advisory_key

    if session.get_bind().dialect.name == "sqlite":
        hold(session, "")
    else:
        session.execute(select(func.pg_advisory_xact_lock(advisory_key("customer numbering"))))
