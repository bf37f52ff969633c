"""`dispatch serve` on an address it cannot take: a message a person can act on, exit 1, no traceback."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

DISPATCH = shutil.which("dispatch", path=str(Path(sys.executable).parent)) or "dispatch"


def test_a_port_already_in_use_is_said_plainly(tmp_path: Path) -> None:
    db = str(tmp_path / "d.db")
    made = subprocess.run([DISPATCH, "--db", db, "db", "upgrade"], capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert made.returncode == 0, made.stderr  # a store to serve: the port alone is at fault
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [DISPATCH, "--db", db, "serve", "--port", str(port)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "pick another --port" in done.stderr
    assert "Traceback" not in done.stderr
