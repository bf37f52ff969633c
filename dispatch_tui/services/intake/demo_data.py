"""A believable demo city, generated deterministically from a seed.

Vellmont is fictional: six neighbourhoods within ~8 km of a centre, households and small businesses
clustered around them, a dozen technicians with realistic skill mixes and one day of service requests.
The rows use exactly the import columns of docs/import-files.md, values as CSV strings, so the
files this writes go through the ordinary import. The same spec always gives byte-identical files.
"""

from __future__ import annotations

import csv
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from random import Random

from dispatch_tui.domain import IMPORT_COLUMNS, ImportKind
from dispatch_tui.travel.haversine import haversine_km

TECHNICIAN_COLUMNS = IMPORT_COLUMNS[ImportKind.TECHNICIANS]
CUSTOMER_COLUMNS = IMPORT_COLUMNS[ImportKind.CUSTOMERS]
REQUEST_COLUMNS = IMPORT_COLUMNS[ImportKind.REQUESTS]
ABSENCE_COLUMNS = IMPORT_COLUMNS[ImportKind.ABSENCES]
RATE_COLUMNS = IMPORT_COLUMNS[ImportKind.RATES]
PART_COLUMNS = IMPORT_COLUMNS[ImportKind.PARTS]

CITY = "Vellmont"
CENTRE = (45.76, 4.84)
KM_PER_DEG_LAT = 111.2
KM_PER_DEG_LON = KM_PER_DEG_LAT * math.cos(math.radians(CENTRE[0]))
# name: (km north of the centre, km east of the centre, weight of customers living there, streets)
NEIGHBOURHOODS: dict[str, tuple[float, float, int, tuple[str, ...]]] = {
    "centre": (0.0, 0.0, 25, ("Elm Street", "Maple Lane", "Market Square", "Cathedral Row", "Bridge Street")),
    "north": (5.5, 0.8, 15, ("Northgate Road", "Hillcrest Avenue", "Orchard Close", "Linden Way", "Mill Lane")),
    "east": (0.6, 6.5, 15, ("Station Road", "Foundry Street", "Canal Walk", "Poplar Grove", "Victoria Terrace")),
    "south": (-5.2, -0.4, 15, ("Southfield Drive", "Abbey Road", "Meadow Crescent", "Chapel Street", "Ash Grove")),
    "west": (0.3, -6.2, 15, ("Westbrook Lane", "Vineyard Road", "Chestnut Avenue", "Kingsway", "Old Forge Lane")),
    "harbour": (-3.4, 4.2, 15, ("Quay Street", "Harbour Road", "Lighthouse Lane", "Anchor Way", "Ropewalk")),
}
FIRST_NAMES = (
    "Amira",
    "Lucas",
    "Mei",
    "Tomasz",
    "Fatou",
    "Jonas",
    "Priya",
    "Mateo",
    "Aoife",
    "Karim",
    "Sofia",
    "Daniel",
    "Yuki",
    "Chloé",
    "Oluwaseun",
    "Inès",
    "Rafael",
    "Hannah",
    "Arjun",
    "Léa",
    "Mohamed",
    "Elena",
    "Kwame",
    "Noor",
    "Pierre",
    "Zanele",
    "Marco",
    "Anika",
    "Samuel",
    "Leila",
    "Björn",
    "Grace",
)
LAST_NAMES = (
    "Martin",
    "Nguyen",
    "Kowalski",
    "Diallo",
    "Schmidt",
    "Patel",
    "García",
    "O'Brien",
    "Haddad",
    "Rossi",
    "Tanaka",
    "Moreau",
    "Okafor",
    "Fernandes",
    "Lindqvist",
    "Benali",
    "Murphy",
    "Chen",
    "Dubois",
    "Mensah",
    "Novak",
    "Santos",
    "Kaya",
    "Ahmed",
    "Laurent",
    "Müller",
    "Costa",
    "Petrov",
    "Ibrahim",
    "Bernard",
)
BUSINESSES = (
    ("Harbour Bakery", "harbour"),
    ("Elm Street Dental", "centre"),
    ("Northgate Laundrette", "north"),
    ("Café Lumière", "centre"),
    ("Quayside Fish Market", "harbour"),
    ("Eastfield Primary School", "east"),
    ("Willow Care Home", "south"),
    ("Greenway Supermarket", "west"),
    ("Canal Walk Fitness", "east"),
    ("The Copper Kettle", "centre"),
    ("Hillcrest Butchers", "north"),
    ("Sunrise Pharmacy", "south"),
    ("Westbrook Veterinary Clinic", "west"),
    ("Golden Dragon Restaurant", "centre"),
    ("Pinewood Hotel", "north"),
    ("Dockside Brewery", "harbour"),
    ("Abbey Road Medical Centre", "south"),
    ("Bluebell Nursery", "west"),
    ("Station Road Garage", "east"),
    ("Maple Lane Florist", "centre"),
)
# Skill mixes, each covering every skill twice, so that any demo with six technicians or more has a backup.
CORE_PROFILES = (
    ("plumbing", "boiler"),
    ("electrical", "security"),
    ("hvac", "refrigeration"),
    ("appliance", "electrical"),
    ("plumbing", "boiler", "hvac"),
    ("appliance", "refrigeration", "security"),
)
MORE_PROFILES = (
    ("plumbing",),
    ("plumbing", "boiler"),
    ("electrical",),
    ("hvac", "boiler"),
    ("appliance",),
    ("electrical", "appliance"),
    ("hvac", "refrigeration", "electrical"),
    ("plumbing", "appliance"),
)
# skill: (weight among requests, durations in minutes, routine descriptions, urgent descriptions)
SKILLS: dict[str, tuple[int, tuple[int, ...], tuple[str, ...], tuple[str, ...]]] = {
    "plumbing": (
        25,
        (30, 45, 60, 60, 90, 120),
        (
            "Dripping tap under kitchen sink",
            "Toilet keeps running after flush",
            "Slow-draining shower",
            "Replace washing machine valve",
            "Low water pressure upstairs",
        ),
        ("Burst pipe, water coming through ceiling", "Blocked drain, water backing up into sink"),
    ),
    "hvac": (
        18,
        (60, 90, 90, 120, 150, 180),
        (
            "Annual air-conditioning service",
            "Heat pump making rattling noise",
            "Replace ventilation filters",
            "Thermostat not holding temperature",
        ),
        ("Air conditioning down in server room", "No ventilation in kitchen, extractor fan dead"),
    ),
    "electrical": (
        18,
        (30, 45, 60, 90, 120),
        (
            "Install two extra sockets in office",
            "Outdoor light not working",
            "Flickering ceiling lights",
            "Fit new consumer unit labels and test RCDs",
        ),
        ("Sparking socket, breaker keeps tripping", "Half the house without power"),
    ),
    "boiler": (
        15,
        (45, 60, 90, 120),
        ("Annual boiler service", "Radiators cold at the top, need bleeding", "Boiler pressure drops weekly"),
        ("No heat, boiler shows F28", "No hot water, pilot light will not stay lit"),
    ),
    "appliance": (
        14,
        (30, 45, 60, 60, 90),
        (
            "Dishwasher not draining",
            "Oven door seal worn",
            "Washing machine loud on spin cycle",
            "Tumble dryer takes two cycles to dry",
        ),
        ("Fridge-freezer stopped cooling, food defrosting", "Fridge leaking water onto floor"),
    ),
    "security": (
        5,
        (60, 90, 120, 180),
        ("Add a motion sensor to the back door", "Annual alarm system check", "Replace keypad batteries"),
        ("Alarm panel fault, front door won't lock", "Alarm going off with no intrusion"),
    ),
    "refrigeration": (
        5,
        (60, 90, 120, 150),
        ("Service display fridges", "Ice machine producing small cubes", "Cold room door seal torn"),
        ("Walk-in freezer at -2 C and rising", "Display fridge warm, stock at risk"),
    ),
}
# The price list: a list, not a draw, so that invoices from the demo are easy to check by hand.
# contract -> (skill -> (hourly_rate, callout_fee, labor_covered)); "*" is any skill.
RATE_CARD: dict[str, dict[str, tuple[str, str, str]]] = {
    "none": {
        "*": ("85.00", "45.00", "false"),
        "boiler": ("95.00", "55.00", "false"),
        "security": ("90.00", "45.00", "false"),
    },
    "standard": {"*": ("78.00", "0.00", "false"), "refrigeration": ("92.00", "0.00", "false")},
    "gold": {"*": ("0.00", "0.00", "true")},
}
PARTS = (
    ("FLT-16", "Furnace filter 16x25", "18.50"),
    ("VLV-22", "Ball valve 22 mm", "12.40"),
    ("CAP-45", "Run capacitor 45/5 uF", "24.90"),
    ("THM-01", "Programmable thermostat", "89.00"),
    ("GSK-07", "Door gasket, reach-in fridge", "46.75"),
    ("BAT-9V", "Keypad battery 9 V", "4.20"),
    ("PIR-02", "Motion sensor", "38.00"),
    ("IGN-03", "Boiler ignition electrode", "31.60"),
    ("BRK-20", "Circuit breaker 20 A", "15.30"),
    ("HSE-15", "Washer inlet hose 1.5 m", "9.95"),
)
SOURCES = {"phone": 40, "web": 30, "email": 15, "back_office": 10, "technician": 5}
SHIFTS = (
    (("08:00", "17:00"), ("12:00", "12:30")),
    (("07:00", "15:30"), ("11:30", "11:30")),
    (("10:00", "19:00"), ("13:30", "14:00")),
)


