"""Settings: environment variables ``DISPATCH_*`` over an optional TOML file over defaults.

The TOML file is ``$DISPATCH_CONFIG`` if set, else ``config.toml`` in the user's config directory
(``dispatch`` under the XDG config home on Linux). Its keys are the field names below, e.g.::

    db = "postgresql+psycopg://dispatch@db.example/dispatch"
    timezone = "Europe/Paris"
    travel_road_factor = 1.35
    working_days = [0, 1, 2, 3, 4, 5]
"""

from __future__ import annotations

import os
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_config_dir, user_data_dir
from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from dispatch_tui.notify_config import NotifySettings

if TYPE_CHECKING:
    from dispatch_tui.clock import Clock

APP_NAME = "dispatch"


def default_config_path() -> Path:
    return Path(os.environ.get("DISPATCH_CONFIG") or Path(user_config_dir(APP_NAME)) / "config.toml")


def default_db_path() -> Path:
    return Path(user_data_dir(APP_NAME)) / "dispatch.db"


def system_timezone() -> str:
    # tzlocal reads TZ, /etc/localtime and friends; fall back to UTC on a machine that has none.
    try:
        from tzlocal import get_localzone_name

        return get_localzone_name() or "UTC"
    except Exception:  # noqa: BLE001 - any failure to detect just means "use UTC"
        return "UTC"


