"""Chords, beats, tempo and key through the API: after an extraction and on request."""

from __future__ import annotations

import asyncio

import pytest

from support import LiveServer, extract, make_settings

POP = "../songs/pop_c_major/mixture.ogg"


@pytest.fixture
async def server(tmp_path, tiny_models):
    # The tiny test separator's stems are noise: chords are read off the mix.
    settings = make_settings(
        tmp_path / "data",
        tiny_models,
        analysis={"chords_from": "mix"},
        plugins={"broken": {"module": "broken_chords"}},
    )
    live = LiveServer(settings)
    await live.start()
    yield live
    await live.stop()


async def test_an_extraction_brings_chords_beats_tempo_and_key(server):
    await server.add_user("alice")
    alice = await server.login("alice")
    item, extraction_id = await extract(server, alice, POP)

    async with alice.get(f"/api/extractions/{extraction_id}") as answer:
        extraction = await answer.json()
    assert extraction["chords_available"] is True
    assert extraction["chords_backend"] == "madmom"
    assert extraction["chords_source"] == "mix"
    names = [c["name"] for c in extraction["chords"]]
    assert names[:4] == ["C", "G", "Am", "F"]
    assert extraction["bpm"] == pytest.approx(120, rel=0.02)
    assert extraction["key"] == "C major"
    assert len(extraction["beats"]) > 80
    # Chord changes sit on the beat grid.
    beats = set(extraction["beats"])
    assert all(c["start"] in beats for c in extraction["chords"][1:])

    # In another key, with each chord's notes for the diagrams.
    url = f"/api/extractions/{extraction_id}/chords"
    async with alice.get(url, params={"transpose": "2"}) as answer:
        moved = await answer.json()
    assert moved["transpose"] == 2 and moved["available"] is True
    assert [c["name"] for c in moved["chords"][:4]] == ["D", "A", "Bm", "G"]
    assert moved["chords"][2]["notes"] == ["B", "D", "F#"]
    assert [c["start"] for c in moved["chords"]] == [
        c["start"] for c in extraction["chords"]
    ]
    for shift in ("12", "-12", "up"):
        async with alice.get(url, params={"transpose": shift}) as answer:
            assert answer.status == 400
            assert (await answer.json())["code"] == "INVALID_TRANSPOSE"

    async with alice.get(f"/api/downloads/{item['global_download_id']}") as answer:
        download = await answer.json()
    assert download["bpm"] == pytest.approx(120, rel=0.02)
    assert download["key"] == "C major"
    async with alice.get("/api/downloads") as answer:
        assert (await answer.json())["downloads"][0]["chords_available"] is True
    async with alice.get("/api/extractions") as answer:
        assert (await answer.json())["extractions"][0]["chords_available"] is True


async def test_no_chords_when_the_extraction_asks_for_none(server):
    await server.add_user("alice")
    alice = await server.login("alice")
    from support import TEST_DATA, upload

    _, item = await upload(alice, TEST_DATA / "songs" / "pop_c_major" / "mixture.ogg")
    body = {"video_id": item["video_id"], "generate_chords": False}
    async with alice.post("/api/extractions", json=body) as answer:
        extraction_id = (await answer.json())["extraction_id"]
    await server.app.state.runner.wait_idle()
    async with alice.get(f"/api/extractions/{extraction_id}") as answer:
        extraction = await answer.json()
    assert extraction["chords_available"] is False and extraction["chords"] == []
    assert extraction["key"] == "C major"  # the beat and key still come


async def test_regenerate_answers_as_the_reference_and_tells_the_socket(server):
    await server.add_user("alice")
    alice = await server.login("alice")
    _, extraction_id = await extract(server, alice, POP)
    socket = await server.socket(alice)
    events: list[dict] = []
    socket.on("analysis_progress", events.append)

    url = f"/api/extractions/{extraction_id}/chords/regenerate"
    async with alice.post(url, json={"backend": "madmom"}) as answer:
        assert answer.status == 200
        data = await answer.json()
    assert data["success"] is True and data["backend_used"] == "madmom"
    assert data["chords_count"] == len(data["chords"]) > 10
    for _ in range(50):
        if events and events[-1]["status"] == "completed":
            break
        await asyncio.sleep(0.1)
    assert events[-1]["status"] == "completed"
    assert events[-1]["parts"] == ["chords"]  # the beat grid is kept, not redone
    await socket.disconnect()

    async with alice.post(url, json={"backend": "chordino"}) as answer:
        assert answer.status == 400
        assert (await answer.json())["code"] == "UNKNOWN_BACKEND"
    async with alice.post(url, json={"backend": 7}) as answer:
        assert (await answer.json())["code"] == "INVALID_BACKEND"


