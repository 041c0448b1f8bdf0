"""What the console's main screens look like in an 80×24 terminal, compared
with the snapshots under __snapshots__/ (update them on purpose with
``pytest tests/tui --snapshot-update``)."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Input

from stemtube.admin_tui.app import AdminApp

from support import TEST_DATA, LiveServer, make_settings, upload


@pytest.fixture
def settings(tmp_path, tiny_models):
    """A data folder with two users and Alice's upload, the server stopped."""
    settings = make_settings(tmp_path / "data", tiny_models)

    async def prepare() -> None:
        server = LiveServer(settings)
        await server.start()
        try:
            await server.add_user("root", admin=True)
            await server.add_user("alice")
            alice = await server.login("alice")
            status, _ = await upload(alice, TEST_DATA / "real" / "robin.ogg")
            assert status == 200
        finally:
            await server.stop()

    asyncio.run(prepare())
    return settings


@pytest.mark.parametrize("keys", [["u"], ["s"], ["j"], ["u", "a"]])
def test_the_main_screens(snap_compare, settings, keys):
    async def settle(pilot) -> None:
        await pilot.pause()
        await pilot.press(*keys)
        await pilot.pause(0.5)
        # A blinking cursor would make the picture depend on the moment.
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    app = AdminApp(settings, refresh_seconds=60)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)
