"""Alembic environment. Run through ``dispatch db upgrade`` (dispatch_tui.store.schema), which hands
over an open connection; batch mode lets SQLite alter tables by copy-and-move."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import dispatch_tui.store.models  # noqa: F401 - registers the tables on SQLModel.metadata

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `dispatch db upgrade`, which supplies the connection")

context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
