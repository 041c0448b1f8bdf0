"""Persistent jobs and the runner that carries them out in worker processes.

Every long piece of work is a row in ``jobs``: queued, running, completed,
failed (with a stable error code) or cancelled. CPU and GPU work runs in a
fresh worker process per job, so the event loop keeps answering and a cancel
or a crash of the work never takes the server down. Work that mostly waits
on the network (downloads) runs in a thread of the server instead, through
the same messages, and stops at its next progress report when cancelled.
Jobs that were running when the server stopped are queued again at the next
start; every step of a job is idempotent.

Another process on the same database (the admin console) reaches the
server's runner through the jobs table: the runner takes in jobs queued
there, stops jobs marked ``cancel_requested``, and writes a heartbeat that
says it is alive (:class:`DatabaseRunner` is that other side).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import aiosqlite

from stemtube.config import Settings
from stemtube.db import fetch_row, fetch_rows

log = logging.getLogger(__name__)

#: How often the runner looks at the jobs table for others' requests.
WATCH_SECONDS = 1.0
#: A runner whose heartbeat is older than this is taken as stopped.
ALIVE_SECONDS = 10.0
RUNNER = "runner"

QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED = (
    "queued",
    "running",
    "completed",
    "failed",
    "cancelled",
)


@dataclass
class Job:
    id: int
    kind: str
    target_id: int
    #: What the job was asked for beyond its target (a backend's name...).
    params: dict = field(default_factory=dict)


class JobCancelled(Exception):
    """Raised by ``send`` in a worker thread whose job was cancelled."""


class JobHandler(Protocol):
    """What the runner needs to carry out one kind of job."""

    #: Run in the worker: (settings, spec, send) -> result. A module-level
    #: function for a worker process; any callable when ``in_thread``.
    worker: Callable[[Settings, dict, Callable[..., None]], Any]
    #: Run the worker in a thread of this process instead of a new process.
    in_thread: bool

    async def prepare(self, job: Job) -> dict | None:
        """The worker's input, or None when there is nothing left to do."""

    async def progress(
        self, job: Job, percent: float, message: str, details: dict
    ) -> None:
        """Record and announce progress (``details``: what else the worker said)."""

    async def completed(self, job: Job, result: dict) -> None:
        """Record and announce the result."""

    async def failed(self, job: Job, code: str, message: str) -> None:
        """Record and announce the failure."""


class JobRunner(Protocol):
    """Runs queued jobs; a distributed engine can stand behind the same calls."""

    async def start(self) -> None: ...
    async def submit(self, job_id: int) -> None: ...
    async def cancel(self, job_id: int) -> bool: ...
    async def stop(self) -> None: ...


# The jobs table.


async def create_job(
    db: aiosqlite.Connection, kind: str, target_id: int, params: dict | None = None
) -> int:
    (job_id,) = await fetch_row(
        db,
        "INSERT INTO jobs (kind, target_id, params) VALUES (?, ?, ?) RETURNING id",
        (kind, target_id, json.dumps(params or {})),
    )
    await db.commit()
    return job_id


async def get_job(db: aiosqlite.Connection, job_id: int) -> dict | None:
    row = await fetch_row(db, "SELECT * FROM jobs WHERE id = ?", (job_id,))
    return dict(row) if row else None


async def active_job_for(
    db: aiosqlite.Connection, kind: str, target_id: int
) -> int | None:
    """The queued or running job for a target, if there is one."""
    row = await fetch_row(
        db,
        "SELECT id FROM jobs WHERE kind = ? AND target_id = ? "
        "AND status IN ('queued', 'running') ORDER BY id DESC LIMIT 1",
        (kind, target_id),
    )
    return row[0] if row else None


async def set_job(db: aiosqlite.Connection, job_id: int, **fields: Any) -> None:
    columns = ", ".join(f"{name} = ?" for name in fields)
    await db.execute(
        f"UPDATE jobs SET {columns} WHERE id = ?", (*fields.values(), job_id)
    )
    await db.commit()


async def requeue_interrupted(db: aiosqlite.Connection) -> list[int]:
    """Queue again the jobs that were running when the server stopped."""
    await db.execute(
        "UPDATE jobs SET status = 'queued', progress = 0 WHERE status = 'running'"
    )
    await db.commit()
    return [
        row[0]
        for row in await fetch_rows(
            db, "SELECT id FROM jobs WHERE status = 'queued' ORDER BY id"
        )
    ]


