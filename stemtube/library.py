"""The library: global downloads and extractions, and each user's lists.

One global download exists per source item (a video id, or an upload's
content hash) and one extraction per (download, model, settings); users'
lists only point at them. A user sees an item only through their own list.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import aiosqlite

from stemtube.db import fetch_row, fetch_rows
from stemtube.providers import MediaItem

#: Extraction statuses, as the API shows them.
QUEUED, EXTRACTING, COMPLETED, FAILED = "queued", "extracting", "completed", "failed"
#: Download statuses besides QUEUED, COMPLETED and FAILED. An upload is
#: "processing" while its file is moved into place, and is never listed so.
DOWNLOADING, PROCESSING = "downloading", "processing"


def download_dir(data_dir: Path, download_id: int) -> Path:
    return data_dir / "media" / str(download_id)


def stems_dir(data_dir: Path, download_id: int, extraction_id: int) -> Path:
    return download_dir(data_dir, download_id) / "stems" / str(extraction_id)


#: SQLite's largest integer: a bigger id cannot name a row.
MAX_ROW_ID = 2**63 - 1


def as_row_id(ref: str | int) -> int | None:
    """``ref`` as a row id when it is one written in ASCII digits, else None.

    Other digits ("\u0661") and numbers past SQLite's range name no row.
    """
    text = str(ref)
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if number <= MAX_ROW_ID else None


# Downloads.


async def find_download(db: aiosqlite.Connection, video_id: str) -> dict | None:
    row = await fetch_row(db, "SELECT * FROM downloads WHERE video_id = ?", (video_id,))
    return dict(row) if row else None


async def get_download(db: aiosqlite.Connection, ref: str | int) -> dict | None:
    """Any global download, by global id or video id (for admins and jobs)."""
    number = as_row_id(ref)
    column = "id" if number is not None else "video_id"
    row = await fetch_row(
        db,
        f"SELECT * FROM downloads WHERE {column} = ?",
        (number if number is not None else str(ref),),
    )
    return dict(row) if row else None


async def insert_download(
    db: aiosqlite.Connection,
    item: MediaItem,
    *,
    source: str,
    content_hash: str | None,
    file_size: int,
    created_by: int,
    status: str = PROCESSING,
) -> dict | None:
    """Add a global download; None when the item already exists."""
    row = await fetch_row(
        db,
        "INSERT INTO downloads (source, video_id, title, author, duration, "
        "thumbnail_url, file_size, content_hash, sample_rate, channels, "
        "created_by, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
        "ON CONFLICT (video_id) DO NOTHING RETURNING *",
        (
            source,
            item.video_id,
            item.title,
            item.author,
            item.duration,
            item.thumbnail_url,
            file_size,
            content_hash,
            item.sample_rate,
            item.channels,
            created_by,
            status,
        ),
    )
    await db.commit()
    return dict(row) if row else None


async def finish_download(
    db: aiosqlite.Connection, download_id: int, file_path: str
) -> None:
    await db.execute(
        "UPDATE downloads SET file_path = ?, status = 'completed', progress = 100 "
        "WHERE id = ?",
        (file_path, download_id),
    )
    await db.commit()


async def update_download(
    db: aiosqlite.Connection, download_id: int, **fields: Any
) -> None:
    await _update_row(db, "downloads", download_id, fields, json_columns={"extra"})


async def download_user_ids(db: aiosqlite.Connection, download_id: int) -> list[int]:
    """Every user with the download on their list: who hears its events."""
    return [
        row[0]
        for row in await fetch_rows(
            db,
            "SELECT user_id FROM user_downloads WHERE download_id = ?",
            (download_id,),
        )
    ]


async def unlink_download(
    db: aiosqlite.Connection, user_id: int, download_ids: list[int]
) -> int:
    """Take downloads off a user's list; return how many were on it."""
    return await _unlink(db, "user_downloads", "download_id", user_id, download_ids)


async def _unlink(
    db: aiosqlite.Connection, table: str, column: str, user_id: int, ids: list[int]
) -> int:
    """Delete a user's links to ``ids`` from a list table; count those there."""
    removed = 0
    for item_id in ids:
        async with db.execute(
            f"DELETE FROM {table} WHERE user_id = ? AND {column} = ?",
            (user_id, item_id),
        ) as cursor:
            removed += cursor.rowcount
    await db.commit()
    return removed


async def delete_download(
    db: aiosqlite.Connection, data_dir: Path, download_id: int
) -> int:
    """Delete a global download, its extractions and files; return files removed.

    Every user's links to it go with the row (foreign keys cascade).
    """
    folder = download_dir(data_dir, download_id)
    files = sum(1 for path in folder.rglob("*") if path.is_file())
    await delete_download_row(db, download_id)
    shutil.rmtree(folder, ignore_errors=True)
    return files


