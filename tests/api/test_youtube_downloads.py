"""YouTube through the API: search, details, shared downloads and their routes.

yt-dlp does the real work against a local server (see youtube_fake); no test
reaches YouTube.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import soundfile as sf

from stemtube.media import decode

from support import TEST_DATA, LiveServer
from youtube_fake import (
    FISHIN,
    ROBIN,
    VIBE_ACE,
    AudioServer,
    recorded_errors,
    recorded_extractors,
)

BOT_CHECK = next(c for c in recorded_errors() if c["code"] == "BOT_CHECK")["message"]


def use_recordings(server: LiveServer, audio: AudioServer, failures=None) -> None:
    """Make the server's real youtube source answer from the recordings."""
    source = server.app.state.registry.sources["youtube"]
    source.extractors = recorded_extractors(audio, failures)


@pytest.fixture
def audio():
    with AudioServer(chunk_delay=0.02) as server:
        yield server


@pytest.fixture
async def alice(live_server, audio):
    use_recordings(live_server, audio)
    await live_server.add_user("alice")
    return await live_server.login("alice")


async def download(session, **body) -> tuple[int, dict]:
    async with session.post("/api/downloads", json=body) as answer:
        return answer.status, await answer.json()


async def listed(session) -> dict[str, dict]:
    async with session.get("/api/downloads") as answer:
        assert answer.status == 200
        return {d["video_id"]: d for d in (await answer.json())["downloads"]}


# Search and details.


async def test_search_answers_with_the_references_fields(alice):
    async with alice.get("/api/search", params={"q": "lets go fishin"}) as answer:
        assert answer.status == 200
        body = await answer.json()
    first = body["results"][0]
    assert first == {
        "id": FISHIN,
        "title": "Karissa Hobbs - Let's Go Fishin' (Official Audio)",
        "author": "Karissa Hobbs",
        "duration": "2:13",
        "thumbnails": first["thumbnails"],
    }
    assert {"url", "width", "height"} == set(first["thumbnails"][0])
    assert [r["id"] for r in body["results"]][:2] == [FISHIN, VIBE_ACE]


@pytest.mark.parametrize("query", [None, "", "   "])
async def test_a_search_without_words_is_a_400(alice, query):
    params = {} if query is None else {"q": query}
    async with alice.get("/api/search", params=params) as answer:
        assert answer.status == 400
        assert (await answer.json())["code"] == "MISSING_QUERY"


async def test_a_search_youtube_fails_is_a_502_with_the_code(live_server, audio):
    network = next(c for c in recorded_errors() if c["code"] == "NETWORK")
    use_recordings(live_server, audio, failures={"lets go fishin": network["message"]})
    await live_server.add_user("alice")
    alice = await live_server.login("alice")
    async with alice.get("/api/search", params={"q": "lets go fishin"}) as answer:
        assert answer.status == 502
        body = await answer.json()
    assert body["code"] == "NETWORK"
    assert "internet connection" in body["error"]


async def test_video_details_answer_as_the_reference_writes_them(alice):
    async with alice.get(f"/api/video/{FISHIN}") as answer:
        assert answer.status == 200
        details = await answer.json()
    assert set(details) == {
        "id",
        "title",
        "author",
        "duration",
        "thumbnails",
        "description",
    }
    assert details["duration"] == "2:13"
    assert "Age of Flowers" in details["description"]


async def test_an_invalid_video_id_is_a_400_and_an_unknown_one_a_404(alice):
    for bad in ("not-an-id", f"{FISHIN}%0A"):
        async with alice.get(f"/api/video/{bad}") as answer:
            assert answer.status == 400
            assert (await answer.json())["code"] == "INVALID_VIDEO_ID"
    async with alice.get("/api/video/zzzzzzzzzzz") as answer:
        assert answer.status == 404
        assert (await answer.json())["code"] == "VIDEO_NOT_FOUND"


# Downloads.


