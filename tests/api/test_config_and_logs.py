"""Configuration an admin changes at run time, ffmpeg, and the log routes."""

from __future__ import annotations

import logging

import pytest

from stemtube import media

from support import LiveServer, extract


async def get(session, url):
    async with session.get(url) as answer:
        return answer.status, await answer.json()


async def post(session, url, body):
    async with session.post(url, json=body) as answer:
        return answer.status, await answer.json()


async def test_config_tells_what_this_server_offers(alice):
    status, config = await get(alice, "/api/config")
    assert status == 200
    assert config["models"] == ["htdemucs", "htdemucs_6s"]
    assert config["default_model"] == "htdemucs"
    assert config["gpu_available"] is False
    assert {"chord_backends", "default_chord_backend", "cuda_version"} <= set(config)


async def test_an_admin_changes_the_default_model_at_once_and_for_good(
    live_server, settings, root, alice
):
    assert (await post(alice, "/api/config", {"default_model": "htdemucs_6s"}))[
        0
    ] == 403
    status, body = await post(root, "/api/config", {"default_model": "htdemucs_6s"})
    assert (status, body["default_model"]) == (200, "htdemucs_6s")

    _, extraction_id = await extract(live_server, alice)
    status, extraction = await get(alice, f"/api/extractions/{extraction_id}")
    assert extraction["model"] == "htdemucs_6s"

    await live_server.stop()
    again = LiveServer(settings)
    await again.start()
    try:
        session = await again.login("alice")
        assert (await get(session, "/api/config"))[1]["default_model"] == "htdemucs_6s"
    finally:
        await again.stop()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"default_model": "nope"}, "UNKNOWN_MODEL"),
        ({"default_model": "htdemucs_6s", "theme": "dark"}, "UNKNOWN_SETTING"),
        ({"default_chord_backend": "chordino"}, "UNKNOWN_CHORD_BACKEND"),
        ({}, "UNKNOWN_SETTING"),
    ],
)
async def test_a_wrong_setting_is_refused_and_nothing_changes(root, body, code):
    status, answer = await post(root, "/api/config", body)
    assert (status, answer["code"]) == (400, code)
    assert (await get(root, "/api/config"))[1]["default_model"] == "htdemucs"


async def test_ffmpeg_check_names_the_program_in_use(alice, root):
    status, facts = await get(alice, "/api/config/ffmpeg/check")
    assert status == 200
    assert facts["installed"] is True
    assert facts["version"] == media.ffmpeg_version()
    async with alice.post("/api/config/ffmpeg/download") as answer:
        assert answer.status == 403
    status, body = await post(root, "/api/config/ffmpeg/download", {})
    assert status == 200 and body["version"] == facts["version"]


async def test_browser_errors_are_logged_only_when_turned_on(server_log, alice, root):
    event = {
        "level": "ERROR",
        "message": "boom\nFAKE LINE\x1b[2J\u2028end",
        "url": "/mixer",
    }
    assert (await post(alice, "/api/logs/browser", event))[1]["logged"] is False
    assert (await get(alice, "/api/config/browser-logging"))[1] == {
        "enabled": False,
        "log_level": "ERROR",
    }

    status, _ = await post(
        root, "/api/config/browser-logging", {"enabled": True, "log_level": "warning"}
    )
    assert status == 200
    assert (await post(alice, "/api/logs/browser", event))[1]["logged"] is True
    info = {**event, "level": "INFO", "message": "just chatter"}
    assert (await post(alice, "/api/logs/browser", info))[1]["logged"] is False

    text = server_log.read_text()
    assert "alice at /mixer: boom\\nFAKE LINE\\x1b[2J\\u2028end" in text
    assert "\nFAKE LINE" not in text
    assert "\x1b" not in text and "\u2028" not in text
    assert "just chatter" not in text


async def test_an_admin_reads_the_log_files(server_log, live_server, root, alice):
    for n in range(5):
        logging.getLogger("stemtube.test").warning("line %d", n)

    status, listing = await get(root, "/api/logs/list")
    assert status == 200
    names = [entry["filename"] for entry in listing["logs"]]
    assert server_log.name in names
    status, view = await get(root, f"/api/logs/view/{server_log.name}?lines=2")
    assert view["lines_shown"] == 2
    assert view["content"].splitlines()[-1].endswith("line 4")
    async with root.get(f"/api/logs/download/{server_log.name}") as answer:
        assert answer.status == 200
        assert "attachment" in answer.headers["Content-Disposition"]
        assert (await answer.read()) == server_log.read_bytes()

    async with alice.get("/api/logs/list") as answer:
        assert answer.status == 403


@pytest.mark.parametrize(
    "name",
    ["..%2Fstemtube.db", "%2E%2E%2Fsecret_key", "..", "%2Fetc%2Fpasswd", "nope.log"],
)
async def test_a_log_name_cannot_reach_other_files(server_log, root, name):
    for route in ("view", "download"):
        async with root.get(f"/api/logs/{route}/{name}") as answer:
            assert answer.status == 404, (route, name)
