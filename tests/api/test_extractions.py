"""Starting extractions: checks, sharing, and jobs that survive a restart."""

from __future__ import annotations

import asyncio

from support import TEST_DATA, LiveServer, extract, upload


async def test_an_unknown_model_or_stem_is_a_clear_400(live_server):
    await live_server.add_user("alice")
    session = await live_server.login("alice")
    _, item = await upload(session, TEST_DATA / "real" / "robin.ogg")
    for body, code in (
        ({"video_id": item["video_id"], "model": "nope"}, "UNKNOWN_MODEL"),
        ({"video_id": item["video_id"], "stems": ["guitar"]}, "UNKNOWN_STEM"),
        ({"model": "htdemucs"}, "MISSING_VIDEO_ID"),
    ):
        async with session.post("/api/extractions", json=body) as answer:
            assert answer.status == 400
            assert (await answer.json())["code"] == code


async def test_missing_weights_fail_the_extraction_with_model_unavailable(
    tmp_path, settings
):
    import dataclasses

    plugins = {
        "demucs": {"models_dir": str(tmp_path / "empty"), "allow_download": False}
    }
    server = LiveServer(dataclasses.replace(settings, plugins=plugins))
    await server.start()
    try:
        await server.add_user("alice")
        session = await server.login("alice")
        sio = await server.socket(session)
        failures = []
        sio.on(
            "extraction_progress",
            lambda data: failures.append(data) if data["status"] == "failed" else None,
        )
        item, extraction_id = await extract(server, session)
        async with session.get(f"/api/extractions/{extraction_id}") as answer:
            extraction = await answer.json()
        assert extraction["status"] == "failed"
        assert extraction["error_code"] == "MODEL_UNAVAILABLE"
        assert "stemtube models download htdemucs" in extraction["message"]
        assert str(tmp_path) not in extraction["message"]
        async with session.get(
            f"/api/downloads/{item['video_id']}/extraction-status"
        ) as answer:
            assert (await answer.json())["status"] == "failed"
        await asyncio.sleep(0.5)
        assert failures and failures[0]["code"] == "MODEL_UNAVAILABLE"
        assert str(tmp_path) not in failures[0]["error"]
        log = server.settings.data_dir / "logs" / server.settings.logging.file
        assert str(tmp_path / "empty") in log.read_text()
    finally:
        await server.stop()


async def test_a_job_running_when_the_server_stopped_runs_again_at_the_next_start(
    settings,
):
    first = LiveServer(settings)
    await first.start()
    await first.add_user("alice")
    session = await first.login("alice")
    sio = await first.socket(session)
    separating = asyncio.Event()
    sio.on(
        "extraction_progress",
        lambda data: separating.set() if data["progress"] > 2 else None,
    )
    _, item = await upload(session, TEST_DATA / "real" / "fishin.ogg")
    async with session.post(
        "/api/extractions", json={"video_id": item["video_id"]}
    ) as answer:
        extraction_id = (await answer.json())["extraction_id"]
    await asyncio.wait_for(separating.wait(), 120)
    await first.stop()

    second = LiveServer(settings)
    await second.start()
    try:
        session = await second.login("alice")
        await second.app.state.runner.wait_idle()
        async with session.get(f"/api/extractions/{extraction_id}") as answer:
            extraction = await answer.json()
        assert extraction["status"] == "completed"
        assert len(extraction["stems"]) == 4
        async with second.db.execute(
            "SELECT status, attempts FROM jobs "
            "WHERE kind = 'extraction' AND target_id = ?",
            (extraction_id,),
        ) as cursor:
            rows = [tuple(row) for row in await cursor.fetchall()]
        assert rows == [("completed", 2)]
        leftovers = list((settings.data_dir / "media").rglob("*.tmp"))
        assert leftovers == []
    finally:
        await second.stop()
