"""Admin routes: users and storage, 403 for everyone else."""

from __future__ import annotations

import pytest

from support import PASSWORD, TEST_DATA, extract, upload


async def post(session, url, body=None):
    async with session.post(url, json=body or {}) as answer:
        return answer.status, await answer.json()


async def test_an_admin_adds_a_user_who_can_then_log_in(live_server, root):
    status, body = await post(
        root, "/admin/add_user", {"username": "carol", "password": "long enough pw"}
    )
    assert status == 200
    assert body["username"] == "carol" and isinstance(body["user_id"], int)
    await live_server.login("carol", "long enough pw")

    status, body = await post(
        root, "/admin/add_user", {"username": "carol", "password": "long enough pw"}
    )
    assert (status, body["code"]) == (409, "USERNAME_TAKEN")
    status, body = await post(
        root, "/admin/add_user", {"username": "dave", "password": "short"}
    )
    assert status == 400


async def test_a_reset_password_ends_the_old_one(live_server, root):
    erin = await live_server.add_user("erin")
    status, _ = await post(
        root, "/admin/reset_password", {"user_id": erin.id, "new_password": "x" * 12}
    )
    assert status == 200
    await live_server.login("erin", "x" * 12)
    session = live_server.session()
    async with session.post(
        "/login", json={"username": "erin", "password": PASSWORD}
    ) as answer:
        assert answer.status == 401


async def test_the_last_admin_can_be_neither_demoted_nor_deleted(live_server, root):
    (me,) = [u for u in await _users(root) if u["username"] == "root"]
    status, body = await post(
        root, "/admin/edit_user", {"user_id": me["id"], "is_admin": False}
    )
    assert (status, body["code"]) == (409, "LAST_ADMIN")
    status, body = await post(root, "/admin/delete_user", {"user_id": me["id"]})
    assert (status, body["code"]) == (409, "LAST_ADMIN")

    other = await live_server.add_user("second", admin=True)
    status, _ = await post(
        root, "/admin/edit_user", {"user_id": other.id, "username": "deputy"}
    )
    assert status == 200
    status, body = await post(root, "/admin/delete_user", {"user_id": me["id"]})
    assert status == 200 and body["deleted_user"] == "root"


async def _users(session):
    async with session.get("/admin/users") as answer:
        return (await answer.json())["users"]


async def test_deleting_a_user_keeps_songs_others_still_have(live_server, root, alice):
    await live_server.add_user("bob")
    bob_session = await live_server.login("bob")
    shared, _ = await extract(live_server, alice)
    await upload(bob_session, TEST_DATA / "real" / "robin.ogg")
    _, private = await upload(alice, TEST_DATA / "real" / "trumpet_loop.ogg")
    media = live_server.settings.data_dir / "media"
    alice_id = next(u["id"] for u in await _users(root) if u["username"] == "alice")

    status, body = await post(root, "/admin/delete_user", {"user_id": alice_id})

    assert status == 200 and body["deleted_user"] == "alice"
    assert (media / str(shared["global_download_id"])).is_dir()
    assert not (media / str(private["global_download_id"])).exists()
    async with bob_session.get("/api/downloads") as answer:
        listed = [d["video_id"] for d in (await answer.json())["downloads"]]
    assert listed == [shared["video_id"]]
    async with alice.get("/api/downloads") as answer:
        assert answer.status == 401


async def test_storage_statistics_are_the_files_on_disk(live_server, root, alice):
    await extract(live_server, alice)
    await upload(alice, TEST_DATA / "real" / "trumpet_loop.ogg")
    media = live_server.settings.data_dir / "media"
    on_disk = sum(p.stat().st_size for p in media.rglob("*") if p.is_file())

    async with root.get("/api/admin/cleanup/storage-stats") as answer:
        stats = await answer.json()
    assert stats["total_size_bytes"] == on_disk
    assert stats["total_downloads"] == 2
    assert stats["total_extractions"] == 1
    assert stats["downloads_by_user"] == {"alice": 2, "root": 0}

    async with root.get("/api/admin/cleanup/downloads") as answer:
        listed = (await answer.json())["downloads"]
    assert [d["users_with_access"] for d in listed] == [["alice"], ["alice"]]
    assert sum(d["size_on_disk"] for d in listed) == on_disk


