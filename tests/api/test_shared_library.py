"""The shared library: what everyone may add, and adding it without copies."""

from __future__ import annotations

import pytest

from support import TEST_DATA, extract, upload
from youtube_fake import ROBIN, AudioServer, recorded_extractors


async def library(session) -> dict[str, dict]:
    async with session.get("/api/library") as answer:
        assert answer.status == 200
        return {item["video_id"]: item for item in (await answer.json())["library"]}


@pytest.fixture
async def downloaded(live_server, alice):
    """ROBIN fetched from "YouTube" by alice; its global download id."""
    with AudioServer() as audio:
        source = live_server.app.state.registry.sources["youtube"]
        source.extractors = recorded_extractors(audio)
        async with alice.post("/api/downloads", json={"video_id": ROBIN}) as answer:
            body = await answer.json()
        await live_server.app.state.runner.wait_idle()
    return body["global_download_id"]


async def test_the_library_lists_fetched_songs_not_private_uploads(
    live_server, alice, bob, downloaded
):
    _, uploaded = await upload(alice, TEST_DATA / "real" / "trumpet_loop.ogg")

    for_bob = await library(bob)
    assert set(for_bob) == {ROBIN}
    entry = for_bob[ROBIN]
    assert entry["global_download_id"] == downloaded
    assert entry["title"] == "Robin, single call"
    assert entry["has_extraction"] is False
    assert entry["user_has_access"] is False
    assert entry["can_add_to_library"] is True
    assert (await library(alice))[ROBIN]["user_has_access"] is True

    async with bob.post(
        f"/api/library/{uploaded['global_download_id']}/add-download"
    ) as answer:
        assert answer.status == 404


async def test_adding_a_download_puts_it_on_the_list_without_a_copy(
    live_server, bob, downloaded
):
    media = live_server.settings.data_dir / "media"
    before = sorted(media.rglob("*"))

    async with bob.post(f"/api/library/{downloaded}/add-download") as answer:
        assert await answer.json() == {
            "success": True,
            "message": "Added to your library",
        }
    async with bob.post(f"/api/library/{downloaded}/add-download") as answer:
        assert (await answer.json())["message"] == "Already in your library"

    async with bob.get("/api/downloads") as answer:
        assert [d["video_id"] for d in (await answer.json())["downloads"]] == [ROBIN]
    assert sorted(media.rglob("*")) == before


async def test_adding_an_extraction_gives_the_stems(
    live_server, alice, bob, downloaded
):
    async with bob.post(f"/api/library/{downloaded}/add-extraction") as answer:
        assert answer.status == 404
        assert (await answer.json())["code"] == "EXTRACTION_NOT_FOUND"

    async with alice.post("/api/extractions", json={"video_id": ROBIN}) as answer:
        extraction_id = (await answer.json())["extraction_id"]
    await live_server.app.state.runner.wait_idle()
    assert (await library(bob))[ROBIN]["has_extraction"] is True

    async with bob.post(f"/api/library/{downloaded}/add-extraction") as answer:
        assert await answer.json() == {
            "success": True,
            "extraction_id": extraction_id,
            "model": "htdemucs",
        }
    async with bob.get(f"/api/extracted_stems/{extraction_id}/drums") as answer:
        assert answer.status == 200
    assert (await library(bob))[ROBIN]["user_has_access"] is True


async def test_an_upload_is_not_in_the_library_for_its_owner_either(live_server, alice):
    await extract(live_server, alice)
    assert await library(alice) == {}
