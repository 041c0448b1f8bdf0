"""Schemathesis fuzzes every operation of /openapi.json: no server error.

It runs as its own program against the real app on a loopback port, logged
in as an admin so that admin routes are reached too.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest

from youtube_fake import AudioServer, recorded_extractors

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.mark.skipif(
    not SCHEMATHESIS.exists() and shutil.which("schemathesis") is None,
    reason="needs schemathesis (the test extras)",
)
async def test_no_generated_request_causes_a_server_error(live_server, tmp_path):
    with AudioServer() as audio:
        # Searches and downloads answer from recordings, never from YouTube.
        source = live_server.app.state.registry.sources["youtube"]
        source.extractors = recorded_extractors(audio)
        await live_server.add_user("root", admin=True)
        session = await live_server.login("root")
        cookie = "; ".join(f"{c.key}={c.value}" for c in session.cookie_jar)

        program = await asyncio.create_subprocess_exec(
            str(SCHEMATHESIS if SCHEMATHESIS.exists() else "schemathesis"),
            "run",
            f"{live_server.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "15",
            "--seed",
            "1",
            "--workers",
            "1",
            "-H",
            f"Cookie: {cookie}",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=tmp_path,  # its cache of findings stays out of the repository
        )
        output, _ = await asyncio.wait_for(program.communicate(), 600)

    text = output.decode(errors="replace")
    assert program.returncode == 0, text[-5000:]
    assert " passed" in text
