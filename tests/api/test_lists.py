"""The caller's lists: removing, bulk removing, force-remove, cleanup, disclaimer."""

from __future__ import annotations

import pytest

from support import TEST_DATA, extract, upload


async def video_ids(session, what: str = "downloads") -> set[str]:
    async with session.get(f"/api/{what}") as answer:
        assert answer.status == 200
        return {item["video_id"] for item in (await answer.json())[what]}


async def test_removing_a_download_drops_only_the_callers_link(live_server, alice, bob):
    item, _ = await extract(live_server, alice)
    await upload(bob, TEST_DATA / "real" / "robin.ogg")
    source = live_server.settings.data_dir / "media" / str(item["global_download_id"])

    url = f"/api/user/downloads/{item['video_id']}/remove-from-list"
    async with alice.delete(url) as answer:
        assert answer.status == 200
        assert await answer.json() == {
            "success": True,
            "message": "Removed from your list",
        }

    assert await video_ids(alice) == set()
    assert await video_ids(bob) == {item["video_id"]}
    assert any(source.rglob("source.*"))
    async with alice.delete(url) as answer:
        assert answer.status == 404
        assert (await answer.json())["code"] == "DOWNLOAD_NOT_FOUND"


async def test_removing_extractions_keeps_the_stems_for_others(live_server, alice, bob):
    item, extraction_id = await extract(live_server, alice)
    await extract(live_server, bob)  # the same song: the same extraction

    async with alice.delete(
        f"/api/user/extractions/{item['video_id']}/remove-from-list"
    ) as answer:
        assert answer.status == 200

    assert await video_ids(alice, "extractions") == set()
    async with bob.get(f"/api/extracted_stems/{extraction_id}/vocals") as answer:
        assert answer.status == 200
    async with alice.get(f"/api/extracted_stems/{extraction_id}/vocals") as answer:
        assert answer.status == 404


async def test_bulk_removal_counts_what_was_on_the_list(live_server, alice, bob):
    robin, _ = await extract(live_server, alice)
    _, trumpet = await upload(alice, TEST_DATA / "real" / "trumpet_loop.ogg")
    _, bobs = await upload(bob, TEST_DATA / "real" / "speech.ogg")

    async with alice.post(
        "/api/user/downloads/bulk-remove-from-list",
        json={"video_ids": [robin["video_id"], bobs["video_id"], "nothing"]},
    ) as answer:
        assert await answer.json() == {"success": True, "removed_count": 1}
    assert await video_ids(alice) == {trumpet["video_id"]}
    assert await video_ids(bob) == {bobs["video_id"]}

    async with alice.post(
        "/api/user/extractions/bulk-remove-from-list",
        json={"video_ids": [robin["video_id"], trumpet["video_id"]]},
    ) as answer:
        assert await answer.json() == {"success": True, "removed_count": 1}
    assert await video_ids(alice, "extractions") == set()


@pytest.mark.parametrize(
    "body", [{}, {"video_ids": "x"}, {"video_ids": [1]}, {"video_ids": ["x"] * 1001}]
)
async def test_a_bulk_removal_needs_a_list_of_video_ids(alice, body):
    async with alice.post(
        "/api/user/downloads/bulk-remove-from-list", json=body
    ) as answer:
        assert answer.status == 400
        assert (await answer.json())["code"] == "INVALID_VIDEO_IDS"


async def test_force_remove_deletes_files_only_when_nobody_else_lists_them(
    live_server, alice, bob, root
):
    item, _ = await extract(live_server, alice)
    await upload(bob, TEST_DATA / "real" / "robin.ogg")
    folder = live_server.settings.data_dir / "media" / str(item["global_download_id"])
    url = f"/api/user/downloads/{item['video_id']}/force-remove"

    async with alice.delete(url) as answer:
        assert answer.status == 403
    async with root.delete(url) as answer:
        kept = await answer.json()
    assert kept["deleted_files"] == 0 and kept["kept_for_users"] == 2
    assert "2 other user(s)" in kept["message"]
    files_before = sorted(folder.rglob("*"))
    assert files_before

    for session in (alice, bob):
        async with session.delete(
            f"/api/user/downloads/{item['video_id']}/remove-from-list"
        ) as answer:
            assert answer.status == 200
    async with root.delete(url) as answer:
        gone = await answer.json()
    assert gone["deleted_files"] == 5  # the song and its four stems
    assert not folder.exists()


