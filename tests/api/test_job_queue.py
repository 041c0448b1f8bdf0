"""The admin's job queue: list, cancel and retry jobs, with the rules the
console shares (stemtube.job_queue)."""

from __future__ import annotations

import asyncio
import dataclasses

from support import TEST_DATA, LiveServer, extract, upload


async def _jobs(root) -> list[dict]:
    async with root.get("/api/admin/jobs") as answer:
        assert answer.status == 200
        return (await answer.json())["jobs"]


async def test_a_failed_job_is_listed_with_its_code_and_retried_once(
    tmp_path, settings
):
    plugins = {
        "demucs": {"models_dir": str(tmp_path / "empty"), "allow_download": False}
    }
    server = LiveServer(dataclasses.replace(settings, plugins=plugins))
    await server.start()
    try:
        await server.add_user("alice")
        await server.add_user("root", admin=True)
        alice = await server.login("alice")
        root = await server.login("root")
        item, extraction_id = await extract(server, alice)

        failed = next(j for j in await _jobs(root) if j["kind"] == "extraction")
        for method, path in [
            ("GET", "/api/admin/jobs"),
            ("POST", f"/api/admin/jobs/{failed['id']}/cancel"),
            ("POST", f"/api/admin/jobs/{failed['id']}/retry"),
        ]:
            async with alice.request(method, path) as answer:
                assert answer.status == 403
                assert (await answer.json())["code"] == "ADMIN_REQUIRED"
        assert failed["target_id"] == extraction_id
        assert failed["title"] == item["title"]
        assert failed["status"] == "failed"
        assert failed["error_code"] == "MODEL_UNAVAILABLE"
        assert (failed["can_retry"], failed["can_cancel"]) == (True, False)

        async with root.post(f"/api/admin/jobs/{failed['id']}/cancel") as answer:
            assert answer.status == 409
            assert (await answer.json())["code"] == "JOB_NOT_ACTIVE"
        async with root.post(f"/api/admin/jobs/{failed['id']}/retry") as answer:
            assert answer.status == 200
            again = (await answer.json())["job_id"]
        assert again > failed["id"]
        await server.app.state.runner.wait_idle()
        jobs = {j["id"]: j for j in await _jobs(root)}
        assert jobs[again]["status"] == "failed"
        assert jobs[again]["error_code"] == "MODEL_UNAVAILABLE"

        # The older job's work has run again since: only the newest retries.
        async with root.post(f"/api/admin/jobs/{failed['id']}/retry") as answer:
            assert answer.status == 409
            body = await answer.json()
            assert body["code"] == "JOB_NOT_RETRYABLE"
            assert f"job {again}" in body["error"]
        async with root.post("/api/admin/jobs/999999/retry") as answer:
            assert answer.status == 404
            assert (await answer.json())["code"] == "JOB_NOT_FOUND"
    finally:
        await server.stop()


async def test_an_admin_cancels_a_running_extraction_and_retries_it(live_server, root):
    await live_server.add_user("alice")
    alice = await live_server.login("alice")
    sio = await live_server.socket(alice)
    events = []
    separating = asyncio.Event()

    def seen(data):
        events.append(data)
        if data.get("progress", 0) > 2:
            separating.set()

    sio.on("extraction_progress", seen)
    _, item = await upload(alice, TEST_DATA / "real" / "fishin.ogg")
    body = {"video_id": item["video_id"], "generate_lyrics": False}
    async with alice.post("/api/extractions", json=body) as answer:
        extraction_id = (await answer.json())["extraction_id"]
    await asyncio.wait_for(separating.wait(), 120)

    running = next(j for j in await _jobs(root) if j["status"] == "running")
    assert running["kind"] == "extraction" and running["can_cancel"]
    async with root.post(f"/api/admin/jobs/{running['id']}/cancel") as answer:
        assert answer.status == 200
    async with alice.get(f"/api/extractions/{extraction_id}") as answer:
        stopped = await answer.json()
    assert stopped["status"] == "failed"
    assert stopped["error_code"] == "CANCELLED"
    jobs = {j["id"]: j for j in await _jobs(root)}
    assert jobs[running["id"]]["status"] == "cancelled"
    for _ in range(50):
        if any(e.get("code") == "CANCELLED" for e in events):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"Alice was not told: {events[-3:]}")

    async with root.post(f"/api/admin/jobs/{running['id']}/retry") as answer:
        assert answer.status == 200
    await live_server.app.state.runner.wait_idle()
    async with alice.get(f"/api/extractions/{extraction_id}") as answer:
        done = await answer.json()
    assert done["status"] == "completed"
    assert len(done["stems"]) == 4
