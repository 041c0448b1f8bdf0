"""Uploads: real audio is stored once; anything else is refused, storing nothing."""

from __future__ import annotations

import pytest

from support import TEST_DATA, LiveServer, make_settings, upload


def stored_files(server: LiveServer) -> list[str]:
    data = server.settings.data_dir
    return sorted(
        str(p.relative_to(data))
        for folder in ("media", "tmp")
        if (data / folder).exists()
        for p in (data / folder).rglob("*")
        if p.is_file()
    )


async def downloads_count(server: LiveServer) -> int:
    async with server.db.execute("SELECT COUNT(*) FROM downloads") as cursor:
        return (await cursor.fetchone())[0]


@pytest.fixture
async def small_limit_server(tmp_path, tiny_models):
    server = LiveServer(
        make_settings(tmp_path / "data", tiny_models, storage={"max_upload_mb": 1})
    )
    await server.start()
    yield server
    await server.stop()


async def test_a_real_song_is_stored_under_its_id_with_its_metadata(live_server):
    await live_server.add_user("alice")
    session = await live_server.login("alice")
    status, item = await upload(session, TEST_DATA / "real" / "fishin.ogg")
    assert status == 200
    assert item["filename"] == "fishin.ogg"
    assert item["title"] == "Let's Go Fishin'"
    assert item["duration"] == pytest.approx(132.989, abs=0.01)
    assert item["file_size"] == (TEST_DATA / "real" / "fishin.ogg").stat().st_size
    assert stored_files(live_server) == [
        f"media/{item['global_download_id']}/source.ogg"
    ]
    async with session.get(f"/api/downloads/{item['global_download_id']}") as answer:
        download = await answer.json()
    assert download["has_extraction"] is False
    assert download["extraction"] is None
    assert download["file_path"] == f"media/{item['global_download_id']}/source.ogg"


async def test_a_renamed_file_is_stored_under_what_it_really_is(live_server):
    await live_server.add_user("alice")
    session = await live_server.login("alice")
    status, item = await upload(
        session, TEST_DATA / "real" / "robin.ogg", name="robin.html"
    )
    assert status == 200
    assert item["filename"] == "robin.html"
    assert stored_files(live_server) == [
        f"media/{item['global_download_id']}/source.ogg"
    ]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("notes.mp3", b"These are my lyrics, not a song.\n" * 200, "NOT_AUDIO"),
        ("empty.mp3", b"", "EMPTY_FILE"),
        ("fake.wav", b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(100), "NOT_AUDIO"),
    ],
)
async def test_what_is_not_audio_is_refused_and_nothing_is_stored(
    live_server, tmp_path, name, content, code
):
    await live_server.add_user("alice")
    session = await live_server.login("alice")
    path = tmp_path / name
    path.write_bytes(content)
    status, body = await upload(session, path)
    assert status == 400
    assert body["code"] == code
    assert body["error"]
    assert stored_files(live_server) == []
    assert await downloads_count(live_server) == 0


async def test_an_upload_over_the_limit_is_refused_and_nothing_is_stored(
    small_limit_server,
):
    await small_limit_server.add_user("alice")
    session = await small_limit_server.login("alice")
    status, body = await upload(session, TEST_DATA / "real" / "fishin.ogg")
    assert status == 413
    assert body["code"] == "FILE_TOO_LARGE"
    assert "1 MB" in body["error"]
    assert stored_files(small_limit_server) == []
    assert await downloads_count(small_limit_server) == 0

    status, body = await upload(session, TEST_DATA / "real" / "robin.ogg")
    assert status == 200


async def test_an_upload_without_a_file_is_a_clear_400(live_server):
    await live_server.add_user("alice")
    session = await live_server.login("alice")
    async with session.post("/api/upload-file", data={"other": "x"}) as answer:
        assert answer.status == 400
        assert (await answer.json())["code"] == "NO_FILE"
