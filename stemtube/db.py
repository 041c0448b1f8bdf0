"""The SQLite database: one connection, WAL, foreign keys, numbered migrations.

Migrations are applied in order and the schema version is kept in
``PRAGMA user_version``; a migration never changes once released, a new
one is appended instead.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS: list[str] = [
    # 1: users, the global library, users' lists, jobs.
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0,
        session_epoch INTEGER NOT NULL DEFAULT 0,
        disclaimer_accepted_at TEXT,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now'))
    );

    CREATE TABLE downloads (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        video_id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        author TEXT NOT NULL DEFAULT '',
        duration REAL,
        thumbnail_url TEXT,
        file_path TEXT,
        file_size INTEGER,
        content_hash TEXT,
        sample_rate INTEGER,
        channels INTEGER,
        status TEXT NOT NULL DEFAULT 'completed',
        shared INTEGER NOT NULL DEFAULT 0,
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now'))
    );

    CREATE TABLE user_downloads (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        download_id INTEGER NOT NULL REFERENCES downloads(id) ON DELETE CASCADE,
        added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now')),
        PRIMARY KEY (user_id, download_id)
    );

    CREATE TABLE extractions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        download_id INTEGER NOT NULL REFERENCES downloads(id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        settings_key TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'queued',
        progress REAL NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        error_code TEXT,
        stems TEXT NOT NULL DEFAULT '[]',
        options TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now')),
        completed_at TEXT,
        UNIQUE (download_id, model, settings_key)
    );

    CREATE TABLE user_extractions (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        extraction_id INTEGER NOT NULL REFERENCES extractions(id) ON DELETE CASCADE,
        added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now')),
        PRIMARY KEY (user_id, extraction_id)
    );

    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        target_id INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued',
        progress REAL NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        error_code TEXT,
        error_message TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now')),
        started_at TEXT,
        finished_at TEXT
    );
    CREATE INDEX jobs_status ON jobs(status);
    CREATE INDEX jobs_target ON jobs(kind, target_id);
    """,
    # 2: downloads fetched from a video site have progress and may fail.
    """
    ALTER TABLE downloads ADD COLUMN progress REAL NOT NULL DEFAULT 0;
    ALTER TABLE downloads ADD COLUMN message TEXT NOT NULL DEFAULT '';
    ALTER TABLE downloads ADD COLUMN error_code TEXT;
    ALTER TABLE downloads ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
    """,
    # 3: settings admins change from the browser.
    """
    CREATE TABLE config (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 4: what the analysers found about a song (rhythm, chords, key...), and
    # the parameters of a job (which chord backend to run).
    """
    CREATE TABLE analyses (
        download_id INTEGER NOT NULL REFERENCES downloads(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        engine TEXT NOT NULL,
        source TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now')),
        PRIMARY KEY (download_id, kind)
    );
    ALTER TABLE jobs ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
    """,
    # 5: each user's correction of a song's lyrics timing.
    """
    CREATE TABLE lyrics_offsets (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        download_id INTEGER NOT NULL REFERENCES downloads(id) ON DELETE CASCADE,
        offset_ms INTEGER NOT NULL,
        PRIMARY KEY (user_id, download_id)
    );
    """,
    # 6: another process (the admin console) asks the server's runner to
    # stop a job, and sees whether a runner is alive.
    """
    ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE heartbeats (
        name TEXT PRIMARY KEY,
        at REAL NOT NULL
    );
    """,
]


async def connect(path: Path) -> aiosqlite.Connection:
    """Open the database, bring its schema up to date and return the connection."""
    # The data folder and the database (password hashes) are the owner's only;
    # SQLite gives its -wal and -shm files the database file's mode.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    conn = await aiosqlite.connect(path)
    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute("PRAGMA busy_timeout=5000")
        await migrate(conn)
    except BaseException:
        # Its thread would otherwise keep the process from exiting.
        await conn.close()
        raise
    return conn


async def fetch_rows(
    conn: aiosqlite.Connection, sql: str, parameters: tuple = ()
) -> list[aiosqlite.Row]:
    """Every row a statement gives, read to the end in one step.

    The connection is shared by every request and job; a statement left
    half-read while another task commits fails that commit ("SQL statements
    in progress"), so no query leaves a cursor open across an ``await``.
    """
    return list(await conn.execute_fetchall(sql, parameters))


async def fetch_row(
    conn: aiosqlite.Connection, sql: str, parameters: tuple = ()
) -> aiosqlite.Row | None:
    """The first row a statement gives, or None (the statement is finished)."""
    rows = await fetch_rows(conn, sql, parameters)
    return rows[0] if rows else None


async def migrate(conn: aiosqlite.Connection) -> int:
    """Apply the migrations the database has not seen; return the new version."""
    (version,) = await fetch_row(conn, "PRAGMA user_version")
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"database schema version {version} is newer than this StemTube "
            f"({len(MIGRATIONS)}); upgrade StemTube"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        log.info("applying database migration %d", number)
        await conn.executescript(
            f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
        )
    return len(MIGRATIONS)
