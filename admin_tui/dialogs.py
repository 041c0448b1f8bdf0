"""The console's dialogs: a yes/no question, and the user forms.

A form runs its action itself (``submit(values)`` returns the error to show,
or None), so a refused name or a weak password is shown in the form and the
admin corrects it without typing everything again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static

Submit = Callable[[dict], Awaitable[str | None]]


class Confirm(ModalScreen[bool]):
    """Asks a yes/no question; dismissed with the answer."""

    BINDINGS = [  # noqa: RUF012 - Textual's declaration style
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="question")
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class _Box(Checkbox, inherit_bindings=False):
    """A checkbox that Space toggles; Enter saves its form, as on the inputs."""

    BINDINGS = [Binding("space", "toggle_button", "Toggle", show=False)]  # noqa: RUF012


class _Form(ModalScreen[bool]):
    """A dialog of inputs; Enter submits, Escape cancels."""

    BINDINGS = [  # noqa: RUF012
        Binding("escape", "cancel", "Cancel"),
        Binding("enter", "save_form", "Save", show=False),
    ]

    def __init__(self, title: str, submit: Submit) -> None:
        super().__init__()
        self.title_text = title
        self.submit = submit

    def fields(self) -> ComposeResult:
        yield from ()

    def values(self) -> dict:
        return {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="question")
            yield from self.fields()
            yield Static("", id="form-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Save (Enter)", id="save", variant="primary")
                yield Button("Cancel (Esc)", id="cancel")

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            await self.save()
        else:
            self.dismiss(False)

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        await self.save()

    async def save(self) -> None:
        error = await self.submit(self.values())
        if error:
            self.query_one("#form-error", Static).update(error)
        else:
            self.dismiss(True)

    async def action_save_form(self) -> None:
        await self.save()

    def action_cancel(self) -> None:
        self.dismiss(False)


def _same_password(values: dict) -> str | None:
    if values["password"] != values["again"]:
        return "The two passwords differ."
    return None


class UserForm(_Form):
    """Add a user (name, role, password typed twice) or edit one (name, role)."""

    def __init__(
        self,
        submit: Submit,
        *,
        username: str = "",
        is_admin: bool = False,
        adding: bool = True,
    ) -> None:
        title = "Add a user" if adding else f"Edit {username}"
        super().__init__(title, submit)
        self.username = username
        self.is_admin = is_admin
        self.adding = adding

    def fields(self) -> ComposeResult:
        yield Input(self.username, placeholder="login name", id="username")
        yield _Box("Admin", self.is_admin, id="is-admin")
        if self.adding:
            yield Input(placeholder="password", password=True, id="password")
            yield Input(placeholder="password again", password=True, id="again")

    def values(self) -> dict:
        values = {
            "username": self.query_one("#username", Input).value.strip(),
            "is_admin": self.query_one("#is-admin", Checkbox).value,
        }
        if self.adding:
            values["password"] = self.query_one("#password", Input).value
            values["again"] = self.query_one("#again", Input).value
        return values

    async def save(self) -> None:
        values = self.values()
        mismatch = _same_password(values) if self.adding else None
        if mismatch:
            self.query_one("#form-error", Static).update(mismatch)
            return
        await super().save()


class PasswordForm(_Form):
    """A new password, typed twice and hidden."""

    def __init__(self, username: str, submit: Submit) -> None:
        super().__init__(f"New password for {username}", submit)

    def fields(self) -> ComposeResult:
        yield Input(placeholder="new password", password=True, id="password")
        yield Input(placeholder="new password again", password=True, id="again")

    def values(self) -> dict:
        return {
            "password": self.query_one("#password", Input).value,
            "again": self.query_one("#again", Input).value,
        }

    async def save(self) -> None:
        mismatch = _same_password(self.values())
        if mismatch:
            self.query_one("#form-error", Static).update(mismatch)
            return
        await super().save()
