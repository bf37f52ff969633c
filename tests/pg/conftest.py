"""A fresh PostgreSQL database per test on the local server (127.0.0.1:5432, user postgres)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

SERVER = os.environ.get("DISPATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


def _admin_connection():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(SERVER.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True,
                           connect_timeout=3)  # fmt: skip


@pytest.fixture
def pg_url() -> Iterator[str]:
    try:
        admin = _admin_connection()
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means: skip, and say why
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {SERVER} is not reachable in CI: {exc}")
        pytest.skip(f"PostgreSQL at {SERVER} is not reachable: {exc}")
    name = f"dispatch_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{SERVER}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
