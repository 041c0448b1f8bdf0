"""The job runner: work in threads and processes, failures, cancel."""

from __future__ import annotations

import asyncio
import threading

from stemtube import db, jobs


class Recorder:
    """A job handler that runs ``work`` in a thread and records what it is told."""

    in_thread = True

    def __init__(self, work, prepare_error: Exception | None = None) -> None:
        self.work = work
        self.prepare_error = prepare_error
        self.progress_seen: list[tuple[float, str, dict]] = []
        self.outcome: tuple | None = None
        self.ended = asyncio.Event()

    def worker(self, settings, spec, send):
        return self.work(send)

    async def prepare(self, job):
        if self.prepare_error:
            raise self.prepare_error
        return {}

    async def progress(self, job, percent, message, details):
        self.progress_seen.append((percent, message, details))

    async def completed(self, job, result):
        self.outcome = ("completed", result)
        self.ended.set()

    async def failed(self, job, code, message):
        self.outcome = ("failed", code, message)
        self.ended.set()


async def run_one(tmp_path, settings, handler) -> tuple[jobs.LocalRunner, int]:
    conn = await db.connect(tmp_path / "jobs.db")
    runner = jobs.LocalRunner(conn, settings, {"test": handler})
    job_id = await jobs.create_job(conn, "test", 1)
    await runner.submit(job_id)
    return runner, job_id


async def test_a_thread_job_reports_progress_details_and_its_result(tmp_path, settings):
    def work(send):
        send("progress", 50.0, "half way", {"speed": "1.0 MB/s"})
        return {"answer": 42}

    handler = Recorder(work)
    runner, job_id = await run_one(tmp_path, settings, handler)
    await asyncio.wait_for(handler.ended.wait(), 10)
    await runner.wait_idle()

    assert handler.outcome == ("completed", {"answer": 42})
    assert handler.progress_seen == [(50.0, "half way", {"speed": "1.0 MB/s"})]
    assert (await jobs.get_job(runner.db, job_id))["status"] == "completed"
    await runner.db.close()


async def test_a_job_that_breaks_outside_its_work_fails_its_item(tmp_path, settings):
    handler = Recorder(lambda send: {}, prepare_error=RuntimeError("broken"))
    runner, job_id = await run_one(tmp_path, settings, handler)
    await asyncio.wait_for(handler.ended.wait(), 10)
    await runner.wait_idle()

    assert handler.outcome[:2] == ("failed", "INTERNAL_ERROR")
    job = await jobs.get_job(runner.db, job_id)
    assert (job["status"], job["error_code"]) == ("failed", "INTERNAL_ERROR")
    await runner.db.close()


async def test_a_cancelled_thread_job_stops_at_its_next_report(tmp_path, settings):
    started, stopped = threading.Event(), threading.Event()

    def work(send):
        started.set()
        try:
            while True:
                send("progress", 1.0, "working", {})
                threading.Event().wait(0.05)
        finally:
            stopped.set()

    handler = Recorder(work)
    runner, job_id = await run_one(tmp_path, settings, handler)
    await asyncio.to_thread(started.wait, 10)

    assert await runner.cancel(job_id)

    assert stopped.is_set()
    assert (await jobs.get_job(runner.db, job_id))["status"] == "cancelled"
    assert handler.outcome is None
    await runner.db.close()
