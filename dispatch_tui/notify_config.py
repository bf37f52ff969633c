"""The settings of telling customers (the ``[notify]`` table of config.toml; environment variables
``DISPATCH_NOTIFY__<FIELD>``, e.g. ``DISPATCH_NOTIFY__SMTP_PASSWORD``). A channel is used only once it
is configured: with none configured, messages are kept in the outbox, routed to nobody (``skipped``)."""

from __future__ import annotations

import re
from datetime import time
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class SmtpSecurity(StrEnum):
    STARTTLS = "starttls"  # plain connection upgraded with STARTTLS (port 587)
    TLS = "tls"  # TLS from the first byte (port 465)
    NONE = "none"  # a relay on the local network or the machine itself only


class NotifySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: list[Channel] = Field(
        default=[Channel.EMAIL, Channel.SMS],
        description="The customer channels used for a customer who chose none (`dispatch customers notify`): "
        "email to the customer's address, sms to their phone. The webhook is the office's own feed and gets "
        "every message whatever a customer chose.",
    )
    company: str = Field(default="", max_length=100, description="The company's name, as the texts sign.")
    smtp_host: str | None = Field(default=None, description="The mail server; unset: no email is sent.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Its port (587 STARTTLS, 465 TLS, 25 none).")
    smtp_security: SmtpSecurity = Field(default=SmtpSecurity.STARTTLS, description="starttls, tls or none.")
    smtp_username: str | None = Field(default=None, description="Login at the mail server; unset: none.")
    smtp_password: SecretStr | None = Field(default=None, description="Its password (never shown or logged).")
    email_from: str = Field(default="", description="The From address of emails, e.g. Acme <service@acme.example>.")
    webhook_url: str | None = Field(default=None, description="The office's receiver of every message (JSON POST).")
    webhook_secret: SecretStr | None = Field(
        default=None, description="The key of the webhook's HMAC-SHA256 signature (docs/webhooks.md)."
    )
    sms_url: str | None = Field(default=None, description="The SMS gateway's HTTP API; unset: no SMS is sent.")
    sms_secret: SecretStr | None = Field(default=None, description="The key the SMS requests are signed with.")
    sms_token: SecretStr | None = Field(default=None, description="A bearer token the gateway asks for, if any.")
    timeout_s: float = Field(default=10.0, gt=0, le=120, description="Seconds to wait for a server per message.")
    max_attempts: int = Field(
        default=8, ge=1, le=100, description="Attempts before a message is failed (kept, with its last error)."
    )
    retry_initial_s: float = Field(default=30.0, gt=0, description="Wait before the first retry, in seconds.")
    retry_max_s: float = Field(default=3600.0, gt=0, description="The longest wait between two attempts.")
    quiet_hours: str | None = Field(
        default="21:00-08:00",
        description="Local hours (HH:MM-HH:MM) in which a customer's messages wait for the hours' end (all but "
        "en route and running late, which are news only now); unset: none.",
    )
    reminder_at: time = Field(
        default=time(18, 0), description="Local time of the day before a visit from which its reminder goes out."
    )
    rating_url: str | None = Field(
        default=None,
        description="Where a customer rates a finished visit, with {job_ref} in it "
        "(https://acme.example/rate/{job_ref}); unset: the text asks for a reply with a mark from 1 to 5.",
    )
    templates_dir: Path | None = Field(
        default=None,
        description="A folder of texts that replace the shipped ones, file for file (README: Telling the customer); "
        "default: `templates` beside config.toml.",
    )
    claim_s: float = Field(
        default=120.0, ge=1, le=3600,
        description="How long a sender holds the messages it took: one killed mid-send is taken over after this.",
    )  # fmt: skip
    poll_s: float = Field(default=5.0, gt=0, le=3600, description="How often `dispatch notify run` looks for work.")
    console_sender: bool = Field(
        default=False, description="The console sends messages itself, in the background, while it runs."
    )

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None and not HOURS.match(value):
            raise ValueError(f"quiet_hours must be HH:MM-HH:MM (21:00-08:00), got {value!r}")
        return value

    @field_validator("rating_url")
    @classmethod
    def _rating(cls, value: str | None) -> str | None:
        if value is not None and "{job_ref}" not in value:
            raise ValueError("rating_url must contain {job_ref}, where the visit's reference goes")
        return value

    def quiet_span(self) -> tuple[time, time] | None:
        """The quiet hours as (from, until); from > until spans midnight."""
        if self.quiet_hours is None:
            return None
        start, end = self.quiet_hours.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)

    def configured(self) -> set[Channel]:
        """The channels that can send now."""
        ready = set()
        if self.smtp_host and self.email_from:
            ready.add(Channel.EMAIL)
        if self.sms_url:
            ready.add(Channel.SMS)
        if self.webhook_url:
            ready.add(Channel.WEBHOOK)
        return ready
