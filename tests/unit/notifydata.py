"""A small store for the customer messages' tests, its day ``DAY`` (tomorrow under the suite's clock).

C1 Claire (email and mobile), C2 Harbour Bakery (a landline, no email), C3 Noor (email only).
R1 C1 boiler, window 09:00–11:00; R2 C2 plumbing 13:00–15:00; R3 C3 boiler, the whole day.
Nothing is planned: each test plans what it needs through the services.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from dispatch_tui.config import Settings
from dispatch_tui.notify_config import NotifySettings
from dispatch_tui.services.core import Core
from dispatch_tui.services.intake.imports import FileFormat, ImportKind, import_data
from dispatch_tui.store.models import Job, Notice
from tests.clock import DAY, ZONE
from tests.conftest import WEEKDAYS, db_arg
from tests.unit.importdata import TECHNICIANS

D = DAY.isoformat()
CUSTOMERS = """ref,name,address,lat,lon,phone,email,contract
C1,Claire Dubois,12 Rue Garibaldi,45.7590,4.8520,+33 6 12 34 56 78,claire@example.test,
C2,Harbour Bakery,3 Quai Rambaud,45.7430,4.8180,04 78 00 00 09,,
C3,Noor Haddad,8 Rue Royale,45.7700,4.8350,,noor@example.test,
"""
REQUESTS = f"""ref,customer_ref,skill,duration_min,priority,window_start,window_end,due_by,description,source
R1,C1,boiler,60,2,{D}T09:00,{D}T11:00,,No heat,phone
R2,C2,plumbing,45,3,{D}T13:00,{D}T15:00,,Dripping tap,web
R3,C3,boiler,60,3,{D}T08:00,{D}T17:00,,Annual check,email
"""


def load(engine: Engine) -> Engine:
    for kind, content in ((ImportKind.TECHNICIANS, TECHNICIANS), (ImportKind.CUSTOMERS, CUSTOMERS),
                          (ImportKind.REQUESTS, REQUESTS)):  # fmt: skip
        import_data(engine, kind, content.encode(), FileFormat.CSV, zone=ZONE, working_days=WEEKDAYS)
    return engine


def core(engine: Engine, **notify: Any) -> Core:
    """A core over ``engine`` under the suite's clock, with these ``[notify]`` settings."""
    return Core(Settings(db=db_arg(engine), timezone=ZONE.key, notify=NotifySettings(**notify)), actor="ann")


def notices(engine: Engine, ref: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """(job ref, kind, facts) of every notice (of ``ref``), oldest first."""
    with Session(engine) as session:
        query = select(Job.ref, Notice.kind, Notice.facts).join(Job, col(Job.id) == col(Notice.job_id))
        if ref is not None:
            query = query.where(Job.ref == ref)
        rows = session.exec(query.order_by(col(Notice.id))).all()
    return [(job, kind, json.loads(facts)) for job, kind, facts in rows]


def kinds(engine: Engine, ref: str | None = None) -> list[str]:
    return [kind for _job, kind, _facts in notices(engine, ref)]


def config_file(folder: Path, notify: dict[str, Any]) -> Path:
    """A config.toml with this ``[notify]`` table (what `dispatch` reads through DISPATCH_CONFIG)."""
    lines = ["[notify]"] + [f"{key} = {json.dumps(value)}" for key, value in notify.items()]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