async def test_a_download_reports_progress_and_stores_the_file_as_served(
    live_server, alice, audio
):
    sio = await live_server.socket(alice)
    events: list[dict] = []
    finished = asyncio.Event()

    @sio.on("download_progress")
    async def on_progress(data):
        events.append(data)
        if data["status"] in ("completed", "failed"):
            finished.set()

    status, body = await download(alice, url=f"https://youtu.be/{FISHIN}?t=30")
    assert status == 200, body
    assert body["success"] and body["download_started"]
    assert body["video_id"] == FISHIN
    await asyncio.wait_for(finished.wait(), 60)

    assert events[-1]["status"] == "completed", events[-1]
    running = [e for e in events if e["status"] == "downloading" and e["speed"]]
    assert running, "no progress event arrived while downloading"
    for event in events:
        assert {"video_id", "progress", "speed", "eta", "status"} <= set(event)
        assert event["video_id"] == FISHIN

    item = (await listed(alice))[FISHIN]
    assert item["status"] == "completed"
    assert item["title"] == "Karissa Hobbs - Let's Go Fishin' (Official Audio)"
    assert item["author"] == "Karissa Hobbs"
    assert item["thumbnail_url"].endswith("maxresdefault.webp")
    assert item["duration"] == pytest.approx(
        sf.info(TEST_DATA / "real" / "fishin.ogg").duration
    )
    stored = live_server.settings.data_dir / item["file_path"]
    assert stored.read_bytes() == (TEST_DATA / "real" / "fishin.ogg").read_bytes()
    assert item["file_size"] == stored.stat().st_size
    assert audio.fetches(FISHIN) == 1


async def test_ten_users_asking_at_once_cause_one_fetch(live_server, audio):
    use_recordings(live_server, audio)
    sessions = []
    for n in range(10):
        await live_server.add_user(f"user{n}")
        sessions.append(await live_server.login(f"user{n}"))

    answers = await asyncio.gather(*(download(s, video_id=VIBE_ACE) for s in sessions))
    assert all(status == 200 for status, _ in answers), answers
    assert len({body["global_download_id"] for _, body in answers}) == 1
    await live_server.app.state.runner.wait_idle()

    assert audio.fetches(VIBE_ACE) == 1
    for session in sessions:
        assert (await listed(session))[VIBE_ACE]["status"] == "completed"


async def test_a_downloaded_video_is_added_at_once_without_the_network(
    live_server, alice, audio
):
    await download(alice, video_id=ROBIN)
    await live_server.app.state.runner.wait_idle()
    # From now on any question to "YouTube" about it would fail.
    use_recordings(live_server, audio, failures={ROBIN: "Video unavailable"})
    await live_server.add_user("bob")
    bob = await live_server.login("bob")

    status, body = await download(
        bob, url=f"https://music.youtube.com/watch?v={ROBIN}&si=x"
    )

    assert status == 200
    assert body["download_started"] is False
    assert body["status"] == "completed"
    assert body["title"] == "Robin, single call"
    assert (await listed(bob))[ROBIN]["status"] == "completed"
    assert audio.fetches(ROBIN) == 1


async def test_a_failed_download_says_why_and_can_be_retried(live_server, alice, audio):
    failures = {ROBIN: BOT_CHECK.split(": ", 2)[-1]}
    use_recordings(live_server, audio, failures)
    sio = await live_server.socket(alice)
    failed = asyncio.Event()
    sio.on(
        "download_progress",
        lambda data: failed.set() if data["status"] == "failed" else None,
    )

    _, body = await download(alice, video_id=ROBIN)
    await asyncio.wait_for(failed.wait(), 30)
    item = (await listed(alice))[ROBIN]
    assert item["status"] == "failed"
    assert item["error_code"] == "BOT_CHECK"
    assert "cookies" in item["message"]
    async with alice.post("/api/extractions", json={"video_id": ROBIN}) as answer:
        assert answer.status == 409
        assert (await answer.json())["code"] == "DOWNLOAD_NOT_READY"

    failures.clear()
    async with alice.post(f"/api/downloads/{body['global_download_id']}/retry") as a:
        assert a.status == 200
        assert await a.json() == {
            "success": True,
            "message": "Download retry initiated",
        }
    await live_server.app.state.runner.wait_idle()
    assert (await listed(alice))[ROBIN]["status"] == "completed"

    async with alice.post(f"/api/downloads/{ROBIN}/retry") as answer:
        assert answer.status == 409
        assert (await answer.json())["code"] == "NOT_FAILED"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "MISSING_VIDEO_ID"),
        ({"url": ""}, "MISSING_VIDEO_ID"),
        ({"video_id": "too-short"}, "INVALID_VIDEO_ID"),
        ({"video_id": 12345678901}, "INVALID_VIDEO_ID"),
        ({"video_id": FISHIN + "\n"}, "INVALID_VIDEO_ID"),
        ({"url": 123}, "INVALID_URL"),
        ({"url": "https://vimeo.com/1234"}, "INVALID_URL"),
        (
            {"url": "https://www.youtube.com/playlist?list=PL0123456789"},
            "PLAYLIST_NOT_SUPPORTED",
        ),
    ],
)
async def test_what_is_not_a_video_is_a_clear_400(live_server, alice, body, code):
    status, answer = await download(alice, **body)
    assert status == 400
    assert answer["code"] == code
    assert await listed(alice) == {}