@pytest.mark.parametrize(
    ("backend", "status", "code"),
    [("raising", 500, "INTERNAL_ERROR"), ("out_of_time", 500, "BAD_BACKEND_RESULT")],
)
async def test_a_failed_regenerate_keeps_the_chords_and_says_why(
    server, backend, status, code
):
    await server.add_user("alice")
    alice = await server.login("alice")
    _, extraction_id = await extract(server, alice, POP)
    async with alice.get(f"/api/extractions/{extraction_id}") as answer:
        before = await answer.json()

    url = f"/api/extractions/{extraction_id}/chords/regenerate"
    async with alice.post(url, json={"backend": backend}) as answer:
        assert answer.status == status
        error = await answer.json()
    assert error["code"] == code and error["error"]

    async with alice.get(f"/api/extractions/{extraction_id}") as answer:
        after = await answer.json()
    for field in ("chords", "chords_backend", "beats", "bpm", "key"):
        assert after[field] == before[field], field


async def test_every_backend_runs_through_the_api(tmp_path, tiny_models):
    """hybrid, lvchordia and btc (a random checkpoint) as a server runs them."""
    from btc_models import build_btc_dir

    settings = make_settings(
        tmp_path / "data",
        tiny_models,
        analysis={"chords_from": "mix"},
        plugins={
            "lvchordia": {"enabled": True},
            "hybrid": {"enabled": True},
            "btc": {"models_dir": str(build_btc_dir(tmp_path / "btc"))},
        },
    )
    server = LiveServer(settings)
    await server.start()
    try:
        await server.add_user("alice")
        alice = await server.login("alice")
        async with alice.get("/api/config") as answer:
            config = await answer.json()
        assert config["chord_backends"] == [
            "btc",
            "btc-majmin",
            "hybrid",
            "lvchordia",
            "madmom",
        ]
        assert config["default_chord_backend"] == "hybrid"
        _, extraction_id = await extract(server, alice, POP)
        async with alice.get(f"/api/extractions/{extraction_id}") as answer:
            extraction = await answer.json()
        # hybrid runs with btc, whose weights are here (random ones).
        assert extraction["chords_backend"] == "hybrid"
        assert extraction["chords"]

        url = f"/api/extractions/{extraction_id}/chords/regenerate"
        for backend in ("lvchordia", "btc", "btc-majmin"):
            async with alice.post(url, json={"backend": backend}) as answer:
                data = await answer.json()
                assert answer.status == 200, data
            assert data["backend_used"] == backend and data["chords_count"] > 0
            if backend == "lvchordia":
                names = [c["name"] for c in data["chords"] if c["label"] != "N"]
                assert names[:4] == ["C", "G", "Am", "F"]
    finally:
        await server.stop()


async def test_the_same_regenerate_asked_twice_at_once_runs_once(server):
    await server.add_user("alice")
    alice = await server.login("alice")
    _, extraction_id = await extract(server, alice, POP)
    url = f"/api/extractions/{extraction_id}/chords/regenerate"

    async def ask():
        async with alice.post(url, json={"backend": "madmom"}) as answer:
            assert answer.status == 200
            return await answer.json()

    first, second = await asyncio.gather(ask(), ask())
    assert first["chords"] == second["chords"]
    async with server.db.execute(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'analysis'"
    ) as cursor:
        assert (await cursor.fetchone())[0] == 2  # the extraction's, and one more


async def test_a_job_that_outlasts_the_wait_is_answered_202(tmp_path, tiny_models):
    settings = make_settings(
        tmp_path / "data",
        tiny_models,
        analysis={"chords_from": "mix"},
        jobs={"regenerate_wait_seconds": 0},
        plugins={"structure": {"enabled": True}},
    )
    server = LiveServer(settings)
    await server.start()
    try:
        await server.add_user("alice")
        alice = await server.login("alice")
        _, extraction_id = await extract(server, alice, POP)
        url = f"/api/extractions/{extraction_id}"
        for path, body, what in (
            ("chords/regenerate", {"backend": "madmom"}, "chords"),
            ("lyrics/generate", None, "lyrics"),
            ("structure/regenerate", None, "sections"),
        ):
            async with alice.post(f"{url}/{path}", json=body) as answer:
                assert answer.status == 202, await answer.text()
                data = await answer.json()
            assert data["success"] is True and data["status"] in ("queued", "running")
            assert data["message"].startswith(f"Still finding the {what};")
            assert isinstance(data["job_id"], int)
            if what == "chords":
                assert data["backend_used"] == "madmom"
        await server.app.state.runner.wait_idle()
        async with alice.get(url) as answer:
            extraction = await answer.json()
        assert extraction["chords_available"] and extraction["structure_available"]
    finally:
        await server.stop()