CANCEL_MESSAGE = "Cancelled by an admin"


async def beat(db: aiosqlite.Connection, name: str = RUNNER) -> None:
    """Record that the runner ``name`` is alive now."""
    await db.execute(
        "INSERT INTO heartbeats (name, at) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET at = excluded.at",
        (name, time.time()),
    )
    await db.commit()


async def runner_alive(db: aiosqlite.Connection, name: str = RUNNER) -> bool:
    """Whether a server's runner wrote its heartbeat lately."""
    row = await fetch_row(db, "SELECT at FROM heartbeats WHERE name = ?", (name,))
    return row is not None and time.time() - row[0] < ALIVE_SECONDS


class DatabaseRunner:
    """The server's runner as another process sees it (the admin console).

    Jobs it is given stay queued in the table, where a running server takes
    them in within seconds (or at its next start). A cancel is asked through
    the table and waited for while a server runs; with none running the job
    is marked cancelled here, and its item (``mark_failed``) failed.
    """

    #: Nothing runs in this process.
    handlers: ClassVar[dict] = {}

    def __init__(
        self,
        db: aiosqlite.Connection,
        mark_failed: Callable[[dict, str, str], Any] | None = None,
        wait_seconds: float = 30.0,
    ) -> None:
        self.db = db
        self.mark_failed = mark_failed
        self.wait_seconds = wait_seconds

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def submit(self, job_id: int) -> None:
        pass  # queued in the table: the server's runner takes it from there

    async def cancel(self, job_id: int) -> bool:
        return await self._stop(job_id, None)

    async def abort(self, job_id: int, code: str, message: str) -> None:
        await self._stop(job_id, (code, message))

    async def _stop(self, job_id: int, failure: tuple[str, str] | None) -> bool:
        """Whether a running server stopped the job (False: done here)."""
        if await runner_alive(self.db):
            # The server stops it and fails its item, telling its users.
            await set_job(self.db, job_id, cancel_requested=1)
            if await self._wait_until_ended(job_id):
                return True
        row = await get_job(self.db, job_id)
        if row is None or row["status"] not in (QUEUED, RUNNING):
            return False
        await set_job(self.db, job_id, status=CANCELLED, finished_at=_now())
        if failure is not None and self.mark_failed is not None:
            await self.mark_failed(row, *failure)
        return False

    async def _wait_until_ended(self, job_id: int) -> bool:
        deadline = time.monotonic() + self.wait_seconds
        while time.monotonic() < deadline:
            row = await get_job(self.db, job_id)
            if row is None or row["status"] not in (QUEUED, RUNNING):
                return True
            await asyncio.sleep(0.2)
        return False


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())


# The local runner.


def _worker_main(
    function: Callable,
    settings: Settings,
    spec: dict,
    conn: Any,
    cancelled: threading.Event | None = None,
) -> None:
    """Entry point of a worker: run the work, report over the pipe.

    In a worker process (``cancelled`` is None) logging is set up first; in a
    thread it is the server's already, and ``send`` raises JobCancelled once
    the job is cancelled.
    """
    from stemtube.providers import ProviderError

    if cancelled is None:
        from stemtube.logs import configure_logging

        configure_logging(settings, console=False)
    worker_log = logging.getLogger("stemtube.worker")

    def send(kind: str, *payload: Any) -> None:
        if cancelled is not None and cancelled.is_set():
            raise JobCancelled
        conn.send((kind, *payload))

    try:
        result = function(settings, spec, send)
    except JobCancelled:
        worker_log.info("job stopped: cancelled")
        conn.close()
        return
    except ProviderError as exc:
        worker_log.error("job failed: %s %s", exc.code, exc)
        outcome = ("error", exc.code, exc.message)
    except MemoryError:
        outcome = (
            "error",
            "OUT_OF_MEMORY",
            "The server ran out of memory for this song.",
        )
    except Exception:
        worker_log.exception("job crashed")
        outcome = (
            "error",
            "INTERNAL_ERROR",
            "The work failed unexpectedly; the server's log says why.",
        )
    else:
        outcome = ("done", result)
    try:
        with contextlib.suppress(JobCancelled, OSError):
            send(*outcome)
    finally:
        conn.close()