async def remove_unfinished_downloads(db: aiosqlite.Connection, data_dir: Path) -> int:
    """Drop downloads a crash left half-stored, and their files; return how many."""
    removed = [
        row[0]
        for row in await fetch_rows(
            db, "DELETE FROM downloads WHERE status = 'processing' RETURNING id"
        )
    ]
    await db.commit()
    for download_id in removed:
        shutil.rmtree(download_dir(data_dir, download_id), ignore_errors=True)
    shutil.rmtree(data_dir / "tmp", ignore_errors=True)
    return len(removed)


async def stranded_items(
    db: aiosqlite.Connection, download_kind: str, extraction_kind: str
) -> list[tuple[str, int]]:
    """(job kind, id) of downloads and extractions waiting with no live job.

    A job that broke before it could record its end leaves its item so; the
    server queues such items again when it starts.
    """
    live = (
        "SELECT 1 FROM jobs j WHERE j.kind = ? AND j.target_id = {}.id "
        "AND j.status IN ('queued', 'running')"
    )
    downloads = (
        "SELECT ? AS kind, d.id FROM downloads d WHERE d.status IN "
        f"('queued', 'downloading') AND NOT EXISTS ({live.format('d')})"
    )
    extractions = (
        "SELECT ? AS kind, e.id FROM extractions e WHERE e.status IN "
        f"('queued', 'extracting') AND NOT EXISTS ({live.format('e')})"
    )
    rows = await fetch_rows(
        db,
        f"{downloads} UNION ALL {extractions}",
        (download_kind, download_kind, extraction_kind, extraction_kind),
    )
    return [(row[0], row[1]) for row in rows]


async def delete_download_row(db: aiosqlite.Connection, download_id: int) -> None:
    await db.execute("DELETE FROM downloads WHERE id = ?", (download_id,))
    await db.commit()


async def link_download(
    db: aiosqlite.Connection, user_id: int, download_id: int
) -> None:
    await db.execute(
        "INSERT OR IGNORE INTO user_downloads (user_id, download_id) VALUES (?, ?)",
        (user_id, download_id),
    )
    await db.commit()


async def user_download(
    db: aiosqlite.Connection, user_id: int, ref: str | int
) -> dict | None:
    """A download on the user's list, by global id or video id."""
    number = as_row_id(ref)
    column = "d.id" if number is not None else "d.video_id"
    row = await fetch_row(
        db,
        f"SELECT d.*, ud.added_at, {_ANALYSED} FROM downloads d "
        "JOIN user_downloads ud ON ud.download_id = d.id "
        f"WHERE ud.user_id = ? AND {column} = ?",
        (user_id, number if number is not None else str(ref)),
    )
    return dict(row) if row else None


async def user_downloads(db: aiosqlite.Connection, user_id: int) -> list[dict]:
    return [
        dict(row)
        for row in await fetch_rows(
            db,
            f"SELECT d.*, ud.added_at, {_ANALYSED} FROM downloads d "
            "JOIN user_downloads ud ON ud.download_id = d.id "
            "WHERE ud.user_id = ? AND d.status != 'processing' "
            "ORDER BY ud.added_at DESC, d.id DESC",
            (user_id,),
        )
    ]


# Extractions.


async def get_or_create_extraction(
    db: aiosqlite.Connection,
    download_id: int,
    model: str,
    settings_key: str,
    options: dict[str, Any],
) -> tuple[dict, bool]:
    """The extraction for (download, model, settings), and whether it is new."""
    async with db.execute(
        "INSERT OR IGNORE INTO extractions (download_id, model, settings_key, options) "
        "VALUES (?, ?, ?, ?)",
        (download_id, model, settings_key, json.dumps(options)),
    ) as cursor:
        created = cursor.rowcount == 1
    await db.commit()
    row = await fetch_row(
        db,
        "SELECT * FROM extractions WHERE download_id = ? AND model = ? "
        "AND settings_key = ?",
        (download_id, model, settings_key),
    )
    return dict(row), created


async def get_extraction(db: aiosqlite.Connection, extraction_id: int) -> dict | None:
    row = await fetch_row(
        db, "SELECT * FROM extractions WHERE id = ?", (extraction_id,)
    )
    return dict(row) if row else None


async def download_extractions(
    db: aiosqlite.Connection, download_id: int
) -> list[dict]:
    """Every extraction of a global download, whoever asked for it."""
    return [
        dict(row)
        for row in await fetch_rows(
            db, "SELECT * FROM extractions WHERE download_id = ?", (download_id,)
        )
    ]


