"""Who may call what: sessions, other users' items, cross-site requests."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest
import socketio

from stemtube import users

from support import TEST_DATA, extract, upload

# The API description is public on purpose: it holds no data (docs/api.md).
PUBLIC = {
    "auth.login_page",
    "auth.login",
    "auth.logout",
    "static",
    "openapi",
    "pages.api_docs",
}


def every_protected_request(app):
    """(method, path) for every route and method that needs a session."""
    for rule in app.quart.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        path = re.sub(r"<(?:int:)?([^>]+)>", "1", rule.rule)
        for method in sorted(rule.methods - {"OPTIONS"}):
            yield method, path


async def test_every_route_answers_401_without_a_session(live_server):
    requests = list(every_protected_request(live_server.app))
    assert ("POST", "/api/extractions") in requests
    assert ("GET", "/api/extracted_stems/1/1") in requests
    async with aiohttp.ClientSession(base_url=live_server.url) as anonymous:
        for method, path in requests:
            async with anonymous.request(
                method, path, headers={"Accept": "application/json"}
            ) as answer:
                assert answer.status == 401, (method, path, answer.status)
                if method != "HEAD":
                    body = await answer.json()
                    assert body["code"] == "AUTH_REQUIRED"


async def test_pages_send_browsers_to_the_login_page(live_server):
    anonymous = live_server.session()
    async with anonymous.get(
        "/mixer?download_id=3",
        headers={"Accept": "text/html"},
        allow_redirects=False,
    ) as answer:
        assert answer.status == 302
        assert answer.headers["Location"] == "/login?next=/mixer%3Fdownload_id%3D3"


async def test_a_second_user_can_neither_list_nor_stream_the_first_users_upload(
    live_server,
):
    await live_server.add_user("alice")
    await live_server.add_user("bob")
    alice = await live_server.login("alice")
    bob = await live_server.login("bob")
    item, extraction_id = await extract(live_server, alice)
    async with alice.get(f"/api/extracted_stems/{extraction_id}/vocals") as answer:
        assert answer.status == 200

    async with bob.get("/api/downloads") as answer:
        assert (await answer.json())["downloads"] == []
    async with bob.get("/api/extractions") as answer:
        assert (await answer.json())["extractions"] == []
    for path in (
        f"/api/downloads/{item['global_download_id']}",
        f"/api/downloads/{item['video_id']}",
        f"/api/downloads/{item['video_id']}/extraction-status",
        f"/api/extractions/{extraction_id}",
        f"/api/extracted_stems/{extraction_id}/vocals",
    ):
        async with bob.get(path) as answer:
            assert answer.status == 404, path
    async with bob.post(
        "/api/extractions", json={"video_id": item["video_id"]}
    ) as answer:
        assert answer.status == 404


async def test_the_same_file_uploaded_by_two_users_is_one_global_download(live_server):
    await live_server.add_user("alice")
    await live_server.add_user("bob")
    alice = await live_server.login("alice")
    bob = await live_server.login("bob")
    song = TEST_DATA / "real" / "trumpet_loop.ogg"
    _, first = await upload(alice, song)
    _, again = await upload(alice, song, name="copy.ogg")
    _, second = await upload(bob, song, name="other name.ogg")
    assert first["global_download_id"] == again["global_download_id"]
    assert first["global_download_id"] == second["global_download_id"]
    async with bob.get("/api/downloads") as answer:
        listed = (await answer.json())["downloads"]
    assert [d["id"] for d in listed] == [first["global_download_id"]]
    media = live_server.settings.data_dir / "media"
    assert [p.name for p in media.iterdir()] == [str(first["global_download_id"])]


async def test_one_extraction_is_shared_by_every_user_who_asks(live_server):
    await live_server.add_user("alice")
    await live_server.add_user("bob")
    alice = await live_server.login("alice")
    bob = await live_server.login("bob")
    song = TEST_DATA / "real" / "robin.ogg"
    _, item = await upload(alice, song)
    await upload(bob, song)
    ids = []
    for session in (alice, bob):
        async with session.post(
            "/api/extractions", json={"video_id": item["video_id"], "model": "htdemucs"}
        ) as answer:
            ids.append((await answer.json())["extraction_id"])
    assert ids[0] == ids[1]
    await live_server.app.state.runner.wait_idle()
    async with live_server.db.execute(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'extraction'"
    ) as cursor:
        assert (await cursor.fetchone())[0] == 1
    async with bob.get(f"/api/extracted_stems/{ids[0]}/drums") as answer:
        assert answer.status == 200
    async with bob.get(f"/api/extractions/{ids[0]}") as answer:
        assert (await answer.json())["stems"] == ["vocals", "drums", "bass", "other"]


async def test_socketio_refuses_a_connection_without_a_valid_session(live_server):
    for cookie in ("", "QUART_AUTH=forged.token.value"):
        client = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(
                live_server.url,
                headers={"Cookie": cookie} if cookie else {},
                wait_timeout=5,
            )
        await client.disconnect()


async def test_socketio_refuses_a_page_from_another_site(live_server):
    await live_server.add_user("alice")
    session = await live_server.login("alice")
    cookies = "; ".join(f"{c.key}={c.value}" for c in session.cookie_jar)
    client = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(
            live_server.url,
            headers={"Cookie": cookies, "Origin": "https://evil.example"},
            wait_timeout=5,
        )
    await client.disconnect()
    same_site = socketio.AsyncClient(reconnection=False)
    await same_site.connect(
        live_server.url,
        headers={"Cookie": cookies, "Origin": live_server.url},
        wait_timeout=5,
    )
    await same_site.disconnect()


async def test_events_go_only_to_users_waiting_on_the_extraction(live_server):
    await live_server.add_user("alice")
    await live_server.add_user("bob")
    alice = await live_server.login("alice")
    bob = await live_server.login("bob")
    alice_events, bob_events = [], []
    alice_socket = await live_server.socket(alice)
    bob_socket = await live_server.socket(bob)
    alice_socket.on("extraction_complete", lambda data: alice_events.append(data))
    bob_socket.on("extraction_complete", lambda data: bob_events.append(data))

    await extract(live_server, alice)
    await asyncio.sleep(0.5)
    assert len(alice_events) == 1
    assert bob_events == []


async def test_login_errors(live_server):
    await live_server.add_user("alice")
    session = live_server.session()
    async with session.post("/login", json={"username": "alice"}) as answer:
        assert answer.status == 400
    async with session.post(
        "/login", json={"username": "alice", "password": "wrong password"}
    ) as answer:
        assert answer.status == 401
        assert (await answer.json())["error"] == "Invalid credentials"
    async with session.post("/login", data=b"\xff\xfe not json") as answer:
        assert answer.status == 400
    async with session.get("/api/downloads") as answer:
        assert answer.status == 401


async def test_logout_ends_the_session(live_server):
    await live_server.add_user("alice")
    session = await live_server.login("alice")
    async with session.get("/logout", allow_redirects=False) as answer:
        assert answer.status == 302
        assert answer.headers["Location"] == "/login"
    async with session.get("/api/downloads") as answer:
        assert answer.status == 401


async def test_a_new_password_ends_the_users_sessions(live_server):
    await live_server.add_user("alice")
    session = await live_server.login("alice")
    sio = await live_server.socket(session)
    await users.set_password(live_server.db, "alice", "a brand new password")
    async with session.get("/api/downloads") as answer:
        assert answer.status == 401
    assert sio.connected  # an open socket stays, but cannot reconnect:
    await sio.disconnect()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await live_server.socket(session)
    await live_server.login("alice", "a brand new password")


async def test_cross_site_state_changes_are_refused(live_server):
    await live_server.add_user("alice")
    session = await live_server.login("alice")
    async with session.post(
        "/api/extractions",
        json={"video_id": "x"},
        headers={"Origin": "https://evil.example"},
    ) as answer:
        assert answer.status == 403
        assert (await answer.json())["code"] == "CROSS_ORIGIN"


async def test_a_user_opening_the_admin_page_gets_a_page_saying_no(live_server):
    await live_server.add_user("bob")
    bob = await live_server.login("bob")
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    async with bob.get("/admin", headers=browser) as answer:
        assert answer.status == 403
        assert answer.content_type == "text/html"
        assert "Admin access required" in await answer.text()
    async with bob.get("/admin", headers={"Accept": "application/json"}) as answer:
        assert answer.status == 403
        assert (await answer.json())["code"] == "ADMIN_REQUIRED"