@dataclass(frozen=True)
class DemoSpec:
    day: date  # the day the requests are for (local)
    seed: int = 7
    technicians: int = 12
    requests: int = 60


@dataclass
class DemoData:
    technicians: list[dict[str, str]]
    customers: list[dict[str, str]]
    requests: list[dict[str, str]]
    absences: list[dict[str, str]]
    rates: list[dict[str, str]] = field(default_factory=list)
    parts: list[dict[str, str]] = field(default_factory=list)


def _pick(rng: Random, weighted: dict[str, int]) -> str:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def _point(rng: Random, hood: str, spread_km: float) -> tuple[float, float]:
    north, east = NEIGHBOURHOODS[hood][:2]
    return (
        CENTRE[0] + (north + rng.gauss(0, spread_km)) / KM_PER_DEG_LAT,
        CENTRE[1] + (east + rng.gauss(0, spread_km)) / KM_PER_DEG_LON,
    )


def _nearest_hood(lat: float, lon: float) -> str:
    def distance(hood: str) -> float:
        north, east = NEIGHBOURHOODS[hood][:2]
        return haversine_km(lat, lon, CENTRE[0] + north / KM_PER_DEG_LAT, CENTRE[1] + east / KM_PER_DEG_LON)

    return min(NEIGHBOURHOODS, key=distance)


