"""What every command shares: settings (flags over environment over file), the core over the store, and
one mapping of the core's refusals to messages and exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer

from cli import exit_codes
from cli.output import fail, stderr

if TYPE_CHECKING:
    from dispatch_tui.config import Settings
    from dispatch_tui.services.core import Core


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

    def core(self, db: str | None = None, *, create: bool = False) -> Core:
        """The core over the store (``db``, default the settings'), opened now and checked to be at this
        version's schema: a local SQLite store is upgraded on open; a server store must be upgraded with
        `dispatch db upgrade`. An SQLite file that does not exist is refused (exit 2) unless the command
        makes stores (``create``: `demo`, `import`; `db upgrade` and `restore` make theirs themselves):
        a mistyped `--db` must not become a new, empty store that answers "0 jobs"."""
        from sqlalchemy.exc import ArgumentError, SQLAlchemyError

        from dispatch_tui.services.core import Core
        from dispatch_tui.store import StoreMissing, StoreNotReady

        settings = self.settings if db is None else self.settings.model_copy(update={"db": db})
        core = Core(settings, create_store=create)
        try:
            core.engine  # noqa: B018 - opened here, so that its errors are this command's messages
        except ArgumentError as exc:
            fail(f"--db {settings.db!r} is neither a file path nor a database URL: {exc}", exit_codes.USAGE)
        except StoreMissing as exc:
            fail(str(exc), exit_codes.USAGE)
        except StoreNotReady as exc:
            fail(str(exc))
        except SQLAlchemyError as exc:
            fail(f"cannot open the store {settings.db}: {exc.__class__.__name__}: {getattr(exc, 'orig', None) or exc}")
        return core


@contextmanager
def refusals(*, force: bool | None = None) -> Iterator[None]:
    """The core's refusals (exit 3) and conflicts (exit 1) as messages; nothing was written.

    ``force``: whether the command was given --force (None: it has no --force). Only a command that has
    the flag, and was not given it, is told to use it, and only for a refusal by the rules: a job's
    state (completed, under way, locked) is no rule that --force overrides."""
    from dispatch_tui.services.errors import Conflict, NotFound, Refused

    try:
        yield
    except Refused as refused:
        for reason in refused.reasons:
            stderr.print(f"refused: {reason}", highlight=False, markup=False)
        hint = " (use --force to override the rules)" if refused.overridable and force is False else ""
        fail(f"nothing changed{hint}", exit_codes.REJECTED)
    except NotFound as missing:
        fail(str(missing), exit_codes.REJECTED)
    except Conflict as conflict:
        fail(f"conflict: {conflict}", exit_codes.FAILED)


def _problem(where: tuple[int | str, ...], message: str) -> str:
    message = message.removeprefix("Value error, ")
    return f"{'.'.join(map(str, where))}: {message}" if where else message


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):
        obj = AppContext()
        ctx.find_root().obj = obj
    return obj