async def link_extraction(
    db: aiosqlite.Connection, user_id: int, extraction_id: int
) -> None:
    await db.execute(
        "INSERT OR IGNORE INTO user_extractions (user_id, extraction_id) VALUES (?, ?)",
        (user_id, extraction_id),
    )
    await db.commit()


#: The kinds of analysis stored for the song of row ``d``, as a JSON list.
#: Lyrics that found no line do not count as available.
_ANALYSED = (
    "(SELECT json_group_array(a.kind) FROM analyses a WHERE a.download_id = d.id "
    "AND NOT (a.kind = 'lyrics' AND json_array_length(a.data, '$.lyrics') = 0)) "
    "AS analysed"
)

_EXTRACTION_SELECT = (
    f"SELECT e.*, d.video_id, d.title, d.duration, ue.added_at, {_ANALYSED} "
    "FROM extractions e "
    "JOIN downloads d ON d.id = e.download_id "
    "JOIN user_extractions ue ON ue.extraction_id = e.id "
)


async def user_extraction(
    db: aiosqlite.Connection, user_id: int, extraction_id: int
) -> dict | None:
    row = await fetch_row(
        db,
        _EXTRACTION_SELECT + "WHERE ue.user_id = ? AND e.id = ?",
        (user_id, extraction_id),
    )
    return dict(row) if row else None


async def user_extractions(
    db: aiosqlite.Connection, user_id: int, download_id: int | None = None
) -> list[dict]:
    query = _EXTRACTION_SELECT + "WHERE ue.user_id = ?"
    args: tuple = (user_id,)
    if download_id is not None:
        query += " AND e.download_id = ?"
        args += (download_id,)
    return [
        dict(row) for row in await fetch_rows(db, query + " ORDER BY e.id DESC", args)
    ]


async def extraction_user_ids(
    db: aiosqlite.Connection, extraction_id: int
) -> list[int]:
    """Every user with the extraction on their list: who hears its events."""
    return [
        row[0]
        for row in await fetch_rows(
            db,
            "SELECT user_id FROM user_extractions WHERE extraction_id = ?",
            (extraction_id,),
        )
    ]


async def update_extraction(
    db: aiosqlite.Connection, extraction_id: int, **fields: Any
) -> None:
    await _update_row(db, "extractions", extraction_id, fields, json_columns={"stems"})


async def _update_row(
    db: aiosqlite.Connection,
    table: str,
    row_id: int,
    fields: dict[str, Any],
    json_columns: set[str],
) -> None:
    """Set ``fields`` on one row; values of ``json_columns`` are stored as JSON."""
    values = [
        json.dumps(value) if name in json_columns else value
        for name, value in fields.items()
    ]
    columns = ", ".join(f"{name} = ?" for name in fields)
    await db.execute(f"UPDATE {table} SET {columns} WHERE id = ?", (*values, row_id))
    await db.commit()


# What the API shows.


# What the analysers found.


async def store_analysis(
    db: aiosqlite.Connection,
    download_id: int,
    kind: str,
    engine: str,
    source: str,
    data: dict,
) -> None:
    """Keep ``data`` as the song's ``kind`` analysis, replacing an older one."""
    await db.execute(
        "INSERT INTO analyses (download_id, kind, engine, source, data) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (download_id, kind) DO UPDATE SET "
        "engine = excluded.engine, source = excluded.source, data = excluded.data, "
        "created_at = strftime('%Y-%m-%dT%H:%M:%S', 'now')",
        (download_id, kind, engine, source, json.dumps(data)),
    )
    await db.commit()


async def analyses(db: aiosqlite.Connection, download_id: int) -> dict[str, dict]:
    """The song's stored analyses by kind: ``{engine, source, data, created_at}``."""
    return {
        row["kind"]: {
            "engine": row["engine"],
            "source": row["source"],
            "data": json.loads(row["data"]),
            "created_at": row["created_at"],
        }
        for row in await fetch_rows(
            db, "SELECT * FROM analyses WHERE download_id = ?", (download_id,)
        )
    }


def _available(row: dict) -> dict[str, bool]:
    kinds = set(json.loads(row.get("analysed") or "[]"))
    return {
        "chords_available": "chords" in kinds,
        "lyrics_available": "lyrics" in kinds,
        "structure_available": "structure" in kinds,
    }