def _address(rng: Random, hood: str, street: str | None = None) -> str:
    return f"{rng.randint(1, 180)} {street or rng.choice(NEIGHBOURHOODS[hood][3])}, {CITY}"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_text.lower() if c.isalnum() or c == " ").strip().replace(" ", "-")


# Numbers France's regulator (ARCEP) reserves for fiction, 10,000 in each block: the demo city lies near
# Lyon, so its numbers look local, and none of them reaches a real person.
MOBILE_BLOCKS = ("06 39 98",)
LANDLINE_BLOCKS = ("01 99 00", "02 61 91", "03 53 01", "04 65 71", "05 36 49")


def _phone(blocks: tuple[str, ...], index: int) -> str:
    """The ``index``-th number of ``blocks``: distinct for every index below 10,000 × len(blocks)."""
    block, number = divmod(index % (10_000 * len(blocks)), 10_000)
    return f"{blocks[block]} {number // 100:02d} {number % 100:02d}"


def _ll(value: float) -> str:
    return f"{value:.5f}"


def _technicians(rng: Random, count: int) -> list[dict[str, str]]:
    profiles = list(CORE_PROFILES[:count]) + [rng.choice(MORE_PROFILES) for _ in range(count - len(CORE_PROFILES))]
    rng.shuffle(profiles)
    # Mostly the standard day; about a fifth start early, about a sixth start late.
    early, late = round(count * 0.2), round(count * 0.15)
    shifts = [SHIFTS[1]] * early + [SHIFTS[2]] * late + [SHIFTS[0]] * (count - early - late)
    rng.shuffle(shifts)
    # Distinct (first, last) pairs, hence distinct e-mail addresses.
    names = rng.sample(range(len(FIRST_NAMES) * len(LAST_NAMES)), count)
    hoods = list(NEIGHBOURHOODS)
    rows = []
    for i, skills in enumerate(profiles):
        first, last = FIRST_NAMES[names[i] // len(LAST_NAMES)], LAST_NAMES[names[i] % len(LAST_NAMES)]
        lat, lon = _point(rng, hoods[i % len(hoods)], 1.5)
        (start, end), breaks = shifts[i]
        has_break = rng.random() > 0.15
        rows.append(
            {
                "ref": f"T{i + 1:03d}",
                "name": f"{first} {last}",
                "skills": ";".join(skills),
                "home_lat": _ll(lat),
                "home_lon": _ll(lon),
                "shift_start": start,
                "shift_end": end,
                "break_start": rng.choice(breaks) if has_break else "",
                "break_minutes": str(rng.choice((30, 30, 45))) if has_break else "0",
                "hourly_cost": f"{rng.randrange(64, 97) / 2:.2f}",
                "phone": _phone(MOBILE_BLOCKS, i),
                "email": f"{_slug(first)}.{_slug(last)}@example-dispatch.test",
                "territory": _nearest_hood(lat, lon),
            }
        )
    return rows


def _customers(rng: Random, count: int) -> tuple[list[dict[str, str]], list[tuple[str, bool]]]:
    """The customers, and for each its neighbourhood and whether it is a business."""
    businesses = list(BUSINESSES)
    rng.shuffle(businesses)
    weights = {hood: spec[2] for hood, spec in NEIGHBOURHOODS.items()}
    rows, places = [], []
    for i in range(count):
        is_business = bool(businesses) and rng.random() < 0.2
        if is_business:
            name, hood = businesses.pop()
            street = next((s for s in NEIGHBOURHOODS[hood][3] if s in name), None)
            email = f"contact@{_slug(name)}.example"
            contract = _pick(rng, {"gold": 3, "standard": 5, "": 2})
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name, hood, street, contract = f"{first} {last}", _pick(rng, weights), None, ""
            domain = rng.choice(("example.com", "example.net", "example.org"))
            email = f"{_slug(first)}.{_slug(last)}@{domain}" if rng.random() < 0.8 else ""
        lat, lon = _point(rng, hood, 0.8)
        rows.append(
            {
                "ref": f"C{i + 1:04d}",
                "name": name,
                "address": _address(rng, hood, street),
                "lat": _ll(lat),
                "lon": _ll(lon),
                "phone": _phone(LANDLINE_BLOCKS, i),
                "email": email,
                "contract": contract,
            }
        )
        places.append((hood, is_business))
    return rows, places


def _requests(
    rng: Random, spec: DemoSpec, customers: list[dict[str, str]], places: list[tuple[str, bool]], skills: list[str]
) -> list[dict[str, str]]:
    day = spec.day.isoformat()
    shops = [i for i, (_, is_business) in enumerate(places) if is_business]
    rows = []
    for i in range(spec.requests):
        skill = _pick(rng, {s: SKILLS[s][0] for s in skills})
        # Cold rooms and display fridges belong to shops and restaurants.
        c = rng.choice(shops) if skill == "refrigeration" and shops else rng.randrange(len(customers))
        _, durations, routine, urgent = SKILLS[skill]
        priority = rng.choices((1, 2, 3, 4), weights=(5, 20, 50, 25))[0]
        if priority == 1:
            start, hours = rng.choice((8 * 60, 8 * 60 + 30)), 2
        else:
            hours = rng.choices((2, 3, 4), weights=(4, 3, 2))[0]
            start = rng.randrange(8 * 60, (18 - hours) * 60 + 1, 30)
        end = start + hours * 60
        window_end = f"{day}T{end // 60:02d}:{end % 60:02d}"
        due_by = ""
        if priority == 1 or (priority == 2 and rng.random() < 0.5):
            due_by = window_end
        elif priority == 2:
            due_by = f"{day}T{rng.choice(('18:00', '19:00', '20:00'))}"
        lat = lon = address = ""
        if rng.random() < 0.05:  # work at another site nearby (a second shop, a relative's flat)
            site = (
                float(customers[c]["lat"]) + rng.gauss(0, 0.6) / KM_PER_DEG_LAT,
                float(customers[c]["lon"]) + rng.gauss(0, 0.6) / KM_PER_DEG_LON,
            )
            lat, lon, address = _ll(site[0]), _ll(site[1]), _address(rng, places[c][0])
        rows.append(
            {
                "ref": f"R{i + 1:05d}",
                "customer_ref": customers[c]["ref"],
                "skill": skill,
                "duration_min": str(rng.choice(durations)),
                "priority": str(priority),
                "window_start": f"{day}T{start // 60:02d}:{start % 60:02d}",
                "window_end": window_end,
                "due_by": due_by,
                "description": rng.choice(urgent if priority <= 2 else routine),
                "source": "phone" if priority == 1 and rng.random() < 0.8 else _pick(rng, SOURCES),
                "lat": lat,
                "lon": lon,
                "address": address,
            }
        )
    return rows


def _absences(rng: Random, spec: DemoSpec, technicians: list[dict[str, str]]) -> list[dict[str, str]]:
    chosen = rng.sample(technicians, min(2, len(technicians)))
    day = spec.day.isoformat()
    rows = []
    if chosen:  # off for the afternoon
        start = rng.choice(("13:00", "13:30", "14:00"))
        rows.append(
            {
                "technician_ref": chosen[0]["ref"],
                "start": f"{day}T{start}",
                "end": f"{day}T{chosen[0]['shift_end']}",
                "reason": "dentist",
            }
        )
    if len(chosen) > 1:  # on holiday: the whole working day (midnight may not exist where DST switches at 24:00)
        tech = chosen[1]
        rows.append(
            {
                "technician_ref": tech["ref"],
                "start": f"{day}T{tech['shift_start']}",
                "end": f"{day}T{tech['shift_end']}",
                "reason": "holiday",
            }
        )
    return rows


def generate_demo(spec: DemoSpec) -> DemoData:
    """The demo city for ``spec``; a function of the spec alone (one ``Random(seed)``, no global state)."""
    if spec.technicians < 0 or spec.requests < 0:
        raise ValueError("technicians and requests must not be negative")
    rng = Random(spec.seed)
    technicians = _technicians(rng, spec.technicians)
    held: dict[str, int] = {}
    for tech in technicians:
        for skill in tech["skills"].split(";"):
            held[skill] = held.get(skill, 0) + 1
    # Requests only ask for skills with a backup technician (or any holder, or any skill, in tiny demos).
    skills = [s for s in SKILLS if held.get(s, 0) >= 2] or [s for s in SKILLS if s in held] or list(SKILLS)
    customers, places = _customers(rng, max(10, spec.requests * 2 // 3))
    requests = _requests(rng, spec, customers, places, skills)
    absences = _absences(rng, spec, technicians)
    return DemoData(technicians, customers, requests, absences, _rates(held), _parts())


def _rates(held: dict[str, int]) -> list[dict[str, str]]:
    """The rate card, limited to skills somebody holds (a rate for an unknown skill is refused on import)."""
    rows = []
    for contract, by_skill in RATE_CARD.items():
        for skill, (hourly, callout, covered) in by_skill.items():
            if skill == "*" or skill in held:
                values = (contract, skill, hourly, callout, covered)
                rows.append(dict(zip(RATE_COLUMNS, values, strict=True)))
    return rows


def _parts() -> list[dict[str, str]]:
    return [dict(zip(PART_COLUMNS, part, strict=True)) for part in PARTS]


def write_demo_files(data: DemoData, directory: Path) -> list[Path]:
    """Write the import files (CSV, header row, UTF-8, "\\n" line endings) into ``directory``, in import order;
    a demo shaped without a price list (benchmarks) writes no rates or parts file."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, columns, rows in (
        ("technicians", TECHNICIAN_COLUMNS, data.technicians),
        ("customers", CUSTOMER_COLUMNS, data.customers),
        ("requests", REQUEST_COLUMNS, data.requests),
        ("absences", ABSENCE_COLUMNS, data.absences),
        ("rates", RATE_COLUMNS, data.rates),
        ("parts", PART_COLUMNS, data.parts),
    ):
        if name in ("rates", "parts") and not rows:
            continue
        path = directory / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        paths.append(path)
    return paths