class LocalRunner:
    """Runs jobs in worker processes on this machine, a limited number at once."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        settings: Settings,
        handlers: dict[str, JobHandler],
        limits: dict[str, int] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.handlers = handlers
        self._limits = {
            kind: asyncio.Semaphore((limits or {}).get(kind, 1)) for kind in handlers
        }
        self._tasks: dict[int, asyncio.Task] = {}
        self._processes: dict[int, multiprocessing.process.BaseProcess] = {}
        self._cancel_events: dict[int, threading.Event] = {}
        self._context = multiprocessing.get_context("spawn")
        self._stopping = False
        self._watcher: asyncio.Task | None = None

    async def start(self) -> None:
        for job_id in await requeue_interrupted(self.db):
            await self.submit(job_id)
        self._watcher = asyncio.create_task(self._watch())

    async def abort(self, job_id: int, code: str, message: str) -> None:
        """Cancel a job and fail its item with ``code``, telling its users."""
        row = await get_job(self.db, job_id)
        await self.cancel(job_id)
        handler = self.handlers.get(row["kind"]) if row else None
        if handler is not None:
            params = json.loads(row["params"] or "{}")
            job = Job(job_id, row["kind"], row["target_id"], params)
            await handler.failed(job, code, message)

    async def _watch(self) -> None:
        """Take in what another process asked through the jobs table."""
        while not self._stopping:
            try:
                await beat(self.db)
                rows = await fetch_rows(
                    self.db,
                    "SELECT id, status, cancel_requested FROM jobs "
                    "WHERE status IN ('queued', 'running') ORDER BY id",
                )
                for row in rows:
                    if row["cancel_requested"]:
                        await self.abort(row["id"], "CANCELLED", CANCEL_MESSAGE)
                    elif row["status"] == QUEUED:
                        await self.submit(row["id"])
            except Exception:
                log.exception("the job watcher failed; trying again")
            await asyncio.sleep(WATCH_SECONDS)

    async def submit(self, job_id: int) -> None:
        if job_id not in self._tasks and not self._stopping:
            self._tasks[job_id] = asyncio.create_task(self._run(job_id))

    def _stop_worker(self, job_id: int) -> None:
        """End a job's worker process, or ask its thread to stop."""
        process = self._processes.get(job_id)
        if process is not None:
            process.terminate()
        if job_id in self._cancel_events:
            self._cancel_events[job_id].set()

    async def cancel(self, job_id: int) -> bool:
        task = self._tasks.get(job_id)
        self._stop_worker(job_id)
        if task is None:
            job = await get_job(self.db, job_id)
            if job is not None and job["status"] in (QUEUED, RUNNING):
                await set_job(self.db, job_id, status=CANCELLED, finished_at=_now())
            return False
        task.cancel()
        # Return once the worker is gone, so its files can be removed safely.
        await asyncio.gather(task, return_exceptions=True)
        await set_job(self.db, job_id, status=CANCELLED, finished_at=_now())
        return True

    async def stop(self) -> None:
        """Stop every worker; their jobs stay 'running' and run again next start."""
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
            await asyncio.gather(self._watcher, return_exceptions=True)
            # Others see at once that no runner takes their requests now.
            await self.db.execute("DELETE FROM heartbeats WHERE name = ?", (RUNNER,))
            await self.db.commit()
        for process in list(self._processes.values()):
            process.terminate()
        for event in list(self._cancel_events.values()):
            event.set()
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def wait(self, job_id: int, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a job to end; whether it did."""
        task = self._tasks.get(job_id)
        if task is None:
            return True
        done, _ = await asyncio.wait({task}, timeout=timeout)
        return bool(done)

    async def wait_idle(self) -> None:
        """Wait until no job is running (for tests and the command line)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def _run(self, job_id: int) -> None:
        job: Job | None = None
        try:
            row = await get_job(self.db, job_id)
            if row is None or row["status"] not in (QUEUED, RUNNING):
                return
            job = Job(
                row["id"], row["kind"], row["target_id"], json.loads(row["params"])
            )
            handler = self.handlers[job.kind]
            async with self._limits[job.kind]:
                await self._execute(job, handler)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %d could not be run", job_id)
            await self._fail_unexpectedly(job_id, job)
        finally:
            self._tasks.pop(job_id, None)

    async def _fail_unexpectedly(self, job_id: int, job: Job | None) -> None:
        """Record a job that broke outside its work, and tell its handler.

        The handler marks its item failed, so users see it and can retry
        instead of waiting on it for ever.
        """
        message = "The job failed unexpectedly; the server's log says why."
        try:
            await set_job(
                self.db,
                job_id,
                status=FAILED,
                error_code="INTERNAL_ERROR",
                error_message=message,
                finished_at=_now(),
            )
            if job is not None and job.kind in self.handlers:
                await self.handlers[job.kind].failed(job, "INTERNAL_ERROR", message)
        except Exception:
            log.exception("job %d: its failure could not be recorded", job_id)

    async def _execute(self, job: Job, handler: JobHandler) -> None:
        spec = await handler.prepare(job)
        if spec is None:
            await set_job(self.db, job.id, status=COMPLETED, finished_at=_now())
            return
        await set_job(
            self.db,
            job.id,
            status=RUNNING,
            started_at=_now(),
            attempts=(await get_job(self.db, job.id))["attempts"] + 1,
        )
        log.info("job %d (%s %d) started", job.id, job.kind, job.target_id)
        started = time.monotonic()

        receiver, sender = self._context.Pipe(duplex=False)
        name = f"{job.kind}-{job.target_id}"
        worker: threading.Thread | multiprocessing.process.BaseProcess
        if getattr(handler, "in_thread", False):
            cancelled = self._cancel_events[job.id] = threading.Event()
            worker = threading.Thread(
                target=_worker_main,
                args=(handler.worker, self.settings, spec, sender, cancelled),
                name=name,
                daemon=True,
            )
            worker.start()
        else:
            worker = self._context.Process(
                target=_worker_main,
                args=(handler.worker, self.settings, spec, sender),
                name=name,
                daemon=True,
            )
            worker.start()
            sender.close()
            self._processes[job.id] = worker
        try:
            outcome = await self._follow(job, handler, receiver)
        finally:
            self._processes.pop(job.id, None)
            self._cancel_events.pop(job.id, None)
            receiver.close()
            await asyncio.to_thread(worker.join, 5)

        kind, *payload = outcome
        elapsed = time.monotonic() - started
        if kind == "done":
            await set_job(
                self.db, job.id, status=COMPLETED, progress=100, finished_at=_now()
            )
            await handler.completed(job, payload[0])
            log.info("job %d finished in %.1f s", job.id, elapsed)
        else:
            code, message = payload
            await set_job(
                self.db,
                job.id,
                status=FAILED,
                error_code=code,
                error_message=message,
                finished_at=_now(),
            )
            await handler.failed(job, code, message)
            log.warning("job %d failed after %.1f s: %s", job.id, elapsed, code)

    async def _follow(self, job: Job, handler: JobHandler, receiver: Any) -> tuple:
        """Relay the worker's messages until it reports an end, dies, or runs
        past ``[jobs] timeout_minutes`` (then it is stopped)."""
        last_sent = 0.0
        limit = self.settings.jobs.timeout_minutes * 60
        deadline = time.monotonic() + limit if limit else float("inf")
        while True:
            ready = await asyncio.to_thread(receiver.poll, 0.25)
            if not ready:
                if time.monotonic() > deadline:
                    self._stop_worker(job.id)
                    minutes = f"{self.settings.jobs.timeout_minutes:g}"
                    return (
                        "error",
                        "TIMED_OUT",
                        f"The job was still running after {minutes} minutes "
                        "and was stopped.",
                    )
                continue
            try:
                message = receiver.recv()
            except EOFError:
                return (
                    "error",
                    "WORKER_CRASHED",
                    "The worker stopped unexpectedly (out of memory?).",
                )
            if message[0] == "progress":
                _, percent, text, *rest = message
                now = time.monotonic()
                if now - last_sent >= 0.5 or percent >= 100:
                    last_sent = now
                    await set_job(self.db, job.id, progress=percent, message=text)
                    await handler.progress(job, percent, text, rest[0] if rest else {})
            else:
                return message
