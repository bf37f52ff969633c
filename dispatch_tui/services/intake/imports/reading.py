"""Reading import files: bytes → records (column → text) with the line each record starts on.

CSV has a header row; JSON is an array of objects; JSON Lines is one object per line. Values become
text (numbers as written, a JSON list as ``;``-joined text) so that one set of column parsers serves
every format. Problems are collected as ``RowError``s, never raised, so the user sees all of them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dispatch_tui.domain import FileFormat

_SUFFIXES = {".csv": FileFormat.CSV, ".json": FileFormat.JSON, ".jsonl": FileFormat.JSONL, ".ndjson": FileFormat.JSONL}


def format_from_path(path: Path) -> FileFormat | None:
    return _SUFFIXES.get(path.suffix.lower())


@dataclass(frozen=True, order=True)
class RowError:
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.column is None else f"line {self.line}, {self.column}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class Record:
    line: int
    values: dict[str, str]  # column → stripped text; an absent or empty value is simply missing


def decode(data: bytes) -> tuple[str | None, RowError | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, RowError(
            line, None, f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8"
        )


def read_records(
    text: str, fmt: FileFormat, known: list[str], required: set[str], errors: list[RowError]
) -> Iterator[Record]:
    """Records of the file. Columns outside ``known`` are errors: once, at the header, for CSV; per
    record for JSON, whose records may each have other keys."""
    if fmt is FileFormat.CSV:
        records = _read_csv(text, known, required, errors)
    elif fmt is FileFormat.JSON:
        records = _read_json_array(text, errors)
    else:
        records = _read_json_lines(text, errors)
    if fmt is FileFormat.CSV:
        yield from records
        return
    known_set = set(known)
    for record in records:
        unknown = sorted(set(record.values) - known_set)
        for column in unknown:
            errors.append(RowError(record.line, column, _unknown_column(known)))
        if not unknown:
            yield record


def _unknown_column(known: list[str]) -> str:
    return f"unknown column (expected: {', '.join(known)})"


def _read_csv(text: str, known: list[str], required: set[str], errors: list[RowError]) -> Iterator[Record]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        errors.append(RowError(1, None, f"unreadable CSV header: {exc}"))
        return
    if header is None or not any(cell.strip() for cell in header):
        errors.append(RowError(1, None, "the file is empty: expected a header row naming the columns"))
        return
    columns = [cell.strip().lower() for cell in header]
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            errors.append(RowError(1, column, "column appears twice in the header"))
        seen.add(column)
        if column not in known:
            errors.append(RowError(1, column or "(blank)", _unknown_column(known)))
    for column in sorted(required - seen):
        errors.append(RowError(1, column, "required column is missing from the header"))
    if errors:
        return
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append(RowError(line, None, f"unreadable CSV: {exc}"))
            return
        if not any(cell.strip() for cell in row):  # blank line
            line = reader.line_num + 1
            continue
        if len(row) > len(columns):
            errors.append(RowError(line, None, f"{len(row)} values but the header names {len(columns)} columns"))
        else:
            values = {col: text for col, cell in zip(columns, row, strict=False) if (text := cell.strip())}
            yield Record(line, values)
        line = reader.line_num + 1


def _record_from_object(obj: Any, line: int, errors: list[RowError]) -> Record | None:
    if not isinstance(obj, dict):
        errors.append(RowError(line, None, f"expected an object with the columns as keys, got {type(obj).__name__}"))
        return None
    values: dict[str, str] = {}
    for key, value in obj.items():
        column = str(key).strip().lower()
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float | list):
            errors.append(RowError(line, column, f"expected text or a number, got {json.dumps(value)[:40]}"))
            continue
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                errors.append(RowError(line, column, "a list must hold only text"))
                continue
            value = ";".join(value)
        text = str(value).strip()
        if text:
            values[column] = text
    return Record(line, values)


def _read_json_lines(text: str, errors: list[RowError]) -> Iterator[Record]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            errors.append(RowError(number, None, f"not valid JSON: {exc.msg} (column {exc.colno})"))
            continue
        except (ValueError, RecursionError) as exc:  # e.g. an integer of thousands of digits, absurd nesting
            errors.append(RowError(number, None, f"not usable JSON: {_short(exc)}"))
            continue
        record = _record_from_object(obj, number, errors)
        if record is not None:
            yield record


def _read_json_array(text: str, errors: list[RowError]) -> Iterator[Record]:
    """Decode element by element so each record keeps the line it starts on."""
    decoder = json.JSONDecoder()
    pos = _skip_space(text, 0)
    if pos >= len(text) or text[pos] != "[":
        reason = "expected a JSON array of objects ('[' ... ']')" + _json_lines_hint(decoder, text, pos)
        errors.append(RowError(text.count("\n", 0, pos) + 1, None, reason))
        return
    pos = _skip_space(text, pos + 1)
    if pos < len(text) and text[pos] == "]":
        _trailing(text, pos + 1, errors)
        return
    while True:
        line = text.count("\n", 0, pos) + 1
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            errors.append(RowError(exc.lineno, None, f"not valid JSON: {exc.msg} (column {exc.colno})"))
            return
        except (ValueError, RecursionError) as exc:
            errors.append(RowError(line, None, f"not usable JSON: {_short(exc)}"))
            return
        record = _record_from_object(obj, line, errors)
        if record is not None:
            yield record
        pos = _skip_space(text, pos)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_space(text, pos + 1)
            continue
        if pos < len(text) and text[pos] == "]":
            _trailing(text, pos + 1, errors)
            return
        errors.append(RowError(text.count("\n", 0, pos) + 1, None, "not valid JSON: expected ',' or ']'"))
        return


def _json_lines_hint(decoder: json.JSONDecoder, text: str, pos: int) -> str:
    """What to say when a "JSON" file starts with an object rather than an array: one object followed by
    more ("extra data") is JSON Lines, which `--format jsonl` reads as it is."""
    if not text.startswith("{", pos):
        return ""
    try:
        _, end = decoder.raw_decode(text, pos)
    except (ValueError, RecursionError):  # not even one object: nothing to suggest
        return ""
    after = _skip_space(text, end)
    if after >= len(text):
        return "; this is a single object: put it in [ ] or give --format jsonl"
    if "\n" in text[end:after]:  # the next value starts on a line of its own
        return "; this looks like JSON Lines (one object per line): give --format jsonl"
    return ""


def _trailing(text: str, pos: int, errors: list[RowError]) -> None:
    pos = _skip_space(text, pos)
    if pos < len(text):
        errors.append(RowError(text.count("\n", 0, pos) + 1, None, "not valid JSON: text after the closing ']'"))


def _short(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:120]


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos
