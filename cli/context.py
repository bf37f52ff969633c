"""What every command shares: settings (flags over environment over file) and the store's engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

from cli import exit_codes
from cli.output import fail

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from dispatch_tui.config import Settings


@dataclass
class AppContext:
    db: str | None = None
    timezone: str | None = None
    now: str | None = None
    now_frozen: bool | None = None
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from pydantic import ValidationError

            from dispatch_tui.config import SettingsFileMissing, load_settings

            try:
                self._settings = load_settings(
                    db=self.db, timezone=self.timezone, now=self.now, now_frozen=self.now_frozen
                )
            except SettingsFileMissing as exc:
                fail(str(exc), exit_codes.USAGE)
            except ValidationError as exc:
                problems = "; ".join(_problem(e["loc"], e["msg"]) for e in exc.errors())
                fail(f"bad settings: {problems}", exit_codes.USAGE)
            except ValueError as exc:  # e.g. an unreadable TOML file
                fail(f"bad settings file: {exc}", exit_codes.USAGE)
            from dispatch_tui import clock

            clock.use(self._settings.clock)  # every "now" of this command, the store's stamps included
        assert self._settings is not None
        return self._settings

    @property
    def actor(self) -> str:
        """Who the audit trail names for changes made from this shell."""
        from dispatch_tui.actor import current_user

        return current_user()

    def engine(self, db: str | None = None, *, create: bool = False) -> Engine:
        """The engine for the store, checked to be at this version's schema.

        A local SQLite store is upgraded on open; a server store must be upgraded with `dispatch db upgrade`.
        An SQLite file that does not exist is refused (exit 2) unless the command makes stores (``create``:
        `demo`, `import`; `db upgrade` and `restore` make theirs themselves): a mistyped `--db` must not
        become a new, empty store that answers "0 jobs".
        """
        from sqlalchemy.exc import ArgumentError, SQLAlchemyError

        from dispatch_tui.store import StoreMissing, StoreNotReady, ensure_ready, make_engine

        target = db or self.settings.db
        try:
            engine = make_engine(target, create=create)
            ensure_ready(engine, auto_upgrade=engine.url.get_backend_name() == "sqlite")
        except ArgumentError as exc:
            fail(f"--db {target!r} is neither a file path nor a database URL: {exc}", exit_codes.USAGE)
        except StoreMissing as exc:
            fail(str(exc), exit_codes.USAGE)
        except StoreNotReady as exc:
            fail(str(exc))
        except SQLAlchemyError as exc:
            fail(f"cannot open the store {target}: {exc.__class__.__name__}: {getattr(exc, 'orig', None) or exc}")
        return engine


def _problem(where: tuple[int | str, ...], message: str) -> str:
    message = message.removeprefix("Value error, ")
    return f"{'.'.join(map(str, where))}: {message}" if where else message


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):
        obj = AppContext()
        ctx.find_root().obj = obj
    return obj