class Settings(BaseSettings):
    """Everything a deployment can tune. Each field is documented because ops read this."""

    model_config = SettingsConfigDict(env_prefix="DISPATCH_", env_nested_delimiter="__", extra="forbid", frozen=True)

    db: str = Field(
        default_factory=lambda: str(default_db_path()),
        description="The store: a file path (SQLite) or an SQLAlchemy URL such as "
        "postgresql+psycopg://user@host/dbname. Default: dispatch.db in the user's data directory.",
    )
    timezone: str = Field(
        default_factory=system_timezone,
        description="IANA zone in which times are shown and naive times are read. Default: the system's.",
    )
    travel_road_factor: float = Field(
        default=1.3, gt=0, description="Road distance over straight-line distance in the default travel model."
    )
    travel_speed_kmh: float = Field(
        default=40.0, gt=0, description="Average driving speed in the default travel model."
    )
    travel_url: str | None = Field(
        default=None,
        description="Base URL of an OSRM-compatible routing server (its /table service gives driving times); "
        "unset: the straight-line model above, no network needed.",
    )
    travel_timeout_s: float = Field(
        default=5.0, gt=0, description="Seconds to wait for the routing server per request."
    )
    travel_retries: int = Field(default=2, ge=0, le=10, description="Further attempts after a failed routing request.")
    travel_fallback: bool = Field(
        default=False,
        description="When the routing server is down, use the straight-line model instead of failing. Off by "
        "default: silently worse travel times make worse plans.",
    )
    phone_region: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166 alpha-2 country (FR, GB…) of phone numbers typed without a country code, when "
        "customers are looked up or entered. Unset: the country of `timezone` (from the tz database's zone.tab); "
        "none for a zone of no one country (UTC), and then only numbers starting with + and a country code match.",
    )
    geocoder_url: str | None = Field(
        default=None,
        description="Base URL of a Nominatim-compatible geocoding server (its /search service gives an address's "
        "position) for new customers' sites; answers are cached in the store. Unset: positions are typed "
        "(--lat/--lon), never guessed.",
    )
    geocoder_timeout_s: float = Field(default=10.0, gt=0, description="Seconds to wait for the geocoding server.")
    optimizer_move_cost: int = Field(
        default=15,
        ge=0,
        le=1440,
        description="Minutes of driving a re-plan must save before it gives a planned job to another technician: "
        "keeps what customers and technicians were told unless the gain is real. 0: move freely.",
    )
    optimizer_overtime_minutes: int = Field(
        default=0,
        ge=0,
        le=600,
        description="Minutes a technician may be planned past the shift end by the optimizer (0: shifts are hard "
        "limits). Overridden per run by `dispatch optimize --overtime`.",
    )
    optimizer_overtime_cost: int = Field(
        default=2,
        ge=0,
        le=1000,
        description="What one minute of overtime costs the optimizer, in minutes of driving.",
    )
    slot_window_minutes: int = Field(
        default=120,
        ge=30,
        le=720,
        description="Length of the arrival window offered to and promised a customer (`dispatch slots`, "
        "`dispatch book`), in minutes; windows start on the half hour.",
    )
    slot_days: int = Field(
        default=5,
        ge=1,
        le=60,
        description="How many days ahead times are offered; also how long a new request without a window stays "
        "open while a time is agreed.",
    )
    working_days: list[int] = Field(
        default=[0, 1, 2, 3, 4],
        description="Weekdays (0 = Monday) on which an imported shift applies: the default working week.",
    )
    keymap: dict[str, str] = Field(
        default_factory=dict,
        description='The console\'s key bindings to change: binding id → keys, e.g. {assign = "ctrl+a", '
        'quit = "q,ctrl+q"}. The ids are listed by the console\'s help screen (?).',
    )
    now: str | None = Field(
        default=None,
        description="Set the clock, to replay or demonstrate a given moment: ISO 8601 (2026-12-01T09:30; without an "
        "offset, local time in `timezone`) or HH:MM today. The clock reads it when a command starts and runs on "
        "from there (see now_frozen). Unset: the real time.",
    )
    now_frozen: bool = Field(
        default=False,
        description="Hold a set clock still at `now`, so that a script's output can be repeated exactly.",
    )
    tax_rate: Decimal = Field(
        default=Decimal("0"),
        ge=0,
        le=1,
        description="Tax on an invoice line's subtotal as a fraction (0.2 for 20 %), used by the billing "
        "export. Default 0: no tax.",
    )

    notify: NotifySettings = Field(
        default_factory=NotifySettings,
        description="Telling customers: channels, mail server, webhook, SMS gateway, retries, quiet hours "
        "(the [notify] table; dispatch_tui/notify_config.py lists its keys).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=default_config_path()))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/Paris") from exc
        return value

    @field_validator("working_days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(not 0 <= day <= 6 for day in value):
            raise ValueError("working_days must list weekdays 0 (Monday) to 6 (Sunday)")
        return sorted(set(value))

    @model_validator(mode="after")
    def _readable_now(self) -> Settings:
        if self.now is not None:
            from dispatch_tui.clock import parse_moment

            try:
                parse_moment(self.now, self.zone)
            except ValueError as exc:
                raise ValueError(f"now (--now, DISPATCH_NOW): {exc}") from None
        elif self.now_frozen:
            raise ValueError("now_frozen (--now-frozen, DISPATCH_NOW_FROZEN) holds a set clock: set now too")
        return self

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def clock(self) -> Clock:
        """The clock these settings describe; a set one starts running when first asked for."""
        from dispatch_tui.clock import Clock, parse_moment

        if self.now is None:
            return Clock.real()
        return Clock.at(parse_moment(self.now, self.zone), frozen=self.now_frozen)


class SettingsFileMissing(Exception):
    """``$DISPATCH_CONFIG`` names a file that does not exist: its settings would be ignored silently."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(f"DISPATCH_CONFIG names {path}, which does not exist: create it or unset DISPATCH_CONFIG")


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and the TOML file; keyword overrides (CLI flags) win.

    The default file may be absent (then there is nothing to read), but a file named by ``$DISPATCH_CONFIG``
    must exist: it was named on purpose, and running on the defaults instead would be a silent surprise.
    """
    named = os.environ.get("DISPATCH_CONFIG")
    if named and not Path(named).exists():
        raise SettingsFileMissing(Path(named))
    return Settings(**{key: value for key, value in overrides.items() if value is not None})
