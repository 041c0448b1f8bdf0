"""The admin console (`stemtube admin`), driven by Textual's pilot on the
live server's own data folder and database, as an admin over SSH would."""

from __future__ import annotations

import asyncio
import re

from textual.widgets import DataTable, RichLog

from stemtube import library
from stemtube.admin_tui.app import AdminApp

from support import PASSWORD, TEST_DATA, upload

SIZE = (80, 24)


def console(server) -> AdminApp:
    return AdminApp(server.settings, refresh_seconds=0.2)


async def type_text(pilot, text: str) -> None:
    for character in text:
        await pilot.press(character)


def cells(app: AdminApp, tab: str) -> list[list[str]]:
    table = app.query_one(f"#{tab} DataTable", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def select_row(pilot, app: AdminApp, tab: str, text: str) -> None:
    """Move the cursor of the tab's table to the row holding ``text``."""
    rows = cells(app, tab)
    index = next(i for i, row in enumerate(rows) if text in " ".join(row))
    app.query_one(f"#{tab} DataTable", DataTable).move_cursor(row=index)
    await pilot.pause()


async def until(pilot, condition, seconds: float = 10) -> None:
    for _ in range(int(seconds * 10)):
        if condition():
            return
        await pilot.pause(0.1)
    raise AssertionError("the console never showed it")


async def test_an_admin_adds_a_user_who_then_logs_in_on_the_web(live_server):
    await live_server.add_user("root", admin=True)
    app = console(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("a")
        await type_text(pilot, "carol")
        await pilot.press("tab", "tab")
        await type_text(pilot, "carolpassword1")
        await pilot.press("tab")
        await type_text(pilot, "carolpassword2")
        await pilot.press("enter")
        await pilot.pause()
        # Typed twice and different: said in the form, which stays open.
        assert "differ" in str(app.screen.query_one("#form-error").render())
        app.screen.query_one("#again").value = ""
        app.screen.query_one("#again").focus()
        await type_text(pilot, "carolpassword1")
        await pilot.press("enter")
        await until(pilot, lambda: ["carol", "user"] in cells(app, "users"))
    carol = await live_server.login("carol", "carolpassword1")
    async with carol.get("/api/downloads") as answer:
        assert answer.status == 200


async def test_a_password_reset_ends_the_old_one_and_the_last_admin_stays(
    live_server,
):
    await live_server.add_user("root", admin=True)
    await live_server.add_user("alice")
    app = console(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(cells(app, "users")) == 2)
        await select_row(pilot, app, "users", "alice")
        await pilot.press("p")
        await type_text(pilot, "anewpassword9")
        await pilot.press("tab")
        await type_text(pilot, "anewpassword9")
        await pilot.press("enter")
        await pilot.pause()

        await select_row(pilot, app, "users", "root")
        await pilot.press("d", "y")
        await until(pilot, lambda: "last admin" in _message(app, "users"))
        assert len(cells(app, "users")) == 2

        # Edit: Space ticks Admin, Enter saves from the checkbox too.
        await select_row(pilot, app, "users", "alice")
        await pilot.press("e", "tab", "space", "enter")
        await until(pilot, lambda: ["alice", "admin"] in cells(app, "users"))

        # Every action is also in the command palette.
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "Show jobs")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: app.query_one("TabbedContent").active == "jobs")

    await live_server.login("alice", "anewpassword9")
    anonymous = live_server.session()
    body = {"username": "alice", "password": PASSWORD}
    async with anonymous.post("/login", json=body) as answer:
        assert answer.status == 401


def _message(app: AdminApp, tab: str) -> str:
    return str(app.query_one(f"#{tab} .message").render())


