"""Malformed requests get a clear 4xx with a stable code, never a 500."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from support import PASSWORD, TEST_DATA, LiveServer, extract, make_settings, upload


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"model": ["htdemucs"]}, "INVALID_MODEL"),
        ({"model": {"name": "htdemucs"}}, "INVALID_MODEL"),
        ({"model": False}, "INVALID_MODEL"),
        ({"model": 0}, "INVALID_MODEL"),
        ({"stems": "vocals"}, "INVALID_STEMS"),
        ({"generate_chords": "yes"}, "INVALID_FLAG"),
        ({"video_id": ["x"]}, "MISSING_VIDEO_ID"),
    ],
)
async def test_wrongly_typed_extraction_fields_are_a_400(
    live_server, alice, change, code
):
    _, item = await upload(alice, TEST_DATA / "real" / "robin.ogg")
    body = {"video_id": item["video_id"], **change}
    async with alice.post("/api/extractions", json=body) as answer:
        assert answer.status == 400
        assert (await answer.json())["code"] == code
    async with live_server.db.execute("SELECT COUNT(*) FROM jobs") as cursor:
        assert (await cursor.fetchone())[0] == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/extractions/99999999999999999999999",
        "/api/extractions/9223372036854775808",
        "/api/extractions/\u0661\u0662",
        "/api/extracted_stems/99999999999999999999999/vocals",
        "/api/downloads/99999999999999999999999",
        "/api/downloads/\u0661\u0662",
        "/api/downloads/99999999999999999999999/extraction-status",
    ],
)
async def test_ids_no_row_can_have_are_a_404(alice, path):
    async with alice.get(path) as answer:
        assert answer.status == 404
        assert (await answer.json())["code"].endswith("NOT_FOUND")


async def test_extraction_for_an_impossible_id_is_a_404(alice):
    for ref in ("99999999999999999999999", "\u0661\u0662", 2**70):
        async with alice.post("/api/extractions", json={"video_id": ref}) as answer:
            assert answer.status == 404
            assert (await answer.json())["code"] == "DOWNLOAD_NOT_FOUND"


async def test_deeply_nested_or_oversized_json_is_a_400_or_413(alice):
    nested = "[" * 100_000 + "]" * 100_000
    async with alice.post(
        "/api/extractions",
        data=nested,
        headers={"Content-Type": "application/json"},
    ) as answer:
        assert answer.status == 400
        assert (await answer.json())["code"] == "INVALID_JSON"
    big = json.dumps({"video_id": "x", "pad": "a" * (2 * 2**20)})
    async with alice.post(
        "/api/extractions", data=big, headers={"Content-Type": "application/json"}
    ) as answer:
        assert answer.status == 413
        assert (await answer.json())["code"] == "REQUEST_TOO_LARGE"


async def test_login_remember_must_be_a_boolean(live_server):
    await live_server.add_user("alice")
    session = live_server.session()
    async with session.post(
        "/login",
        json={
            "username": "alice",
            "password": "correct horse battery",
            "remember": "false",
        },
    ) as answer:
        assert answer.status == 400
        assert (await answer.json())["code"] == "INVALID_REMEMBER"


async def test_stem_ranges_are_served_or_refused_with_416(live_server, alice):
    _, extraction_id = await extract(live_server, alice)
    url = f"/api/extracted_stems/{extraction_id}/vocals"
    async with alice.get(url) as answer:
        assert answer.status == 200
        whole = await answer.read()
    size = len(whole)

    for header, first, stop in (
        ("bytes=-10", size - 10, size),
        ("bytes=0-9", 0, 10),
        (f"bytes={size - 5}-", size - 5, size),
        (f"bytes=100-{size * 2}", 100, size),
    ):
        async with alice.get(url, headers={"Range": header}) as answer:
            assert answer.status == 206, header
            assert await answer.read() == whole[first:stop], header
            assert answer.headers["Content-Range"] == (
                f"bytes {first}-{stop - 1}/{size}"
            )

    for header in ("bytes=abc", "items=0-5", "bytes=0-1,5-6"):
        async with alice.get(url, headers={"Range": header}) as answer:
            assert answer.status == 200, header
            assert await answer.read() == whole

    async with alice.get(url, headers={"Range": f"bytes={size + 10}-"}) as answer:
        assert answer.status == 416
        assert answer.headers["Content-Range"] == f"bytes */{size}"
        assert (await answer.json())["code"] == "RANGE_NOT_SATISFIABLE"


async def test_simultaneous_requests_for_one_extraction_queue_one_job(
    live_server, alice
):
    await live_server.add_user("bob")
    bob = await live_server.login("bob")
    _, item = await upload(alice, TEST_DATA / "real" / "robin.ogg")
    await upload(bob, TEST_DATA / "real" / "robin.ogg")

    async def ask(session):
        async with session.post(
            "/api/extractions", json={"video_id": item["video_id"]}
        ) as answer:
            assert answer.status == 200
            return (await answer.json())["extraction_id"]

    ids = await asyncio.gather(*(ask(s) for s in (alice, bob) * 4))
    assert len(set(ids)) == 1
    await live_server.app.state.runner.wait_idle()
    async with live_server.db.execute(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'extraction'"
    ) as cursor:
        assert (await cursor.fetchone())[0] == 1


async def test_forwarded_headers_count_only_when_trusted(tmp_path, tiny_models):
    spoofed = {
        "Origin": "https://evil.example",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
    }
    for trust, status in ((False, 403), (True, 404)):
        server = LiveServer(
            make_settings(
                tmp_path / f"data-{trust}",
                tiny_models,
                server={"trust_proxy_headers": trust},
            )
        )
        await server.start()
        try:
            await server.add_user("alice")
            session = await server.login("alice")
            async with session.post(
                "/api/extractions", json={"video_id": "nothing"}, headers=spoofed
            ) as answer:
                assert answer.status == status
        finally:
            await server.stop()


async def four_bad_logins(tmp_path, tiny_models, headers=lambda n: {}) -> list:
    """(status, Retry-After, code) of four bad logins with a limit of two."""
    server = LiveServer(
        make_settings(
            tmp_path / "data", tiny_models, auth={"login_attempts_per_minute": 2}
        )
    )
    await server.start()
    answers = []
    try:
        async with aiohttp.ClientSession(base_url=server.url) as client:
            for n in range(4):
                async with client.post(
                    "/login",
                    json={"username": "x", "password": "wrong password"},
                    headers=headers(n),
                ) as answer:
                    body = await answer.json()
                    answers.append(
                        (answer.status, answer.headers.get("Retry-After"), body["code"])
                    )
    finally:
        await server.stop()
    return answers


async def test_too_many_logins_answer_429_with_retry_after(tmp_path, tiny_models):
    answers = await four_bad_logins(tmp_path, tiny_models)
    assert answers[0][0] == 401
    status, retry_after, code = answers[-1]
    assert (status, code) == (429, "RATE_LIMITED")
    assert int(retry_after) > 0


@pytest.mark.parametrize("header", ["Origin", "Referer"])
async def test_an_origin_that_cannot_be_read_is_refused_not_a_500(alice, header):
    async with alice.post(
        "/api/extractions", json={}, headers={header: "http://[::1"}
    ) as answer:
        assert answer.status == 403
        assert (await answer.json())["code"] == "CROSS_ORIGIN"


async def test_a_forwarded_for_header_does_not_reset_the_login_limit(
    tmp_path, tiny_models
):
    answers = await four_bad_logins(
        tmp_path, tiny_models, headers=lambda n: {"X-Forwarded-For": f"10.0.0.{n}"}
    )
    assert answers[-1][0] == 429


#: (method, path, body, admin, code): a body that does not fit the route's
#: model is answered with the code of the field at fault, before any work.
MISFITS = [
    ("POST", "/api/downloads", {"video_id": 5}, False, "INVALID_VIDEO_ID"),
    ("POST", "/api/downloads", {"url": ["x"]}, False, "INVALID_URL"),
    ("POST", "/api/extractions", [1, 2], False, "INVALID_JSON"),
    ("POST", "/api/extractions", "null", False, "INVALID_JSON"),
    ("POST", "/api/extractions", b"{not json", False, "INVALID_JSON"),
    ("POST", "/api/extractions", {"video_id": True}, False, "MISSING_VIDEO_ID"),
    # Half an emoji: valid JSON, but no store can keep it.
    ("POST", "/api/extractions", b'{"video_id": "\\ud800"}', False, "INVALID_JSON"),
    ("POST", "/api/list-files", b'{"path": "media/\\udfff"}', False, "INVALID_JSON"),
    (
        "POST",
        "/admin/add_user",
        b'{"username": "eve", "password": "long enough \\ud83d"}',
        True,
        "INVALID_JSON",
    ),
    (
        "POST",
        "/api/user/downloads/bulk-remove-from-list",
        {"video_ids": "abc"},
        False,
        "INVALID_VIDEO_IDS",
    ),
    (
        "POST",
        "/api/user/extractions/bulk-remove-from-list",
        {},
        False,
        "INVALID_VIDEO_IDS",
    ),
    (
        "POST",
        "/api/user/extractions/bulk-remove-from-list",
        {"video_ids": ["x"] * 1001},
        False,
        "INVALID_VIDEO_IDS",
    ),
    ("POST", "/api/list-files", {}, False, "INVALID_PATH"),
    ("POST", "/api/open-folder", {"path": 7}, False, "INVALID_PATH"),
    ("GET", "/api/download-file", None, False, "INVALID_PATH"),
    ("GET", "/api/stream-audio?path=a&path=b", None, False, "INVALID_PATH"),
    ("POST", "/api/logs/browser", {"level": 3}, False, "INVALID_LEVEL"),
    ("POST", "/api/library/1/add-extraction", {"model": 3}, False, "INVALID_MODEL"),
    ("POST", "/login", {"username": "", "password": "x"}, False, "MISSING_CREDENTIALS"),
    ("POST", "/admin/add_user", {"username": "carol"}, True, "INVALID_FIELD"),
    ("POST", "/admin/edit_user", {"user_id": "1"}, True, "INVALID_FIELD"),
    ("POST", "/admin/delete_user", {"user_id": 1.5}, True, "INVALID_FIELD"),
    ("POST", "/api/config", {"theme": "dark"}, True, "UNKNOWN_SETTING"),
    ("POST", "/api/config", {"default_model": 3}, True, "INVALID_VALUE"),
    ("POST", "/api/config/browser-logging", {"enabled": "on"}, True, "INVALID_VALUE"),
    ("GET", "/api/logs/view/stemtube.log?lines=0", None, True, "INVALID_LINES"),
    ("GET", "/api/logs/view/stemtube.log?lines=ten", None, True, "INVALID_LINES"),
]


@pytest.mark.parametrize(("method", "path", "body", "admin", "code"), MISFITS)
async def test_a_body_that_does_not_fit_is_a_400_with_the_fields_code(
    live_server, alice, root, method, path, body, admin, code
):
    session = root if admin else alice
    if isinstance(body, bytes | str):
        options = {"data": body, "headers": {"Content-Type": "application/json"}}
    else:
        options = {"json": body}
    async with session.request(method, path, **options) as answer:
        data = await answer.json()
        assert answer.status == 400, data
        assert data["code"] == code
        assert set(data) == {"error", "code"}
    if code == "UNKNOWN_SETTING":  # the answer says what is known, nothing stored
        assert "default_model" in data["error"]
        async with root.get("/api/config") as answer:
            assert "theme" not in await answer.json()


async def test_json_sent_as_a_form_logs_in_as_curl_d_does(live_server):
    await live_server.add_user("alice")
    session = live_server.session()
    body = json.dumps({"username": "alice", "password": PASSWORD})
    async with session.post(
        "/login",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ) as answer:
        assert answer.status == 200, await answer.text()
    async with session.post("/login", data={"username": "", "password": "x"}) as a:
        assert (await a.json())["code"] == "MISSING_CREDENTIALS"


async def test_admin_json_routes_answer_401_where_pages_redirect(live_server):
    anonymous = live_server.session()
    for method, path in [("POST", "/admin/add_user"), ("GET", "/admin/users")]:
        async with anonymous.request(
            method, path, json={}, headers={"Accept": "*/*"}, allow_redirects=False
        ) as answer:
            assert answer.status == 401, (method, path)
            assert (await answer.json())["code"] == "AUTH_REQUIRED"
    async with anonymous.get(
        "/admin", headers={"Accept": "text/html"}, allow_redirects=False
    ) as answer:
        assert answer.status == 302
        assert answer.headers["Location"] == "/login?next=/admin"
