"""The decision journal: answered decisions that could not be written to the database before the
process had to exit (the database down or stuck at SIGTERM), kept in a local file until the next start.

One decision per line (JSON), appended and fsynced under an exclusive lock, so that the workers of
one service may share the file; at start-up the lines are written to the database (inserts are
idempotent by decision id, so a decision that did reach the database is not doubled) and the file is
emptied. The answer and the profile are kept as the exact texts that were sent and would have been
stored. A torn last line (power lost mid-write) is skipped and reported.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson

from app.db.session import RawJSON

log = logging.getLogger("huiqi.decisions")

_UUIDS = ("id", "company_id", "client_id")
_TEXTS = ("profile", "results")  # RawJSON: the texts as sent


def dump_row(row: dict[str, Any]) -> bytes:
    """One journal line for a decision row (the writer's dict of `decision` columns)."""
    data = {**row, **{name: str(row[name]) if row.get(name) is not None else None for name in _UUIDS},
            **{name: str(row[name]) for name in _TEXTS}}
    return orjson.dumps(data) + b"\n"


def load_row(line: bytes) -> dict[str, Any]:
    """The decision row of a journal line."""
    data = orjson.loads(line)
    for name in _UUIDS:
        data[name] = uuid.UUID(data[name]) if data.get(name) else None
    for name in _TEXTS:
        data[name] = RawJSON(data[name])
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    data["as_of"] = date.fromisoformat(data["as_of"])
    return data


class DecisionJournal:
    """An append-only file of decision rows at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def _locked(self, flags: int) -> Iterator[int]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, flags | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield descriptor
        finally:
            os.close(descriptor)  # releases the lock

    def append(self, rows: list[dict[str, Any]]) -> int:
        """Append `rows` and fsync them (and the directory, for a new file); return how many."""
        if not rows:
            return 0
        new = not self.path.exists()
        with self._locked(os.O_WRONLY | os.O_APPEND) as descriptor:
            for row in rows:
                os.write(descriptor, dump_row(row))
            os.fsync(descriptor)
        if new:
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        return len(rows)

    def replay(self, write: Callable[[list[dict[str, Any]]], None], batch_size: int = 500) -> int:
        """Hand every journalled row to `write` (in batches), then empty the file; return how many.
        If `write` raises (the database went away), the file is kept whole for the next start."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return 0
        with self._locked(os.O_RDWR) as descriptor:
            with os.fdopen(os.dup(descriptor), "rb") as file:
                lines = file.read().splitlines()
            rows = []
            for number, line in enumerate(lines, 1):
                try:
                    rows.append(load_row(line))
                except (ValueError, KeyError, TypeError):
                    log.error("decision journal: unreadable line skipped", extra={"fields": {
                        "message": "decision journal: unreadable line skipped", "line": number,
                        "path": str(self.path)}})
            for start in range(0, len(rows), batch_size):
                write(rows[start:start + batch_size])
            os.ftruncate(descriptor, 0)
            os.fsync(descriptor)
        return len(rows)
