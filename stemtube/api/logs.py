"""Logs: errors sent by browsers, and the server's log files for admins."""

from __future__ import annotations

import logging
import time
import unicodedata
from collections import deque
from datetime import timedelta
from pathlib import Path

from quart import Blueprint, request, send_file
from quart_auth import current_user
from quart_rate_limiter import rate_limit
from quart_schema import validate_querystring

from stemtube.api import schemas
from stemtube.api.common import ApiError, admin_required, caller, state
from stemtube.api.files import content_disposition
from stemtube.logs import log_dir
from stemtube.server_config import LOG_LEVELS

log = logging.getLogger(__name__)
browser_log = logging.getLogger("stemtube.browser")
bp = Blueprint("logs", __name__)

LIMITS = {"message": 2000, "url": 500, "stack": 8000}


def _clean(value: object, limit: int) -> str:
    """Text for one log line: control characters escaped.

    No line break can fake another line, and no terminal escape reaches an
    admin who follows the log in a terminal.
    """
    text = value if isinstance(value, str) else ""
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp")
        else ch
        for ch in text[:limit]
    )


async def _per_user() -> str:
    """Limit browser events per user: behind a proxy all share one address."""
    return f"user:{current_user.auth_id or request.remote_addr}"


@bp.post("/api/logs/browser")
@rate_limit(60, timedelta(minutes=1), key_function=_per_user)
@schemas.body(schemas.BrowserEvent)
@schemas.answers(schemas.Logged)
async def browser_event(data: schemas.BrowserEvent):
    runtime = state().runtime
    level = data.level
    if level.upper() not in LOG_LEVELS:
        raise ApiError(
            400, "INVALID_LEVEL", f"level must be one of {', '.join(LOG_LEVELS)}"
        )
    number = logging.getLevelName(level.upper())
    wanted = logging.getLevelName(runtime["browser_log_level"])
    if not runtime["browser_logging_enabled"] or number < wanted:
        return {"success": True, "logged": False}
    browser_log.log(
        number,
        "%s at %s: %s | %s",
        caller().username,
        _clean(data.url, LIMITS["url"]),
        _clean(data.message, LIMITS["message"]),
        _clean(data.stack, LIMITS["stack"]),
    )
    return {"success": True, "logged": True}


def _log_files() -> dict[str, Path]:
    """The log folder's files by name (rotated ones included)."""
    folder = log_dir(state().settings)
    if not folder.is_dir():
        return {}
    return {
        p.name: p
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.is_symlink()
    }


def _log_file(filename: str) -> Path:
    """A file of the log folder by its exact name; anything else is a 404."""
    path = _log_files().get(filename)
    if path is None:
        log.warning(
            "admin %s asked for a log file that is not there: %r",
            caller().username,
            filename[:100],
        )
        raise ApiError(404, "LOG_NOT_FOUND", "No log file of that name")
    return path


@bp.get("/api/logs/list")
@admin_required
@schemas.answers(schemas.LogFiles)
async def list_logs():
    return {
        "logs": [
            {
                "filename": name,
                "size": path.stat().st_size,
                "modified": time.strftime(
                    "%Y-%m-%dT%H:%M:%S", time.gmtime(path.stat().st_mtime)
                ),
            }
            for name, path in _log_files().items()
        ]
    }


@bp.get("/api/logs/view/<filename>")
@admin_required
@validate_querystring(schemas.LogLines)
@schemas.answers(schemas.LogView)
async def view_log(filename: str, query_args: schemas.LogLines):
    path = _log_file(filename)
    with open(path, encoding="utf-8", errors="replace") as f:
        last = deque(f, maxlen=query_args.lines)
    return {"filename": filename, "content": "".join(last), "lines_shown": len(last)}


@bp.get("/api/logs/download/<filename>")
@admin_required
async def download_log(filename: str):
    path = _log_file(filename)
    response = await send_file(path, mimetype="text/plain")
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response