def analysis_view(found: dict[str, dict]) -> dict:
    """The analyses of a song as the extraction and download answers show them."""
    rhythm = found.get("rhythm", {}).get("data", {})
    chords = found.get("chords")
    key = found.get("key", {}).get("data", {})
    return {
        "chords": chords["data"]["segments"] if chords else [],
        "chords_backend": chords["engine"] if chords else None,
        "chords_source": chords["source"] if chords else None,
        "beats": rhythm.get("beats", []),
        "downbeats": rhythm.get("downbeats", []),
        "bpm": rhythm.get("bpm"),
        "meter": rhythm.get("meter"),
        "key": key.get("key"),
    }


def lyrics_view(found: dict[str, dict], offset_ms: int = 0) -> dict:
    """A song's lyrics as the lyrics route answers: lines, and what made them."""
    data = found.get("lyrics", {}).get("data") or {}
    lines = data.get("lyrics", [])
    view = {
        "lyrics": lines,
        "available": bool(lines),
        "engine": data.get("engine"),
        "source": data.get("source"),
        "synced": bool(data.get("synced")),
        "offset_ms": offset_ms,
    }
    if not lines:
        view["reason"] = data.get("reason") or (
            "The lyrics have not been looked for yet." if not data else "No lyrics."
        )
    return view


def structure_view(found: dict[str, dict]) -> dict:
    """A song's sections as the structure route answers, with their analyser."""
    data = found.get("structure", {}).get("data") or {}
    view = {
        "structure": data.get("sections", []),
        "available": bool(data.get("sections")),
        "analyser": data.get("analyser"),
        "version": data.get("version"),
        "source": data.get("source"),
    }
    if not data:
        view["reason"] = "The sections have not been looked for yet."
    return view


async def lyrics_offset(
    db: aiosqlite.Connection, user_id: int, download_id: int
) -> int:
    row = await fetch_row(
        db,
        "SELECT offset_ms FROM lyrics_offsets WHERE user_id = ? AND download_id = ?",
        (user_id, download_id),
    )
    return row[0] if row else 0


async def set_lyrics_offset(
    db: aiosqlite.Connection, user_id: int, download_id: int, offset_ms: int
) -> None:
    await db.execute(
        "INSERT INTO lyrics_offsets (user_id, download_id, offset_ms) "
        "VALUES (?, ?, ?) ON CONFLICT (user_id, download_id) "
        "DO UPDATE SET offset_ms = excluded.offset_ms",
        (user_id, download_id, offset_ms),
    )
    await db.commit()


def relative_path(data_dir: Path, path: Path) -> str:
    return path.relative_to(data_dir).as_posix()


def stems_paths(data_dir: Path, extraction: dict) -> dict[str, str]:
    """Stem name -> file path relative to the data folder."""
    folder = stems_dir(data_dir, extraction["download_id"], extraction["id"])
    return {
        stem: relative_path(data_dir, folder / f"{stem}.wav")
        for stem in json.loads(extraction["stems"] or "[]")
    }


def extraction_view(
    extraction: dict,
    data_dir: Path,
    *,
    detail: bool = False,
    found: dict[str, dict] | None = None,
) -> dict:
    stems = json.loads(extraction["stems"] or "[]")
    view = {
        "id": extraction["id"],
        "download_id": extraction["download_id"],
        "video_id": extraction["video_id"],
        "title": extraction["title"],
        "model": extraction["model"],
        "status": extraction["status"],
        "progress": round(extraction["progress"], 1),
        "message": extraction["message"],
        "error_code": extraction["error_code"],
        "stems": stems,
        "extraction_date": extraction["completed_at"] or extraction["created_at"],
        **_available(extraction),
    }
    if detail:
        view["stems_paths"] = stems_paths(data_dir, extraction)
        view["stem_urls"] = {
            stem: f"/api/extracted_stems/{extraction['id']}/{stem}" for stem in stems
        }
        view.update(analysis_view(found or {}))
        view["lyrics"] = lyrics_view(found or {})
        structure = structure_view(found or {})
        view["structure"] = structure["structure"]
        view["structure_analyser"] = structure["analyser"]
    return view


