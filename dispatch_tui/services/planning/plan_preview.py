"""The optimizer for an interactive screen: solve in a child process, preview, apply all or part.

``PreviewRun`` starts ``preview_day`` in a separate process (spawned: the console has threads, and
a fork would copy its SQLite handles), so the screen stays live, and ``cancel`` ends the child and
the solver processes it started (they share its process group). The child returns the plain
``Built`` and ``Report``; applying them happens in the caller, in one transaction, under the same
lock as `dispatch optimize`, and jobs a dispatcher changed meanwhile are skipped and reported.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Collection, Iterator
from dataclasses import replace
from datetime import date, datetime
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dispatch_tui.config import Settings
    from dispatch_tui.services.planning.optimize import Built, Report


class PreviewFailed(Exception):
    pass


def preview_day(
    settings_fields: dict[str, Any], day: date, time_limit_s: float, now: datetime | None = None
) -> tuple[Built, Report]:
    """Build, solve and diff one day, without writing anything. Runs in the child process.
    With ``now``, what has passed stays as it is (as `dispatch optimize --date today`)."""
    from dispatch_tui.config import Settings
    from dispatch_tui.services.core import Core
    from dispatch_tui.services.errors import Refused
    from dispatch_tui.services.planning.optimize import NoPlan

    core = Core(Settings(**settings_fields))
    try:
        [result] = core.optimize_days(day, 1, time_limit_s=time_limit_s, now=now, locked=False)
        return result
    except NoPlan as none:
        raise PreviewFailed(str(none)) from None
    except Refused as refused:
        raise PreviewFailed("; ".join(refused.reasons)) from None
    finally:
        core.close()


def _child(
    conn: Connection, settings_fields: dict[str, Any], day: date, time_limit_s: float, now: datetime | None
) -> None:
    os.setpgrp()  # the solver's own worker processes join this group, so cancel can end them all
    try:
        conn.send(("ok", preview_day(settings_fields, day, time_limit_s, now)))
    except Exception as exc:  # noqa: BLE001 - whatever failed, the parent shows it; the child just ends
        conn.send(("error", f"{exc.__class__.__name__}: {exc}" if not isinstance(exc, PreviewFailed) else str(exc)))
    finally:
        conn.close()


@contextlib.contextmanager
def _real_stderr() -> Iterator[None]:
    """multiprocessing hands its helper process sys.stderr's descriptor; a full-screen app replaces
    sys.stderr with an object without one (fileno() -1), which makes the start fail. Start with the real one."""
    try:
        usable = sys.stderr is not None and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = False
    if usable:
        yield
        return
    captured, sys.stderr = sys.stderr, sys.__stderr__
    try:
        yield
    finally:
        sys.stderr = captured


class PreviewRun:
    """One optimizer run in a child process: ``wait`` for its result in slices, or ``cancel`` it."""

    def __init__(self, settings: Settings, day: date, time_limit_s: float, *, now: datetime | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            # Not a daemon: the solver starts its own worker processes, which daemons may not.
            target=_child,
            args=(send, settings.model_dump(), day, time_limit_s, now),
        )
        with _real_stderr():
            self._process.start()
        send.close()

    def wait(self, timeout_s: float) -> tuple[Built, Report] | None:
        """The result if it came within ``timeout_s``; None if still running. Raises PreviewFailed."""
        if not self._receive.poll(timeout_s):
            if not self._process.is_alive():
                raise PreviewFailed(f"the optimizer process ended without a result (exit {self._process.exitcode})")
            return None
        try:
            kind, payload = self._receive.recv()
        except EOFError:
            raise PreviewFailed("the optimizer process ended without a result") from None
        self._process.join(timeout=5)
        if kind == "error":
            raise PreviewFailed(payload)
        return payload  # type: ignore[no-any-return]

    def cancel(self) -> None:
        if self._process.is_alive() and self._process.pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGTERM)
            self._process.join(timeout=5)
        self._receive.close()


def linked_technicians(report: Report, tech_ref: str) -> set[str]:
    """``tech_ref`` and every technician a change ties to it (a job moving between them), transitively:
    accepting one technician's new day alone could leave a job on two days or none."""
    linked = {tech_ref}
    grew = True
    while grew:
        grew = False
        for change in report.changes:
            ends = {p.tech_ref for p in (change.before, change.after) if p is not None}
            if ends & linked and not ends <= linked:
                linked |= ends
                grew = True
    return linked


def only_technicians(report: Report, tech_refs: Collection[str]) -> Report:
    """The part of ``report`` that touches these technicians' days."""
    keep = [c for c in report.changes if any(p is not None and p.tech_ref in tech_refs for p in (c.before, c.after))]
    return replace(report, changes=keep, skipped=[])


def apply_preview(settings: Settings, built: Built, report: Report) -> Report:
    """Write ``report`` (all or part of a preview) in one transaction, under the optimizer's lock."""
    from dispatch_tui.services.core import Core

    core = Core(settings)
    try:
        return core.apply_plan(built, report)
    finally:
        core.close()