async def test_removing_from_a_list_keeps_the_song_for_others(live_server, alice):
    await live_server.add_user("bob")
    bob = await live_server.login("bob")
    await download(alice, video_id=ROBIN)
    await download(bob, video_id=ROBIN)
    await live_server.app.state.runner.wait_idle()
    stored = live_server.settings.data_dir / (await listed(bob))[ROBIN]["file_path"]

    async with alice.delete(f"/api/downloads/{ROBIN}") as answer:
        assert answer.status == 200
        assert (await answer.json())["success"] is True

    assert ROBIN not in await listed(alice)
    assert ROBIN in await listed(bob)
    assert stored.is_file()
    async with alice.delete(f"/api/downloads/{ROBIN}") as answer:
        assert answer.status == 404


async def test_only_an_admin_deletes_a_download_and_its_files(live_server, alice):
    await live_server.add_user("root", admin=True)
    root = await live_server.login("root")
    _, body = await download(alice, video_id=ROBIN)
    await live_server.app.state.runner.wait_idle()
    folder = live_server.settings.data_dir / "media" / str(body["global_download_id"])
    assert folder.is_dir()

    async with alice.delete(f"/api/downloads/{ROBIN}/delete") as answer:
        assert answer.status == 403
    async with root.delete(f"/api/downloads/{ROBIN}/delete") as answer:
        assert answer.status == 200
        assert await answer.json() == {"success": True, "deleted_files": 1}

    assert not folder.exists()
    assert await listed(alice) == {}
    async with root.delete(f"/api/downloads/{ROBIN}/delete") as answer:
        assert answer.status == 404


async def test_an_admin_deleting_a_running_download_tells_who_waits(
    live_server, alice, audio
):
    audio.chunk_delay = 0.2
    await live_server.add_user("root", admin=True)
    root = await live_server.login("root")
    sio = await live_server.socket(alice)
    events: list[dict] = []
    fetching, ended = asyncio.Event(), asyncio.Event()

    @sio.on("download_progress")
    async def on_progress(data):
        events.append(data)
        if data["speed"]:
            fetching.set()
        if data["status"] == "failed":
            ended.set()

    await download(alice, video_id=FISHIN)
    await asyncio.wait_for(fetching.wait(), 30)
    async with root.delete(f"/api/downloads/{FISHIN}/delete") as answer:
        assert answer.status == 200
    await asyncio.wait_for(ended.wait(), 10)

    assert events[-1]["code"] == "DELETED"
    assert await listed(alice) == {}


async def test_clear_all_empties_only_the_callers_list(live_server, alice):
    await live_server.add_user("bob")
    bob = await live_server.login("bob")
    for video_id in (ROBIN, VIBE_ACE):
        await download(alice, video_id=video_id)
    await download(bob, video_id=ROBIN)
    await live_server.app.state.runner.wait_idle()

    async with alice.delete("/api/downloads/clear-all") as answer:
        assert await answer.json() == {"success": True, "deleted_count": 2}

    assert await listed(alice) == {}
    assert set(await listed(bob)) == {ROBIN}


