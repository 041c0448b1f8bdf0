"""``stemtube admin``: the admin console, a Textual app for the terminal.

It opens the server's own database and data folder, whether the server is
running or not, and acts through the core's functions. Jobs it queues or
cancels go through the jobs table to the server's runner
(``stemtube.jobs.DatabaseRunner``), which takes them in within a second.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, TabbedContent, TabPane

from stemtube import db as database
from stemtube import job_queue
from stemtube.admin_tui.panes import (
    HealthPane,
    JobsPane,
    LogsPane,
    StoragePane,
    UsersPane,
)
from stemtube.config import Settings

#: Tab id -> (title, key).
TABS = {
    "users": ("Users", "u"),
    "storage": ("Storage", "s"),
    "jobs": ("Jobs", "j"),
    "logs": ("Logs", "l"),
    "health": ("Health", "h"),
}


class AdminApp(App):
    """Users, storage, jobs, logs and health, one tab each."""

    TITLE = "StemTube admin"
    CSS_PATH = "admin.tcss"
    BINDINGS = [  # noqa: RUF012 - Textual's declaration style
        # The tabs' keys are in their titles; the footer keeps room for the
        # keys of the tab shown.
        *(
            Binding(key, f"show('{tab}')", title, show=False)
            for tab, (title, key) in TABS.items()
        ),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, settings: Settings, *, refresh_seconds: float = 2.0) -> None:
        super().__init__()
        self.settings = settings
        self.refresh_seconds = refresh_seconds
        self.db = None
        self.runner = None

    async def on_load(self) -> None:
        self.db = await database.connect(self.settings.data_dir / "stemtube.db")
        self.runner = job_queue.console_runner(self.db)

    def on_mount(self) -> None:
        self.action_show("users")

    async def on_unmount(self) -> None:
        if self.db is not None:
            await self.db.close()

    def compose(self) -> ComposeResult:
        yield Header()
        panes = {
            "users": UsersPane(),
            "storage": StoragePane(),
            "jobs": JobsPane(),
            "logs": LogsPane(),
            "health": HealthPane(),
        }
        with TabbedContent(initial="users"):
            for tab, (title, key) in TABS.items():
                yield TabPane(f"{title} ({key})", panes[tab], id=tab)
        yield Footer()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        # Behind a dialog the tabs stay put; the dialog has its own keys.
        tab_key = action in ("show", "quit")
        return not (tab_key and isinstance(self.screen, ModalScreen))

    def action_show(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        pane = self.query_one(f"#{tab}", TabPane)
        target = pane.query("DataTable, RichLog").first()
        target.focus()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for tab, (title, key) in TABS.items():
            yield SystemCommand(
                f"Show {title.lower()}",
                f"Switch to the {title} tab ({key})",
                lambda tab=tab: self.action_show(tab),
            )
        # TODO: also edit/delete user, delete song, reset stems, log filters.
        actions = [
            ("users", "add", "Add a user"),
            ("users", "password", "Reset the selected user's password"),
            ("storage", "clean", "Remove the stray files a cleanup would remove"),
            ("jobs", "retry", "Retry the selected job"),
            ("jobs", "cancel", "Cancel the selected job"),
            ("health", "reload", "Run the health checks again"),
        ]
        for tab, action, text in actions:
            yield SystemCommand(
                text, f"In the {TABS[tab][0]} tab", self._run(tab, action)
            )

    def _run(self, tab: str, action: str):
        async def run() -> None:
            self.action_show(tab)
            pane = self.query_one(f"#{tab} > *")
            await pane.run_action(action)

        return run


def run(settings: Settings) -> int:
    AdminApp(settings).run()
    return 0
