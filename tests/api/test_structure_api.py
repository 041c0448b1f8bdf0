"""Sections through the API: after an extraction, on request, and when it breaks."""

from __future__ import annotations

import json

from support import TEST_DATA, LiveServer, make_settings, upload

POP = TEST_DATA / "songs" / "pop_c_major"
TRUTH = json.loads((POP / "truth.json").read_text())


async def _server(data_dir, tiny_models, **plugins) -> LiveServer:
    plugins = {"truth": {"module": "truth_separator"}, **plugins}
    settings = make_settings(data_dir, tiny_models, plugins=plugins)
    server = LiveServer(settings)
    await server.start()
    return server


async def _extract(server, session, **flags) -> int:
    _, item = await upload(session, POP / "mixture.ogg")
    body = {"video_id": item["video_id"], "model": "truth", **flags}
    async with session.post("/api/extractions", json=body) as answer:
        assert answer.status == 200, await answer.text()
        extraction_id = (await answer.json())["extraction_id"]
    await server.app.state.runner.wait_idle()
    return extraction_id


def _covers(rows: list[dict]) -> bool:
    ends = [row["end"] for row in rows[:-1]]
    starts = [row["start"] for row in rows[1:]]
    return rows[0]["start"] == 0.0 and ends == starts


async def test_sections_after_an_extraction_on_request_and_broken(
    tmp_path, tiny_models
):
    server = await _server(tmp_path / "data", tiny_models, structure={"enabled": True})
    try:
        await server.add_user("alice")
        await server.add_user("bob")
        alice = await server.login("alice")
        extraction_id = await _extract(server, alice)

        async with alice.get(f"/api/extractions/{extraction_id}") as answer:
            detail = await answer.json()
        rows = detail["structure"]
        assert detail["structure_available"] is True
        assert detail["structure_analyser"] == "librosa-structure"
        assert _covers(rows) and rows[-1]["end"] > TRUTH["sections"][-1][1]
        assert [row["label"] for row in rows] == ["intro", "verse", "chorus", "outro"]
        async with alice.get("/api/downloads") as answer:
            listed = (await answer.json())["downloads"][0]
        assert listed["structure_available"] is True

        url = f"/api/extractions/{extraction_id}/structure"
        async with alice.get(url) as answer:
            view = await answer.json()
        assert view["structure"] == rows and view["available"] is True
        assert view["analyser"] == "librosa-structure" and view["version"]
        assert view["source"] == "stems:truth"

        async with alice.post(f"{url}/regenerate") as answer:
            assert answer.status == 200, await answer.text()
            again = await answer.json()
        assert again["success"] is True and again["sections_count"] == len(rows)
        assert again["structure"] == rows and again["analyser"] == "librosa-structure"

        bob = await server.login("bob")
        for method, path in (("GET", url), ("POST", f"{url}/regenerate")):
            async with bob.request(method, path) as answer:
                assert answer.status == 404
            async with server.session().request(method, path) as answer:
                assert answer.status == 401
    finally:
        await server.stop()

    # The same data folder, served with a third party's analyser that
    # answers overlapping sections.
    server = await _server(
        tmp_path / "data",
        tiny_models,
        structure={"enabled": False},
        broken={"module": "broken_structure"},
    )
    try:
        alice = await server.login("alice")
        async with alice.post(f"{url}/regenerate") as answer:
            assert answer.status == 500
            failure = await answer.json()
        assert failure["code"] == "BAD_ANALYSER_RESULT"
        assert "overlapping" in failure["error"]
        async with alice.get(url) as answer:
            assert (await answer.json())["structure"] == rows

        # A new song's analysis after its extraction still gives its beats
        # and chords; it has no sections.
        _, item = await upload(
            alice, TEST_DATA / "songs" / "rock_e_major_fast" / "mixture.ogg"
        )
        body = {"video_id": item["video_id"], "model": "truth"}
        async with alice.post("/api/extractions", json=body) as answer:
            rock_id = (await answer.json())["extraction_id"]
        await server.app.state.runner.wait_idle()
        async with alice.get(f"/api/extractions/{rock_id}") as answer:
            detail = await answer.json()
        assert detail["chords_available"] is True and detail["beats"]
        assert detail["structure_available"] is False and detail["structure"] == []
    finally:
        await server.stop()


async def test_sections_can_be_turned_off_and_missing(tmp_path, tiny_models):
    server = await _server(tmp_path / "data", tiny_models)  # no structure plugin
    try:
        await server.add_user("alice")
        alice = await server.login("alice")
        extraction_id = await _extract(server, alice, generate_structure=False)
        async with alice.get(f"/api/extractions/{extraction_id}") as answer:
            detail = await answer.json()
        assert detail["structure_available"] is False and detail["structure"] == []
        url = f"/api/extractions/{extraction_id}/structure"
        async with alice.get(url) as answer:
            view = await answer.json()
        assert view["available"] is False and view["reason"]
        async with alice.post(f"{url}/regenerate") as answer:
            assert answer.status == 503
            assert (await answer.json())["code"] == "STRUCTURE_UNAVAILABLE"
    finally:
        await server.stop()