async def test_the_last_user_dropping_a_running_download_stops_it(
    live_server, alice, audio
):
    audio.chunk_delay = 0.2
    sio = await live_server.socket(alice)
    fetching = asyncio.Event()
    sio.on(
        "download_progress",
        lambda data: fetching.set() if data["speed"] else None,
    )
    _, body = await download(alice, video_id=FISHIN)
    await asyncio.wait_for(fetching.wait(), 30)

    async with alice.delete(f"/api/downloads/{FISHIN}") as answer:
        assert answer.status == 200

    folder = live_server.settings.data_dir / "media" / str(body["global_download_id"])
    assert not folder.exists()
    async with live_server.db.execute(
        "SELECT status FROM jobs WHERE kind = 'download'"
    ) as cursor:
        assert [row[0] for row in await cursor.fetchall()] == ["cancelled"]
    assert await listed(alice) == {}


async def test_a_download_running_when_the_server_stopped_finishes_after(
    settings, audio
):
    audio.chunk_delay = 0.1
    first = LiveServer(settings)
    use_recordings(first, audio)
    await first.start()
    await first.add_user("alice")
    session = await first.login("alice")
    sio = await first.socket(session)
    fetching = asyncio.Event()
    sio.on("download_progress", lambda d: fetching.set() if d["speed"] else None)
    await download(session, video_id=VIBE_ACE)
    await asyncio.wait_for(fetching.wait(), 30)
    await first.stop()

    audio.chunk_delay = 0
    second = LiveServer(settings)
    use_recordings(second, audio)  # before its start queues the job again
    await second.start()
    try:
        await second.app.state.runner.wait_idle()
        session = await second.login("alice")
        item = (await listed(session))[VIBE_ACE]
        assert item["status"] == "completed"
        stored = settings.data_dir / item["file_path"]
        assert stored.read_bytes() == (TEST_DATA / "real" / "vibe_ace.ogg").read_bytes()
        assert not list(stored.parent.glob(".incoming*"))
    finally:
        await second.stop()


async def test_a_downloaded_song_is_split_like_an_upload(live_server, alice):
    await download(alice, video_id=ROBIN)
    await live_server.app.state.runner.wait_idle()

    async with alice.post("/api/extractions", json={"video_id": ROBIN}) as answer:
        assert answer.status == 200, await answer.text()
        extraction_id = (await answer.json())["extraction_id"]
    await live_server.app.state.runner.wait_idle()

    async with alice.get(f"/api/extractions/{extraction_id}") as answer:
        extraction = await answer.json()
    assert extraction["status"] == "completed"
    assert extraction["stems"] == ["vocals", "drums", "bass", "other"]
    expected = decode(TEST_DATA / "real" / "robin.ogg").shape[1]
    async with alice.get(extraction["stem_urls"]["vocals"]) as answer:
        path = live_server.settings.data_dir / "check.wav"
        path.write_bytes(await answer.read())
    audio_data, rate = sf.read(path)
    assert rate == 44100 and audio_data.shape == (expected, 2)
    assert np.abs(audio_data).max() > 0


async def test_a_download_left_waiting_without_a_job_runs_at_the_next_start(
    settings, audio
):
    first = LiveServer(settings)
    await first.start()
    user = await first.add_user("alice")
    await first.db.execute(
        "INSERT INTO downloads (source, video_id, title, status, created_by) "
        "VALUES ('youtube', ?, ?, 'downloading', ?)",
        (ROBIN, ROBIN, user.id),
    )
    await first.db.execute(
        "INSERT INTO user_downloads (user_id, download_id) "
        "SELECT ?, id FROM downloads WHERE video_id = ?",
        (user.id, ROBIN),
    )
    await first.db.commit()
    await first.stop()

    second = LiveServer(settings)
    use_recordings(second, audio)
    await second.start()
    try:
        await second.app.state.runner.wait_idle()
        session = await second.login("alice")
        assert (await listed(session))[ROBIN]["status"] == "completed"
    finally:
        await second.stop()
