"""The main path on real audio: log in, upload, extract, follow live, stream."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import soundfile as sf

from support import TEST_DATA, upload


async def test_upload_extract_and_stream_both_models(live_server):
    await live_server.add_user("alice")
    session = await live_server.login("alice")
    sio = await live_server.socket(session)
    progress: list[dict] = []
    complete: dict[int, dict] = {}
    done = asyncio.Event()

    @sio.on("extraction_progress")
    async def on_progress(data):
        progress.append(data)

    @sio.on("extraction_complete")
    async def on_complete(data):
        complete[data["extraction_id"]] = data
        if len(complete) == 2:
            done.set()

    @sio.on("disconnect")
    async def on_disconnect(*_):
        done.set()  # fail at once below rather than wait for lost events

    source = TEST_DATA / "real" / "fishin.ogg"
    status, uploaded = await upload(session, source)
    assert status == 200, uploaded
    assert uploaded["video_id"].startswith("upload_")
    expected_samples = sf.info(source).frames

    started = {}
    for model in ("htdemucs", "htdemucs_6s"):
        async with session.post(
            "/api/extractions", json={"video_id": uploaded["video_id"], "model": model}
        ) as answer:
            body = await answer.json()
            assert answer.status == 200, body
            started[model] = body["extraction_id"]
    await asyncio.wait_for(done.wait(), 600)

    assert sio.connected, "the Socket.IO client was dropped while waiting"
    assert set(complete) == set(started.values())
    running = [p for p in progress if 0 < p["progress"] < 100]
    assert running, "no progress event arrived while the songs were split"
    assert all(p["status"] == "extracting" for p in progress)

    for model, count in (("htdemucs", 4), ("htdemucs_6s", 6)):
        extraction_id = started[model]
        async with session.get(f"/api/extractions/{extraction_id}") as answer:
            extraction = await answer.json()
        assert extraction["status"] == "completed"
        assert len(extraction["stems"]) == count
        assert set(complete[extraction_id]["stems_paths"]) == set(extraction["stems"])
        for stem, url in extraction["stem_urls"].items():
            async with session.get(url) as answer:
                assert answer.status == 200
                assert answer.headers["Content-Type"].startswith("audio/")
                data = await answer.read()
            audio, rate = sf.read(io.BytesIO(data), dtype="float32")
            assert rate == 44100
            assert audio.shape == (expected_samples, 2), (model, stem)
            assert np.sqrt(np.mean(audio**2)) > 1e-4, f"{model} {stem} is silent"

    url = f"/api/extracted_stems/{started['htdemucs']}/vocals"
    async with session.get(url) as answer:
        whole = await answer.read()
    async with session.get(url, headers={"Range": "bytes=1000-1999"}) as answer:
        assert answer.status == 206
        assert answer.headers["Content-Range"] == f"bytes 1000-1999/{len(whole)}"
        assert answer.headers["Accept-Ranges"] == "bytes"
        assert await answer.read() == whole[1000:2000]
    async with session.head(url) as answer:
        assert answer.status == 200
        assert int(answer.headers["Content-Length"]) == len(whole)
        assert answer.headers["Accept-Ranges"] == "bytes"

    async with session.get(
        f"/api/downloads/{uploaded['video_id']}/extraction-status"
    ) as answer:
        status_body = await answer.json()
    assert status_body["status"] == "completed"
    assert len(status_body["stems_paths"]) in (4, 6)
