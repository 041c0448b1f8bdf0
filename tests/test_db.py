"""The database: migrations applied once, in order, and never backwards."""

from __future__ import annotations

import aiosqlite
import pytest

from stemtube import db


async def test_a_new_database_gets_every_migration(tmp_path):
    conn = await db.connect(tmp_path / "x.db")
    async with conn.execute("PRAGMA user_version") as cursor:
        assert (await cursor.fetchone())[0] == len(db.MIGRATIONS)
    async with conn.execute("PRAGMA journal_mode") as cursor:
        assert (await cursor.fetchone())[0] == "wal"
    async with conn.execute("PRAGMA foreign_keys") as cursor:
        assert (await cursor.fetchone())[0] == 1
    await conn.close()


async def test_reopening_keeps_the_data(tmp_path):
    conn = await db.connect(tmp_path / "x.db")
    await conn.execute("INSERT INTO users (username, password_hash) VALUES ('a', 'h')")
    await conn.commit()
    await conn.close()
    conn = await db.connect(tmp_path / "x.db")
    async with conn.execute("SELECT username FROM users") as cursor:
        assert [row[0] for row in await cursor.fetchall()] == ["a"]
    await conn.close()


async def test_a_database_from_a_newer_version_is_refused(tmp_path):
    async with aiosqlite.connect(tmp_path / "x.db") as conn:
        await conn.execute(f"PRAGMA user_version = {len(db.MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        await db.connect(tmp_path / "x.db")
