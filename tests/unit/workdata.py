"""A small store whose day is in the past (``PAST_DAY``, a Tuesday four weeks back): planned, ready to be
worked, billed and rated.

T1 Ana (boiler, hvac), T2 Ben (plumbing); C1 has no contract, C2 the ``gold`` contract, C3 ``care``
(labour covered). R1 C1 boiler 09:30 (T1), R2 C2 plumbing 13:00 (T2), R3 C2 hvac 11:00 (T1),
R4 C3 boiler 15:00 (T1), R5 C1 plumbing 08:00 (T2).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from dispatch_tui.localtime import local_at
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.services.planning import assignment
from dispatch_tui.travel.haversine import travel_minutes
from tests.clock import PAST_DAY, ZONE
from tests.conftest import WEEKDAYS
from tests.unit.importdata import TECHNICIANS

DAY = PAST_DAY  # a Tuesday, in the past under the suite's clock
AFTER = local_at(DAY + timedelta(days=1), 12 * 60, ZONE)  # "now" for service calls: noon the day after
D = DAY.isoformat()

CUSTOMERS = """ref,name,address,lat,lon,phone,email,contract
C1,Claire Dubois,12 Rue Garibaldi,45.7590,4.8520,,,
C2,Harbour Bakery,3 Quai Rambaud,45.7430,4.8180,,,gold
C3,Care Home,8 Rue Royale,45.7700,4.8350,,,care
"""

REQUESTS = f"""ref,customer_ref,skill,duration_min,priority,window_start,window_end,due_by,description,source
R1,C1,boiler,60,2,{D}T09:00,{D}T11:00,{D}T12:00,No heat,phone
R2,C2,plumbing,45,3,{D}T13:00,{D}T15:00,,Dripping tap,web
R3,C2,hvac,90,4,{D}T10:00,{D}T14:00,,Service the unit,email
R4,C3,boiler,60,3,{D}T14:30,{D}T16:30,,Annual check,back_office
R5,C1,plumbing,30,3,{D}T08:00,{D}T09:00,,Leak under the sink,phone
"""

# Precedence: R1 (none, boiler) → (none, *); R2 (gold, plumbing) → (gold, *); R3 (gold, hvac) exact;
# R4 (care, boiler) → (care, *) covered; R5 (none, plumbing) → (none, plumbing).
RATES = """contract,skill,hourly_rate,callout_fee,labor_covered
none,*,60.00,25.00,false
none,plumbing,80.00,30.00,no
gold,*,50.00,0,false
gold,hvac,45.50,10.00,false
care,*,70,20,true
"""

PARTS = """sku,name,unit_price
FLT-20,Filter 20 mm,12.40
VLV-3,Valve 3/4,7.05
"""

PLAN = (("R1", "T1", 9 * 60 + 30), ("R2", "T2", 13 * 60), ("R3", "T1", 11 * 60), ("R4", "T1", 15 * 60),
        ("R5", "T2", 8 * 60))  # fmt: skip


def travel(a: tuple[float, float], b: tuple[float, float]) -> int:
    return travel_minutes(a[0], a[1], b[0], b[1])


def at(hhmm: str, day: date = DAY) -> datetime:
    hours, minutes = hhmm.split(":")
    return local_at(day, int(hours) * 60 + int(minutes), ZONE)


def load(engine: Engine) -> Engine:
    for kind, content in ((ImportKind.TECHNICIANS, TECHNICIANS), (ImportKind.CUSTOMERS, CUSTOMERS),
                          (ImportKind.REQUESTS, REQUESTS), (ImportKind.RATES, RATES),
                          (ImportKind.PARTS, PARTS)):  # fmt: skip
        import_data(engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    with Session(engine) as session:
        for ref, tech, minute in PLAN:
            assignment.assign(session, ref, tech, local_at(DAY, minute, ZONE), zone=ZONE, travel=travel,
                              actor="planner", force=True)  # fmt: skip
        session.commit()
    return engine


def call(engine: Engine, action: Any, *args: Any, **kwargs: Any) -> Any:
    """One lifecycle call in its own committed transaction, as the CLI does, with "now" the day after."""
    with Session(engine) as session:
        result = action(session, *args, zone=ZONE, travel=travel, actor="ann", now=AFTER, **kwargs)
        session.commit()
        return result
