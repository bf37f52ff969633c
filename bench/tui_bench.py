"""Console benchmark (issue 5's targets), measured in frames: the time until the screen has been
composed again (Textual's compositor refresh, headless), not until a test pilot's press returns.

A demo store with 200 technicians and about 10,000 requests waiting, at noon of its day. In a fresh
process each run (so that imports count): launch → first full frame (the board with its data); a
cursor move → frame; an assign (Enter in the Assign dialog) → the frame that shows it planned; a drop
on the grid → the frame that shows it placed; the process's peak memory. Median of the runs.

The launch's frame is the first that shows the queue, the grid and the team (alerts and details may
come after). Also reported, without a target: the longest pause of Python's cyclic garbage collector
after launch (the console freezes what it holds once the first board is in, gc.freeze).

    .venv/bin/python bench/tui_bench.py [--technicians 200] [--requests 12000] [--runs 3] [--json]
                                        [--store PATH]  # build the store there once, reuse it after
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before any import: launch time includes them

import argparse  # noqa: E402
import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

ZONE = ZoneInfo("Europe/Paris")
DAY = date(2026, 12, 1)
TARGETS = {"launch_ms": 1000.0, "cursor_ms": 50.0, "assign_ms": 100.0, "drop_ms": 150.0, "peak_mb": 300.0}


def build(db: Path, technicians: int, requests: int) -> int:
    from sqlalchemy import func, select
    from sqlmodel import Session, col

    from dispatch_tui.config import Settings
    from dispatch_tui.localtime import local_at
    from dispatch_tui.services.intake.demo import build_demo
    from dispatch_tui.services.intake.demo_data import DemoSpec
    from dispatch_tui.services.planning.assignment import unassign
    from dispatch_tui.services.travel import point_travel
    from dispatch_tui.store import make_engine, upgrade
    from dispatch_tui.store.models import Appointment, Job, Technician

    engine = make_engine(db)
    upgrade(engine)
    build_demo(engine, DemoSpec(day=DAY, technicians=technicians, requests=requests), ZONE,
               now=local_at(DAY, 12 * 60, ZONE))  # fmt: skip
    # The demo fills every day; free ten technicians' planned visits so that an assign and a drop have room.
    with Session(engine) as session:
        freed = [
            ref
            for (ref,) in session.execute(
                select(col(Job.ref))
                .join(Appointment, col(Appointment.job_id) == col(Job.id))
                .join(Technician, col(Appointment.technician_id) == col(Technician.id))
                .where(col(Job.status) == "scheduled", col(Technician.ref).in_([f"T{n:03d}" for n in range(1, 11)]))
            )
        ]
        travel = point_travel(Settings(db=str(db), timezone=ZONE.key), engine)
        for ref in freed:
            unassign(session, ref, zone=ZONE, travel=travel, actor="bench")
        session.commit()
        waiting = session.scalar(select(func.count()).select_from(Job).where(col(Job.status) == "new")) or 0
    engine.dispose()
    Path(f"{db}.freed.json").write_text(json.dumps(freed))
    return waiting


def child(db: str) -> None:
    """One console, headless: every figure of one run, as JSON on stdout."""
    from textual.screen import Screen

    from dispatch_tui.clock import Clock
    from dispatch_tui.config import Settings
    from dispatch_tui.localtime import local_at
    from dispatch_tui.tui.app import DispatchApp
    from dispatch_tui.tui.screens.assign import AssignScreen
    from dispatch_tui.tui.widgets.requests_pane import RequestsPane
    from dispatch_tui.tui.widgets.schedule_grid import NAME_WIDTH, ScheduleGrid
    from dispatch_tui.tui.widgets.technicians_pane import TechniciansPane

    # Each frame: when it was composed, and whether it shows what is being waited for.
    frames: list[tuple[float, bool]] = []
    probe: list[Callable[[], bool]] = [lambda: False]
    refresh = Screen._compositor_refresh

    def timed_refresh(self: Screen[Any]) -> None:
        shows = probe[0]()
        refresh(self)
        frames.append((time.perf_counter(), shows))

    Screen._compositor_refresh = timed_refresh  # type: ignore[method-assign]  # times each frame the real one composes
    noon = local_at(DAY, 12 * 60, ZONE)
    settings = Settings(db=db, timezone=ZONE.key)
    app = DispatchApp(settings, clock=Clock.at(noon, frozen=True), day=DAY, poll_interval=3600)
    figures: dict[str, float] = {}
    pauses: list[float] = []  # the collector's pauses after launch, in ms
    collecting: list[float] = []

    def timed_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting[:] = [time.perf_counter()]
        elif collecting:
            pauses.append((time.perf_counter() - collecting[0]) * 1000)

    def expect(shows: Callable[[], bool]) -> float:
        """Start timing a change: frames from now on count when they show it."""
        probe[0] = shows
        return time.perf_counter()

    async def frame_after(start: float, timeout: float = 10.0) -> float:
        """Milliseconds from ``start`` to the first frame composed after it that shows the change."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            shown = [t for t, shows in frames if t >= start and shows]
            if shown:
                return (shown[0] - start) * 1000
            await asyncio.sleep(0.001)
        raise TimeoutError("no frame showed the change")

    async def run() -> None:
        async with app.run_test(size=(160, 45)) as pilot:
            board = app.board_screen
            requests = board.query_one(RequestsPane)
            team = board.query_one(TechniciansPane)
            schedule = board.query_one(ScheduleGrid)
            probe[0] = lambda: bool(requests.rows) and bool(team.rows) and schedule.grid is not None
            figures["launch_ms"] = await frame_after(STARTED)
            await pilot.pause(0.5)
            assert board.board is not None and not board.board.partial
            figures["waiting"] = len(requests.rows)
            gc.callbacks.append(timed_gc)
            cursor = []
            for _ in range(20):
                before = requests.cursor

                def moved(before: int = before) -> bool:
                    return requests.cursor != before

                start = expect(moved)
                await pilot.press("j")
                cursor.append(await frame_after(start))
            figures["cursor_ms"] = statistics.median(cursor)
            # An assign: the first request some technician can take, its dialog, then Enter.
            freed = json.loads(Path(f"{db}.freed.json").read_text())
            position = {row.ref: i for i, row in enumerate(requests.rows)}
            assignable = [position[ref] for ref in freed if ref in position]
            index = next(i for i in assignable if app.backend.candidates(requests.rows[i].ref))
            requests.cursor = index
            ref = requests.rows[index].ref
            await pilot.press("a")
            while not isinstance(app.screen, AssignScreen):
                await asyncio.sleep(0.005)
            await pilot.pause(0.2)
            start = expect(lambda: all(r.ref != ref for r in requests.rows))
            await pilot.press("enter")
            figures["assign_ms"] = await frame_after(start)
            await pilot.pause(0.3)
            # A drop: the next assignable request onto its best candidate's row and time.
            position = {row.ref: i for i, row in enumerate(requests.rows)}
            index = next(position[ref] for ref in freed if ref in position and app.backend.candidates(ref))
            best = app.backend.candidates(requests.rows[index].ref)[0]
            ref = requests.rows[index].ref
            requests.cursor = index
            await pilot.pause(0.2)
            grid = board.query_one(ScheduleGrid)
            assert grid.grid is not None
            row = next(i for i, r in enumerate(grid.grid.rows) if r.tech_ref == best.technician_ref)
            grid.row_cursor = row  # scrolls the technician's row into view
            await pilot.pause(0.2)
            first, per_cell = grid.span()
            minute = -(-int((best.start - grid.grid.frame.origin).total_seconds() // 60) // 5) * 5
            target = (1 + NAME_WIDTH + (minute - first) // per_cell, 2 + row - round(grid.scroll_y))
            await pilot.mouse_down(RequestsPane, offset=(5, 2 + index - round(requests.scroll_y)))
            await pilot.hover(ScheduleGrid, offset=target)
            start = expect(lambda: all(r.ref != ref for r in requests.rows))
            await pilot.mouse_up(ScheduleGrid, offset=target)
            figures["drop_ms"] = await frame_after(start)
            gc.callbacks.remove(timed_gc)
            figures["gc_max_ms"] = max(pauses, default=0.0)

    asyncio.run(run())
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--technicians", type=int, default=200)
    parser.add_argument("--requests", type=int, default=12000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--store", type=Path, help="build the store at this path once and reuse it")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory() as folder:
        db = args.store or Path(folder) / "bench.db"
        started = time.perf_counter()
        if args.store and args.store.exists():
            print(f"store: reusing {db}", file=sys.stderr)
        else:
            waiting = build(db, args.technicians, args.requests)
            print(f"store: {args.technicians} technicians, {waiting} requests waiting "
                  f"(built in {time.perf_counter() - started:.0f} s)", file=sys.stderr)  # fmt: skip
            if args.store:
                Path(f"{db}.base").write_bytes(db.read_bytes())  # as built: each run starts from it
        runs = []
        for _ in range(args.runs):
            if args.store:  # a run assigns two requests: start each run from the store as built
                for journal in (Path(f"{db}-wal"), Path(f"{db}-shm")):
                    journal.unlink(missing_ok=True)
                db.write_bytes(Path(f"{db}.base").read_bytes())
            done = subprocess.run([sys.executable, __file__, "--child", str(db)], capture_output=True, text=True,
                                  check=True, timeout=300)  # fmt: skip
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    result = {key: round(statistics.median(r[key] for r in runs), 1) for key in (*TARGETS, "waiting", "gc_max_ms")}
    result["python"] = platform.python_version()
    if args.json:
        print(json.dumps(result))
        return
    print(f"{'what':<12} {'target':>8} {'measured':>9}  met")
    for key, target in TARGETS.items():
        print(f"{key:<12} {target:>8g} {result[key]:>9}  {'yes' if result[key] <= target else 'NO'}")
    print(f"requests waiting: {result['waiting']:g}; longest collector pause after launch: {result['gc_max_ms']} ms")


if __name__ == "__main__":
    main()
