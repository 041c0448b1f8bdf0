"""The console's screens: users, storage, jobs, logs and health.

Each pane works through the core's own functions (``stemtube.users``,
``stemtube.housekeeping``, ``stemtube.job_queue``, ``stemtube.doctor``), on
the app's database connection, so the rules are the web's.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, RichLog, Select, Static

from stemtube import housekeeping, job_queue, library, users
from stemtube.admin_tui.dialogs import Confirm, PasswordForm, UserForm
from stemtube.doctor import checks
from stemtube.logs import log_dir

if TYPE_CHECKING:
    from stemtube.admin_tui.app import AdminApp


def _size(count: int | None) -> str:
    if not count:
        return "0 B"
    size = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


class Pane(Vertical):
    """A table of rows with a message line; subclasses fill the table."""

    COLUMNS: tuple[str, ...] = ()

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static("", classes="summary")
        table = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_columns(*self.COLUMNS)
        yield table
        yield Static("", classes="message")

    @property
    def table(self) -> DataTable:
        return self.query_one(DataTable)

    def say(self, text: str, error: bool = False) -> None:
        message = self.query_one(".message", Static)
        message.update(text)
        message.set_class(error, "error")

    def summary(self, text: str) -> None:
        self.query_one(".summary", Static).update(text)

    def selected(self) -> str | None:
        """The key of the row under the cursor, or None in an empty table."""
        table = self.table
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0))
        return row_key.value

    def fill(self, rows: list[tuple[str, tuple]]) -> None:
        """Replace the rows (key, cells), keeping the cursor where it was."""
        table = self.table
        keep = self.selected()
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        keys = [key for key, _ in rows]
        if keep in keys:
            table.move_cursor(row=keys.index(keep))

    async def reload(self) -> None:
        """Read the rows again."""

    def on_mount(self) -> None:
        self.run_worker(self.reload, exclusive=True, group="reload")


# Users.


class UsersPane(Pane):
    COLUMNS = ("Name", "Role")
    BINDINGS = [  # noqa: RUF012 - Textual's declaration style
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("p", "password", "Password"),
        Binding("d", "delete", "Delete"),
    ]

    async def reload(self) -> None:
        found = await users.list_users(self.admin.db)
        self.users = {str(u.id): u for u in found}
        self.fill(
            [
                (str(u.id), (u.username, "admin" if u.is_admin else "user"))
                for u in found
            ]
        )
        admins = sum(u.is_admin for u in found)
        self.summary(f"{_count(len(found), 'user')}, {_count(admins, 'admin')}")

    def _user(self) -> users.User | None:
        key = self.selected()
        return self.users.get(key) if key else None

    async def _call(self, action, *args, **kwargs) -> str | None:
        """Run a users action; the error to show, or None."""
        try:
            await action(self.admin.db, *args, **kwargs)
        except users.UserError as exc:
            return exc.message
        await self.reload()
        return None

    def action_add(self) -> None:
        async def submit(values: dict) -> str | None:
            error = await self._call(
                users.create_user,
                values["username"],
                values["password"],
                is_admin=values["is_admin"],
            )
            if error is None:
                self.say(f"Added {values['username']}.")
            return error

        self.app.push_screen(UserForm(submit))

    def action_edit(self) -> None:
        user = self._user()
        if user is None:
            return

        async def submit(values: dict) -> str | None:
            error = await self._call(
                users.edit_user,
                user.id,
                username=values["username"],
                is_admin=values["is_admin"],
            )
            if error is None:
                self.say(f"Saved {values['username']}.")
            return error

        form = UserForm(
            submit, username=user.username, is_admin=user.is_admin, adding=False
        )
        self.app.push_screen(form)

    def action_password(self) -> None:
        user = self._user()
        if user is None:
            return

        async def submit(values: dict) -> str | None:
            error = await self._call(users.reset_password, user.id, values["password"])
            if error is None:
                self.say(f"New password set for {user.username}; their sessions end.")
            return error

        self.app.push_screen(PasswordForm(user.username, submit))

    def action_delete(self) -> None:
        user = self._user()
        if user is None:
            return

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            admin = self.admin
            error = await self._call(
                housekeeping.delete_user, admin.settings.data_dir, admin.runner, user.id
            )
            self.say(error or f"Deleted {user.username}.", error=bool(error))

        question = (
            f"Delete {user.username}, their lists, and their own uploads "
            "nobody else lists?"
        )
        self.app.push_screen(Confirm(question), answered)


# Storage.


class StoragePane(Pane):
    COLUMNS = ("Song", "Size", "Stems", "Listed by")
    BINDINGS = [  # noqa: RUF012
        Binding("d", "delete", "Delete"),
        Binding("r", "reset", "Reset stems"),
        Binding("c", "clean", "Clean up"),
        Binding("g", "reload", "Refresh"),
    ]

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static("", id="orphans-summary")
        orphans = DataTable(id="orphans", cursor_type="row")
        orphans.add_columns("What a cleanup removes")
        yield orphans

    async def reload(self) -> None:
        admin = self.admin
        data_dir = admin.settings.data_dir
        found = await housekeeping.stored_downloads(admin.db, data_dir)
        self.songs = {str(d["global_download_id"]): d for d in found}
        self.fill(
            [
                (
                    str(d["global_download_id"]),
                    (
                        d["title"] or d["video_id"],
                        _size(d["size_on_disk"]),
                        ", ".join(
                            f"{e['model']} {_size(e['size_on_disk'])}"
                            if e["status"] == "completed"
                            else f"{e['model']} ({e['status']})"
                            for e in d["extraction_details"]
                        )
                        or "none",
                        ", ".join(d["users_with_access"]) or "nobody",
                    ),
                )
                for d in found
            ]
        )
        totals = await housekeeping.totals(admin.db, data_dir)
        self.summary(
            f"{_count(totals['total_downloads'], 'song')}, "
            f"{_count(totals['total_extractions'], 'extraction')}, "
            f"{_size(totals['total_size_bytes'])} on disk"
        )
        self.orphans = await housekeeping.orphans(admin.db, data_dir)
        table = self.query_one("#orphans", DataTable)
        table.clear()
        for path in self.orphans:
            table.add_row(path.relative_to(data_dir).as_posix())
        count = len(self.orphans)
        self.query_one("#orphans-summary", Static).update(
            f"{count} stray file(s) or folder(s) no item owns"
            if count
            else "No stray files."
        )

    def _song(self) -> dict | None:
        key = self.selected()
        return self.songs.get(key) if key else None

    async def action_reload(self) -> None:
        await self.reload()

    def _on_song(self, question: str, act) -> None:
        """Ask ``question`` about the selected song; if yes, ``act(download)``
        returns what to say."""
        song = self._song()
        if song is None:
            return
        title = song["title"] or song["video_id"]

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            download = await library.get_download(
                self.admin.db, song["global_download_id"]
            )
            if download is not None:
                self.say(await act(download, title))
            await self.reload()

        self.app.push_screen(Confirm(question.format(title=title)), answered)

    def action_delete(self) -> None:
        async def delete(download: dict, title: str) -> str:
            admin = self.admin
            files = await housekeeping.delete_everywhere(
                admin.db, admin.settings.data_dir, admin.runner, download
            )
            return f"Deleted {title} and {files} file(s)."

        self._on_song("Delete {title} and all its files, for every user?", delete)

    def action_reset(self) -> None:
        async def reset(download: dict, title: str) -> str:
            admin = self.admin
            done = await housekeeping.reset_extractions(
                admin.db, admin.settings.data_dir, admin.runner, download
            )
            return f"Deleted {len(done)} extraction(s) of {title}."

        self._on_song("Delete the stems of {title} so they can be made again?", reset)

    def action_clean(self) -> None:
        if not self.orphans:
            self.say("Nothing to clean up.")
            return
        paths = list(self.orphans)

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            admin = self.admin
            # Listed again: only what is still stray now goes.
            still = set(await housekeeping.orphans(admin.db, admin.settings.data_dir))
            removed = await asyncio.to_thread(
                housekeeping.remove, [p for p in paths if p in still]
            )
            self.say(f"Removed {removed} stray file(s).")
            await self.reload()

        question = f"Remove the {len(paths)} stray file(s) and folder(s) listed?"
        self.app.push_screen(Confirm(question), answered)


# Jobs.


class JobsPane(Pane):
    COLUMNS = ("Job", "Kind", "Song", "Status", "Code")
    BINDINGS = [  # noqa: RUF012
        Binding("c", "cancel", "Cancel job"),
        Binding("r", "retry", "Retry job"),
    ]

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(self.admin.refresh_seconds, self._tick)

    def _tick(self) -> None:
        self.run_worker(self.reload, exclusive=True, group="reload")

    async def reload(self) -> None:
        found = await job_queue.list_jobs(self.admin.db)
        self.jobs = {str(j["id"]): j for j in found}
        self.fill(
            [
                (
                    str(j["id"]),
                    (
                        str(j["id"]),
                        j["kind"] + (f" ({j['model']})" if j["model"] else ""),
                        j["title"] or j["video_id"] or "—",
                        _job_status(j),
                        j["error_code"] or "",
                    ),
                )
                for j in found
            ]
        )
        waiting = sum(j["status"] == "queued" for j in found)
        running = sum(j["status"] == "running" for j in found)
        failed = sum(j["status"] == "failed" for j in found)
        alive = await _server_alive(self.admin)
        server = "server running" if alive else "server stopped: queued jobs wait"
        self.summary(f"{running} running, {waiting} queued, {failed} failed · {server}")

    def _job(self) -> dict | None:
        key = self.selected()
        return self.jobs.get(key) if key else None

    async def _queue_call(self, action, job: dict, done: str) -> None:
        try:
            await action(self.admin.db, self.admin.runner, job["id"])
        except job_queue.QueueError as exc:
            self.say(exc.message, error=True)
        else:
            self.say(done)
        await self.reload()

    def action_cancel(self) -> None:
        job = self._job()
        if job is None:
            return
        if not job["can_cancel"]:
            self.say(f"Job {job['id']} is {job['status']}: nothing to stop.", True)
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                self.say(f"Stopping job {job['id']}…")
                done = f"Job {job['id']} cancelled; its users see it stopped."
                await self._queue_call(job_queue.cancel, job, done)

        self.app.push_screen(Confirm(f"Cancel job {job['id']}?"), answered)

    async def action_retry(self) -> None:
        job = self._job()
        if job is not None:
            await self._queue_call(
                job_queue.retry, job, f"Job {job['id']} queued again."
            )


def _job_status(job: dict) -> str:
    if job["status"] == "running":
        return f"running {job['progress']:.0f} %"
    return job["status"]


async def _server_alive(admin: AdminApp) -> bool:
    from stemtube.jobs import runner_alive

    return await runner_alive(admin.db)


# Logs.

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Lines of the file shown when the filter changes.
LOG_TAIL = 2000


def line_level(line: str) -> str | None:
    """The level of a log line (``2026-… 12:00:00,123 INFO [...] ...``)."""
    parts = line.split(" ", 3)
    return parts[2] if len(parts) > 2 and parts[2] in LEVELS else None


class LogsPane(Vertical):
    """The server's log file, followed like ``tail -f``, filtered."""

    BINDINGS = [  # noqa: RUF012
        Binding("f", "next_level", "Level"),
        Binding("slash", "search", "Search"),
        Binding("space", "pause", "Pause"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.min_level = "DEBUG"
        self.search_text = ""
        self.read_to = 0
        self.on_hold = False
        self.partial_line = ""

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    @property
    def path(self) -> Path:
        settings = self.admin.settings
        return log_dir(settings) / settings.logging.file

    def compose(self) -> ComposeResult:
        with Horizontal(classes="filters"):
            yield Select(
                [(level, level) for level in LEVELS],
                value="DEBUG",
                allow_blank=False,
                id="level",
                compact=True,
            )
            yield Input(placeholder="search (/)", id="search")
        yield Static("", classes="summary")
        yield RichLog(id="log", max_lines=5000, wrap=True, markup=False)

    def on_mount(self) -> None:
        self.show_tail()
        self.set_interval(0.5, self.follow)

    def keep(self, line: str) -> bool:
        level = line_level(line)
        if level is not None and LEVELS.index(level) < LEVELS.index(self.min_level):
            return False
        return not self.search_text or self.search_text.lower() in line.lower()

    def show_tail(self) -> None:
        """Show the end of the file through the filter, then follow it."""
        log = self.query_one(RichLog)
        log.clear()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        self.read_to = len(data)
        lines = data.decode("utf-8", "replace").splitlines()[-LOG_TAIL:]
        shown = [line for line in lines if self.keep(line)]
        for line in shown:
            log.write(line)
        self._describe()

    def follow(self) -> None:
        """Show what was written since the last look (a rotated file anew)."""
        if self.on_hold:
            return
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size < self.read_to:  # rotated: the new file from its start
            self.read_to = 0
        if size == self.read_to:
            return
        with self.path.open("rb") as file:
            file.seek(self.read_to)
            chunk = file.read(size - self.read_to)
        self.read_to = size
        text = self.partial_line + chunk.decode("utf-8", "replace")
        *lines, self.partial_line = text.split("\n")
        log = self.query_one(RichLog)
        for line in lines:
            if line and self.keep(line):
                log.write(line)

    def _describe(self) -> None:
        search = f", matching {self.search_text!r}" if self.search_text else ""
        state = "paused" if self.on_hold else "following"
        self.query_one(".summary", Static).update(
            f"{self.path.name}: {self.min_level} and above{search} · {state}"
        )

    def on_select_changed(self, event: Select.Changed) -> None:
        self.min_level = str(event.value)
        self.show_tail()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.search_text = event.value.strip()
        self.show_tail()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(RichLog).focus()

    def action_next_level(self) -> None:
        select = self.query_one("#level", Select)
        select.value = LEVELS[(LEVELS.index(self.min_level) + 1) % 4]

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_pause(self) -> None:
        self.on_hold = not self.on_hold
        if not self.on_hold:
            self.follow()
        self._describe()


# Health.


class HealthPane(Pane):
    COLUMNS = ("", "Part", "Detail")
    BINDINGS = [Binding("g", "reload", "Check again")]  # noqa: RUF012

    def on_mount(self) -> None:
        # The checks load every plugin (seconds): run when first looked at.
        self.checked = False

    def on_show(self) -> None:
        if not self.checked:
            self.checked = True
            self.run_worker(self.reload, exclusive=True, group="reload")

    async def reload(self) -> None:
        self.summary("Checking…")
        found = await asyncio.to_thread(checks, self.admin.settings)
        self.fill([(str(i), (c.mark, c.what, c.detail)) for i, c in enumerate(found)])
        problems = sum(c.ok is False for c in found)
        self.summary(
            "All good: StemTube can split songs."
            if not problems
            else f"{problems} problem(s): StemTube cannot split songs as set up."
        )

    async def action_reload(self) -> None:
        await self.reload()
