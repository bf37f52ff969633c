"""Settings: defaults, TOML file, environment, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from cli.main import app
from dispatch_tui.config import Settings, load_settings


def test_defaults_put_the_store_in_the_users_data_dir(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.db == str(tmp_path / "xdg-data" / "dispatch" / "dispatch.db")
    assert (settings.travel_road_factor, settings.travel_speed_kmh) == (1.3, 40.0)
    assert settings.working_days == [0, 1, 2, 3, 4]


def test_toml_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('timezone = "America/Chicago"\ntravel_speed_kmh = 30\nworking_days = [5, 0, 1]\ndb = "/x.db"\n')
    monkeypatch.setenv("DISPATCH_CONFIG", str(config))
    settings = load_settings()
    assert (settings.timezone, settings.travel_speed_kmh, settings.working_days) == ("America/Chicago", 30, [0, 1, 5])
    monkeypatch.setenv("DISPATCH_TIMEZONE", "Asia/Tokyo")
    assert load_settings().timezone == "Asia/Tokyo"
    assert load_settings(timezone="Europe/Lisbon").zone.key == "Europe/Lisbon"
    assert load_settings(db=None).db == "/x.db"


def test_an_unknown_zone_is_refused_with_advice() -> None:
    with pytest.raises(ValidationError, match="use an IANA name"):
        Settings(timezone="Mars/Olympus")


def test_bad_settings_are_a_usage_error_not_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--tz", "Mars/Olympus", "jobs", "list"])
    assert result.exit_code == 2
    assert "unknown time zone 'Mars/Olympus'" in result.stderr


def test_every_setting_is_documented() -> None:
    assert all(field.description for field in Settings.model_fields.values())