async def test_deleting_a_song_removes_its_files_and_keeps_other_users_songs(
    live_server,
):
    await live_server.add_user("root", admin=True)
    await live_server.add_user("alice")
    await live_server.add_user("bob")
    alice = await live_server.login("alice")
    bob = await live_server.login("bob")
    _, robin = await upload(alice, TEST_DATA / "real" / "robin.ogg")
    _, trumpet = await upload(bob, TEST_DATA / "real" / "trumpet_loop.ogg")
    data_dir = live_server.settings.data_dir
    alice_dir = library.download_dir(data_dir, robin["global_download_id"])
    bob_dir = library.download_dir(data_dir, trumpet["global_download_id"])
    # Leftovers a cleanup removes: a stray file and the folder of no song.
    (bob_dir / "left-over.part").write_bytes(b"x" * 10)
    (data_dir / "media" / "999999").mkdir()
    (data_dir / "media" / "999999" / "old.wav").write_bytes(b"y")

    app = console(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await until(pilot, lambda: len(cells(app, "storage")) == 2)
        assert any("alice" in row[3] for row in cells(app, "storage"))
        orphans = app.query_one("#orphans", DataTable)
        listed = [str(orphans.get_row_at(i)[0]) for i in range(orphans.row_count)]
        assert sorted(listed) == [
            f"media/{trumpet['global_download_id']}/left-over.part",
            "media/999999",
        ]

        await select_row(pilot, app, "storage", robin["title"])
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await until(pilot, lambda: len(cells(app, "storage")) == 1)
        assert not alice_dir.exists()
        await pilot.press("c", "y")
        await until(pilot, lambda: "Removed 2" in _message(app, "storage"))

    assert not (bob_dir / "left-over.part").exists()
    assert not (data_dir / "media" / "999999").exists()
    async with bob.get("/api/downloads") as answer:
        (song,) = (await answer.json())["downloads"]
    assert (data_dir / song["file_path"]).is_file()
    async with alice.get("/api/downloads") as answer:
        assert (await answer.json())["downloads"] == []


async def test_a_line_the_server_logs_appears_in_the_log_screen(
    server_log, live_server
):
    await live_server.add_user("alice")
    app = console(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        await pilot.pause()
        await live_server.login("alice")
        log = app.query_one(RichLog)

        def shown() -> str:
            """The screen's lines as one text (long lines wrap)."""
            return re.sub(r"\s+", " ", "".join(line.text for line in log.lines)).strip()

        await until(pilot, lambda: "alice logged in" in shown())
        # Filtered by level: the INFO line goes at WARNING and above.
        await pilot.press("f", "f")
        await pilot.pause()
        assert "alice logged in" not in shown()
        await pilot.press("f", "f")  # ERROR, then DEBUG again
        await pilot.press("slash")
        await type_text(pilot, "nosuchword")
        await pilot.pause()
        assert shown() == ""


async def test_a_running_job_is_cancelled_and_retried_from_the_console(live_server):
    await live_server.add_user("alice")
    alice = await live_server.login("alice")
    sio = await live_server.socket(alice)
    separating = asyncio.Event()
    sio.on(
        "extraction_progress",
        lambda data: separating.set() if data.get("progress", 0) > 2 else None,
    )
    _, item = await upload(alice, TEST_DATA / "real" / "fishin.ogg")
    body = {"video_id": item["video_id"], "generate_lyrics": False}
    async with alice.post("/api/extractions", json=body) as answer:
        extraction_id = (await answer.json())["extraction_id"]
    # Running before the console opens: here server and console share one
    # process, and Textual's stand-in for stderr has no file descriptor for
    # multiprocessing's first spawn (its resource tracker) to hand on.
    await asyncio.wait_for(separating.wait(), 120)

    app = console(live_server)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("j")
        await until(
            pilot,
            lambda: any(r[3].startswith("running") for r in cells(app, "jobs")),
            seconds=60,
        )
        assert "server running" in str(app.query_one("#jobs .summary").render())
        await select_row(pilot, app, "jobs", "running")
        await pilot.press("c", "y")
        # The server's runner takes the request from the jobs table.
        await until(pilot, lambda: "cancelled" in _message(app, "jobs"), seconds=30)
        async with alice.get(f"/api/extractions/{extraction_id}") as answer:
            assert (await answer.json())["error_code"] == "CANCELLED"
        await select_row(pilot, app, "jobs", "cancelled")
        await pilot.press("r")
        await until(pilot, lambda: "queued again" in _message(app, "jobs"))
    await asyncio.sleep(2)  # the runner takes the queued job in
    await live_server.app.state.runner.wait_idle()
    async with alice.get(f"/api/extractions/{extraction_id}") as answer:
        assert (await answer.json())["status"] == "completed"