def download_view(
    download: dict,
    extractions: list[dict],
    data_dir: Path,
    *,
    detail: bool = False,
    found: dict[str, dict] | None = None,
) -> dict:
    """A download as the API shows it, with the caller's extractions of it."""
    completed = [e for e in extractions if e["status"] == COMPLETED]
    current = completed[0] if completed else (extractions[0] if extractions else None)
    view = {
        "id": download["id"],
        "global_download_id": download["id"],
        "video_id": download["video_id"],
        "source": download["source"],
        "title": download["title"],
        "author": download["author"],
        "duration": download["duration"],
        "thumbnail_url": download["thumbnail_url"],
        "status": download["status"],
        "progress": round(download["progress"], 1),
        "message": download["message"],
        "error_code": download["error_code"],
        "file_path": download["file_path"],
        "file_size": download["file_size"],
        "download_date": download["created_at"],
        "has_extraction": bool(completed),
        "extraction_id": current["id"] if current else None,
        "extraction_status": current["status"] if current else None,
        "stems_available": json.loads(current["stems"]) if current else [],
        **_available(download),
        "extractions": [
            {
                "id": e["id"],
                "model": e["model"],
                "status": e["status"],
                "progress": round(e["progress"], 1),
                "message": e["message"],
            }
            for e in extractions
        ],
    }
    if detail:
        analysed = analysis_view(found or {})
        view["bpm"] = analysed["bpm"]
        view["key"] = analysed["key"]
        view["meter"] = analysed["meter"]
        view["extraction"] = (
            {
                "id": current["id"],
                "model": current["model"],
                "status": current["status"],
                "stems": json.loads(current["stems"]),
            }
            if current
            else None
        )
    return view


# Users' lists beyond adding.


async def unlink_extractions(
    db: aiosqlite.Connection, user_id: int, extraction_ids: list[int]
) -> int:
    """Take extractions off a user's list; return how many were on it."""
    return await _unlink(
        db, "user_extractions", "extraction_id", user_id, extraction_ids
    )


async def delete_extraction(
    db: aiosqlite.Connection, data_dir: Path, extraction: dict
) -> int:
    """Delete an extraction and its stems; return how many files went."""
    folder = stems_dir(data_dir, extraction["download_id"], extraction["id"])
    files = sum(1 for path in folder.rglob("*") if path.is_file())
    await db.execute("DELETE FROM extractions WHERE id = ?", (extraction["id"],))
    await db.commit()
    shutil.rmtree(folder, ignore_errors=True)
    return files


async def usernames_listing(db: aiosqlite.Connection, download_id: int) -> list[str]:
    """The users who have a download on their list, by name."""
    rows = await fetch_rows(
        db,
        "SELECT u.username FROM users u JOIN user_downloads ud ON ud.user_id = u.id "
        "WHERE ud.download_id = ? ORDER BY u.username",
        (download_id,),
    )
    return [row[0] for row in rows]


# The shared library.

#: Downloads everyone may add to their list: fetched from a site, or
#: uploads their uploader shared.
_SHARED = "d.status = 'completed' AND (d.source != 'upload' OR d.shared = 1)"


async def library_downloads(db: aiosqlite.Connection, user_id: int) -> list[dict]:
    """The shared library, with whether the user has each item and its stems."""
    rows = await fetch_rows(
        db,
        "SELECT d.*, "
        "EXISTS (SELECT 1 FROM user_downloads ud WHERE ud.download_id = d.id "
        "AND ud.user_id = ?) AS user_has_access, "
        "(SELECT json_group_array(e.model) FROM extractions e "
        "WHERE e.download_id = d.id AND e.status = 'completed') AS models "
        f"FROM downloads d WHERE {_SHARED} ORDER BY d.created_at DESC, d.id DESC",
        (user_id,),
    )
    return [dict(row) for row in rows]


async def library_download(db: aiosqlite.Connection, download_id: int) -> dict | None:
    """One download of the shared library, or None if it is not shared."""
    row = await fetch_row(
        db, f"SELECT d.* FROM downloads d WHERE d.id = ? AND {_SHARED}", (download_id,)
    )
    return dict(row) if row else None


# The admin's view.


async def all_downloads(db: aiosqlite.Connection) -> list[dict]:
    """Every global download (but uploads being stored), with its extractions."""
    rows = await fetch_rows(
        db,
        "SELECT d.*, (SELECT COUNT(*) FROM extractions e WHERE e.download_id = d.id) "
        "AS extractions FROM downloads d WHERE d.status != 'processing' "
        "ORDER BY d.id",
    )
    return [dict(row) for row in rows]


async def storage_counts(db: aiosqlite.Connection) -> dict[str, Any]:
    """How many downloads and extractions exist, and downloads per user."""
    (downloads,) = await fetch_row(
        db, "SELECT COUNT(*) FROM downloads WHERE status != 'processing'"
    )
    (extractions,) = await fetch_row(db, "SELECT COUNT(*) FROM extractions")
    rows = await fetch_rows(
        db,
        "SELECT u.username, COUNT(ud.download_id) FROM users u "
        "LEFT JOIN user_downloads ud ON ud.user_id = u.id "
        "GROUP BY u.id ORDER BY u.username",
    )
    return {
        "downloads": downloads,
        "extractions": extractions,
        "by_user": {row[0]: row[1] for row in rows},
    }
