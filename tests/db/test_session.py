"""The embedded SQLite database is set up for concurrent use: write-ahead log, foreign keys on."""

from __future__ import annotations

from sqlalchemy import text

from app.db.session import make_engine


def test_an_sqlite_file_is_opened_in_write_ahead_log_mode_with_foreign_keys(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'huiqi.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
    finally:
        engine.dispose()