async def test_cleanup_drops_broken_links_and_stray_files(live_server, alice, bob):
    item, _ = await extract(live_server, alice)
    _, other = await upload(bob, TEST_DATA / "real" / "speech.ogg")
    await live_server.app.state.runner.wait_idle()
    data_dir = live_server.settings.data_dir
    folder = data_dir / "media" / str(item["global_download_id"])
    stray = folder / "stems" / "999" / "vocals.wav"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"left over")
    bobs_folder = data_dir / "media" / str(other["global_download_id"])
    (bobs_folder / "note.txt").write_text("bob's")
    # Stems being written right now: hidden, so left alone.
    in_progress = folder / "stems" / ".998.4242.tmp" / "drums.wav"
    in_progress.parent.mkdir(parents=True)
    in_progress.write_bytes(b"being written")

    async with alice.post("/api/user/cleanup/comprehensive") as answer:
        first = await answer.json()
    assert first == {
        "success": True,
        "removed_downloads": 0,
        "removed_extractions": 0,
        "removed_orphaned_files": 1,
    }
    assert not stray.exists()
    assert in_progress.exists()
    assert (bobs_folder / "note.txt").exists()

    (folder / "stems").joinpath(str(_only_stem_folder(folder)), "bass.wav").unlink()
    next(folder.glob("source.*")).unlink()
    async with alice.post("/api/user/cleanup/comprehensive") as answer:
        second = await answer.json()
    assert second["removed_downloads"] == 1
    assert second["removed_extractions"] == 1
    assert await video_ids(alice) == set()


def _only_stem_folder(folder):
    (stems,) = [p for p in (folder / "stems").iterdir() if not p.name.startswith(".")]
    return stems.name


async def test_the_disclaimer_is_accepted_once(alice):
    async with alice.get("/api/user/disclaimer-status") as answer:
        assert await answer.json() == {"accepted": False, "accepted_at": None}
    async with alice.post("/api/user/accept-disclaimer") as answer:
        accepted = await answer.json()
    assert accepted["success"] is True
    async with alice.post("/api/user/accept-disclaimer") as answer:
        assert (await answer.json())["accepted_at"] == accepted["accepted_at"]
    async with alice.get("/api/user/disclaimer-status") as answer:
        status = await answer.json()
    assert status == {"accepted": True, "accepted_at": accepted["accepted_at"]}


async def test_an_extraction_leaves_a_list_and_only_an_admin_deletes_it(
    live_server, alice, bob, root
):
    item, extraction_id = await extract(live_server, alice)
    stems = (
        live_server.settings.data_dir
        / "media"
        / str(item["global_download_id"])
        / "stems"
        / str(extraction_id)
    )

    async with bob.delete(f"/api/extractions/{extraction_id}") as answer:
        assert answer.status == 404
    async with alice.post(f"/api/extractions/{extraction_id}/retry") as answer:
        assert answer.status == 409
        assert (await answer.json())["code"] == "NOT_FAILED"
    async with alice.delete(f"/api/extractions/{extraction_id}/delete") as answer:
        assert answer.status == 403

    async with alice.delete(f"/api/extractions/{extraction_id}") as answer:
        assert answer.status == 200
    assert await video_ids(alice, "extractions") == set()
    assert stems.is_dir()

    async with root.delete(f"/api/extractions/{extraction_id}/delete") as answer:
        assert await answer.json() == {"success": True, "deleted_files": 4}
    assert not stems.exists()
