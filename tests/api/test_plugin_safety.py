"""Plugins that misbehave fail their own job with a clear code; the server
and the other plugins keep working."""

from __future__ import annotations

import asyncio

from support import TEST_DATA, LiveServer, make_settings, upload

EXPECTED = {
    "raising": "PLUGIN_FAILED",
    "hanging": "TIMED_OUT",
    "misshapen": "BAD_SEPARATOR_RESULT",
    "escaping": "PLUGIN_WROTE_OUTSIDE",
}


async def test_each_misbehaving_plugin_fails_its_job_while_another_completes(
    tmp_path, tiny_models
):
    settings = make_settings(
        tmp_path / "data",
        tiny_models,
        plugins={"misbehaving": {"module": "misbehaving_separators"}},
        jobs={"timeout_minutes": 0.2, "extraction_workers": 2},
    )
    server = LiveServer(settings)
    await server.start()
    try:
        await server.add_user("alice")
        alice = await server.login("alice")
        _, item = await upload(alice, TEST_DATA / "real" / "robin.ogg")
        started = {}
        for model in [*EXPECTED, "htdemucs"]:
            body = {"video_id": item["video_id"], "model": model}
            async with alice.post("/api/extractions", json=body) as answer:
                assert answer.status == 200, await answer.text()
                started[model] = (await answer.json())["extraction_id"]
        await asyncio.wait_for(server.app.state.runner.wait_idle(), 240)

        found = {}
        for model, extraction_id in started.items():
            async with alice.get(f"/api/extractions/{extraction_id}") as answer:
                extraction = await answer.json()
            found[model] = (extraction["status"], extraction["error_code"])
        assert found == {
            **{model: ("failed", code) for model, code in EXPECTED.items()},
            "htdemucs": ("completed", None),
        }
        async with alice.get(f"/api/extractions/{started['escaping']}") as answer:
            message = (await answer.json())["message"]
        assert "outside its folder" in message
        assert str(settings.data_dir) not in message
        # The server still answers, and the song's file is untouched.
        async with alice.get("/api/downloads") as answer:
            (song,) = (await answer.json())["downloads"]
        assert (settings.data_dir / song["file_path"]).is_file()
    finally:
        await server.stop()
