"""The job queue as an admin sees it: what waits, runs and failed, on which
song, and the two things an admin does about it: cancel and retry.

The web admin page and the terminal console both call these, so a job is
cancelled or retried by one set of rules. Queueing the work of an item
(a download, an extraction) also lives here, for the API's own routes.
"""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from stemtube import analysis, download, extraction, library
from stemtube.db import fetch_row, fetch_rows
from stemtube.jobs import (
    CANCEL_MESSAGE,
    CANCELLED,
    FAILED,
    QUEUED,
    RUNNING,
    DatabaseRunner,
    create_job,
    get_job,
)

#: Jobs listed besides every queued and running one: the latest finished.
FINISHED_SHOWN = 100

#: How each kind of item job marks its item as waiting again.
_MARK = {
    download.KIND: library.update_download,
    extraction.KIND: library.update_extraction,
}


class QueueError(Exception):
    """A cancel or retry that cannot be done, with a stable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


async def list_jobs(
    db: aiosqlite.Connection, finished: int = FINISHED_SHOWN
) -> list[dict[str, Any]]:
    """Every queued and running job and the latest ``finished`` others,
    newest first, each with the song it works on (``title``, ``video_id``).
    """
    rows = await fetch_rows(
        db,
        """
        SELECT j.*, COALESCE(d.title, ed.title) AS title,
               COALESCE(d.video_id, ed.video_id) AS video_id,
               e.model AS model
        FROM jobs j
        LEFT JOIN downloads d
               ON j.kind IN ('download', 'analysis') AND d.id = j.target_id
        LEFT JOIN extractions e ON j.kind = 'extraction' AND e.id = j.target_id
        LEFT JOIN downloads ed ON ed.id = e.download_id
        WHERE j.status IN ('queued', 'running')
           OR j.id IN (SELECT id FROM jobs WHERE status NOT IN ('queued', 'running')
                       ORDER BY id DESC LIMIT ?)
        ORDER BY j.id DESC
        """,
        (finished,),
    )
    return [job_view(dict(row)) for row in rows]


def job_view(row: dict[str, Any]) -> dict[str, Any]:
    """A jobs row as the API and the console show it."""
    return {
        "id": row["id"],
        "kind": row["kind"],
        "target_id": row["target_id"],
        "title": row.get("title"),
        "video_id": row.get("video_id"),
        "model": row.get("model"),
        "params": json.loads(row["params"] or "{}"),
        "status": row["status"],
        "progress": row["progress"],
        "message": row["message"],
        "error_code": row["error_code"],
        "error_message": row["error_message"],
        "attempts": row["attempts"],
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
        "can_cancel": row["status"] in (QUEUED, RUNNING),
        "can_retry": row["status"] in (FAILED, CANCELLED),
    }


async def queue_item(
    db: aiosqlite.Connection, runner: Any, kind: str, target_id: int
) -> int:
    """Mark a download or extraction as waiting, queue its job; the job's id."""
    await _MARK[kind](
        db,
        target_id,
        status=library.QUEUED,
        progress=0,
        message="Waiting in queue",
        error_code=None,
    )
    job_id = await create_job(db, kind, target_id)
    await runner.submit(job_id)
    return job_id


async def cancel(db: aiosqlite.Connection, runner: Any, job_id: int) -> None:
    """Stop a queued or running job; its item fails with code ``CANCELLED``.

    The users waiting on the item are told through its handler, as for any
    failure, so they see it stopped and can start it again. From the console
    the running server's runner does this, asked through the jobs table.
    """
    job = await _job(db, job_id)
    if job["status"] not in (QUEUED, RUNNING):
        raise QueueError(
            409, "JOB_NOT_ACTIVE", f"This job is {job['status']}: nothing to stop."
        )
    await runner.abort(job_id, "CANCELLED", CANCEL_MESSAGE)


async def mark_failed(db: aiosqlite.Connection, job: dict, code: str, message: str):
    """Fail the download or extraction a job worked on (no server to do it)."""
    if job["kind"] in _MARK:
        await _MARK[job["kind"]](
            db,
            job["target_id"],
            status=library.FAILED,
            message=message,
            error_code=code,
        )


def console_runner(db: aiosqlite.Connection, wait_seconds: float = 30.0):
    """The runner for a process beside the server (the admin console)."""

    async def failed(job: dict, code: str, message: str) -> None:
        await mark_failed(db, job, code, message)

    return DatabaseRunner(db, failed, wait_seconds)


async def retry(db: aiosqlite.Connection, runner: Any, job_id: int) -> int:
    """Run a failed or cancelled job's work again; the new job's id.

    Only the latest job of its item can be retried, and only while nothing
    else is queued or running for that item.
    """
    job = await _job(db, job_id)
    if job["status"] not in (FAILED, CANCELLED):
        _not_retryable(f"only failed or cancelled jobs can; it is {job['status']}.")
    newer = await fetch_row(
        db,
        "SELECT id, status FROM jobs WHERE kind = ? AND target_id = ? AND id > ? "
        "ORDER BY id DESC LIMIT 1",
        (job["kind"], job["target_id"], job_id),
    )
    if newer is not None:
        _not_retryable(f"job {newer['id']} ({newer['status']}) has run it again.")
    if job["kind"] == analysis.KIND:
        if await library.get_download(db, job["target_id"]) is None:
            _not_retryable("its song has been deleted.")
        params = json.loads(job["params"] or "{}")
        return await analysis.queue_analysis(db, runner, job["target_id"], params)
    if job["kind"] not in _MARK:
        _not_retryable(f"a {job['kind']} job cannot be retried.")
    item = await _item(db, job["kind"], job["target_id"])
    if item is None:
        _not_retryable("what it worked on has been deleted.")
    if item["status"] != library.FAILED:
        _not_retryable(f"what it worked on is {item['status']} now, not failed.")
    return await queue_item(db, runner, job["kind"], job["target_id"])


def _not_retryable(why: str) -> None:
    raise QueueError(409, "JOB_NOT_RETRYABLE", f"This job cannot be retried: {why}")


async def _job(db: aiosqlite.Connection, job_id: int) -> dict[str, Any]:
    job = await get_job(db, job_id)
    if job is None:
        raise QueueError(404, "JOB_NOT_FOUND", "Job not found")
    return job


async def _item(db: aiosqlite.Connection, kind: str, target_id: int) -> dict | None:
    if kind == download.KIND:
        return await library.get_download(db, target_id)
    return await library.get_extraction(db, target_id)
