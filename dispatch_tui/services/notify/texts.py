"""The texts of customer messages: Jinja2 templates, one set per kind (``templates/``), that a user's folder
(``notify.templates_dir``) overrides file by file.

Per kind: ``<kind>.subject.txt`` (an email's subject, one line), ``<kind>.txt`` (an email's body, the
webhook's ``text``) and ``<kind>.sms.txt`` (an SMS: short). A template sees the notice's facts
(``outbox.FACTS``; a fact the notice lacks is None) with their times as aware local datetimes, and:

- ``company``: the company's name (may be empty); ``rating_link``: where to rate the visit, or None;
- ``multi_day_window``: the promised window spans more than one day;
- ``planned_in_window``: the planned start keeps the promised window (None when nothing is planned);
- the filters ``clock`` (14:30) and ``day`` (Tuesday 3 December).
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError

from dispatch_tui.notify_config import Channel
from dispatch_tui.services.notify.outgoing import DeliveryError, Outgoing

SHIPPED = Path(__file__).with_name("templates")
FACT_KEYS = (
    "job_ref", "version", "customer", "address", "skill", "duration_min", "description", "window_start",
    "window_end", "planned_start", "planned_end", "technician", "eta", "of_job_ref",
)  # fmt: skip
TIME_KEYS = ("window_start", "window_end", "planned_start", "planned_end", "eta")
# English whatever the machine's locale: the texts are English.
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip


@dataclass(frozen=True)
class Rendered:
    subject: str  # one line; what an email's Subject says
    body: str


class Texts:
    def __init__(self, templates_dir: Path | None, zone: ZoneInfo, company: str, rating_url: str | None) -> None:
        loaders: list[BaseLoader] = [FileSystemLoader(SHIPPED)]
        if templates_dir is not None:
            loaders.insert(0, FileSystemLoader(templates_dir))
        self.zone = zone
        self.company = company
        self.rating_url = rating_url
        self.environment = Environment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,  # a misspelt name is an error, not an empty gap in a customer's text
            autoescape=False,  # plain text, never HTML
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.environment.filters["clock"] = clock_text
        self.environment.filters["day"] = day_text

    def render(self, outgoing: Outgoing) -> Rendered:
        """The subject and body of ``outgoing``: its SMS text for the SMS channel. A template that cannot
        be read or rendered fails the message for good (DeliveryError, permanent), naming its file and line."""
        kind = outgoing.kind.value
        context = self.context(outgoing)
        subject = self._render(f"{kind}.subject.txt", context)
        body = self._render(f"{kind}.sms.txt" if outgoing.channel == Channel.SMS else f"{kind}.txt", context)
        return Rendered(subject=" ".join(subject.split()), body=body.strip())

    def context(self, outgoing: Outgoing) -> dict[str, Any]:
        facts: dict[str, Any] = dict.fromkeys(FACT_KEYS) | outgoing.facts
        for key in TIME_KEYS:
            if isinstance(facts[key], str):
                facts[key] = datetime.fromisoformat(facts[key]).astimezone(self.zone)
        opens, closes, planned = facts["window_start"], facts["window_end"], facts["planned_start"]
        window = isinstance(opens, datetime) and isinstance(closes, datetime)
        ref = facts["job_ref"]
        return facts | {
            "kind": outgoing.kind.value,
            "company": self.company,
            "rating_link": self.rating_url.replace("{job_ref}", str(ref)) if self.rating_url and ref else None,
            # A window ending at midnight ends the day it opened on.
            "multi_day_window": window and (closes - timedelta(microseconds=1)).date() > opens.date(),
            "planned_in_window": opens <= planned <= closes if window and isinstance(planned, datetime) else None,
        }

    def _render(self, name: str, context: dict[str, Any]) -> str:
        try:
            template = self.environment.get_template(name)
            return template.render(context)
        except TemplateError as exc:
            raise DeliveryError(f"the text {where(exc, name)}: {exc.message or type(exc).__name__}",
                                permanent=True) from None  # fmt: skip
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, ArithmeticError) as exc:
            raise DeliveryError(f"the text {where(exc, name)}: {exc}", permanent=True) from None


def where(exc: Exception, name: str) -> str:
    """The file and line a template error is at: a syntax error says so itself; a failure while rendering is
    found in its traceback, whose template frames Jinja names by the template's file."""
    filename, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    if filename is None or line is None:
        frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if not frame.filename.endswith(".py")]
        if frames:
            filename, line = frames[-1].filename, frames[-1].lineno
    if filename is None:
        return f"template {name}"
    return f"template {filename}, line {line}" if line else f"template {filename}"


def clock_text(moment: datetime) -> str:
    if not isinstance(moment, datetime):
        raise ValueError(f"clock shows a time, not {moment!r}")
    return f"{moment:%H:%M}"


def day_text(moment: datetime) -> str:
    if not isinstance(moment, datetime):
        raise ValueError(f"day shows a date, not {moment!r}")
    return f"{WEEKDAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month - 1]}"