async def test_resetting_and_deleting_from_the_admin_view(live_server, root, alice):
    item, extraction_id = await extract(live_server, alice)
    video_id = item["video_id"]
    media_dir = live_server.settings.data_dir / "media"
    stems = media_dir / str(item["global_download_id"]) / "stems" / str(extraction_id)
    assert stems.is_dir()

    status, body = await post(
        root,
        f"/api/admin/cleanup/downloads/{item['global_download_id']}/reset-extraction",
    )
    assert (status, body["extraction_id"]) == (200, extraction_id)
    assert not stems.exists()
    async with alice.get(f"/api/downloads/{video_id}/extraction-status") as answer:
        assert (await answer.json())["status"] == "not_started"

    status, body = await post(root, f"/api/admin/cleanup/downloads/{video_id}/reload")
    assert status == 200
    assert body["updated_metadata"]["duration"] == pytest.approx(2.7, abs=0.1)

    status, body = await post(
        root,
        "/api/admin/cleanup/downloads/bulk-delete",
        {"video_ids": [video_id, "nothing"]},
    )
    assert body == {"success": True, "deleted_count": 1, "total_files_deleted": 1}
    assert not (media_dir / str(item["global_download_id"])).exists()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", "/admin/add_user"),
        ("POST", "/admin/edit_user"),
        ("POST", "/admin/reset_password"),
        ("POST", "/admin/delete_user"),
        ("GET", "/admin/users"),
        ("GET", "/api/admin/cleanup/downloads"),
        ("GET", "/api/admin/cleanup/storage-stats"),
        ("DELETE", "/api/admin/cleanup/downloads/x"),
        ("POST", "/api/admin/cleanup/downloads/x/reload"),
        ("POST", "/api/admin/cleanup/downloads/1/reset-extraction"),
        ("POST", "/api/admin/cleanup/downloads/x/reset-extraction"),
        ("POST", "/api/admin/cleanup/downloads/bulk-delete"),
        ("POST", "/api/admin/cleanup/downloads/bulk-reset"),
    ],
)
async def test_every_admin_route_answers_403_to_a_user(alice, method, url):
    async with alice.request(method, url, json={}) as answer:
        assert answer.status == 403
        assert (await answer.json())["code"] == "ADMIN_REQUIRED"


async def test_two_admins_demoting_each_other_at_once_leave_one(live_server, root):
    import asyncio

    second = await live_server.add_user("second", admin=True)
    second_session = await live_server.login("second")
    (me,) = [u for u in await _users(root) if u["username"] == "root"]

    answers = await asyncio.gather(
        post(root, "/admin/edit_user", {"user_id": second.id, "is_admin": False}),
        post(
            second_session, "/admin/edit_user", {"user_id": me["id"], "is_admin": False}
        ),
    )

    statuses = sorted(status for status, _ in answers)
    assert statuses in ([200, 409], [200, 403])
    assert sum(u["is_admin"] for u in await _users_as_db(live_server)) == 1


async def _users_as_db(live_server):
    from stemtube import users

    return [{"is_admin": u.is_admin} for u in await users.list_users(live_server.db)]


@pytest.mark.parametrize("user_id", [2**63, 10**30, -1, 0])
async def test_an_id_no_user_can_have_is_a_404(root, user_id):
    for url, extra in (
        ("/admin/edit_user", {"is_admin": True}),
        ("/admin/delete_user", {}),
        ("/admin/reset_password", {"new_password": "long enough pw"}),
    ):
        status, body = await post(root, url, {"user_id": user_id, **extra})
        assert (status, body["code"]) == (404, "USER_NOT_FOUND"), url
