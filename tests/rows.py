"""Typed access to what the store filled in on rows a test inserted."""

from __future__ import annotations

from typing import Protocol


class Inserted(Protocol):
    @property
    def id(self) -> int | None: ...


def id_of(row: Inserted) -> int:
    """The id the store gave ``row``: set by the flush that inserted it."""
    assert row.id is not None, f"this {type(row).__name__} has no id: it was not flushed"
    return row.id
