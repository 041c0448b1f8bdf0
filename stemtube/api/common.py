"""What every blueprint shares: the app state, the caller, errors as JSON."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

import aiosqlite
from quart import Request, current_app, g

from stemtube.config import Settings
from stemtube.registry import PluginRegistry
from stemtube.users import User

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


class ApiError(Exception):
    """An error answered as ``{"error": message, "code": code}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


@dataclass
class AppState:
    """Everything a request handler needs, created once per app."""

    settings: Settings
    registry: PluginRegistry
    db: aiosqlite.Connection | None = None
    runner: Any = None
    emit: Callable[[str, dict, list[int]], Awaitable[None]] | None = None
    #: Held while deciding whether a request queues an extraction, so that
    #: simultaneous requests for the same extraction queue one job.
    queue_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Waveform peaks are computed for one song at a time.
    peaks_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: What admins changed from the browser over the settings file
    #: (``stemtube.server_config``), loaded at start.
    runtime: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


async def queue_job(kind: str, target_id: int) -> None:
    """Mark a download or extraction as waiting, then queue its job."""
    from stemtube import job_queue

    await job_queue.queue_item(db(), state().runner, kind, target_id)


async def cancel_job(kind: str, target_id: int) -> None:
    """Stop the queued or running job of an item, if it has one."""
    from stemtube import housekeeping

    await housekeeping.stop_work(db(), state().runner, kind, target_id)


def state() -> AppState:
    return current_app.extensions["stemtube"]


def db() -> aiosqlite.Connection:
    return state().db


def caller() -> User:
    """The logged-in user of this request (the auth hook guarantees one)."""
    return g.user


def public(view: F) -> F:
    """Mark a view as callable without logging in."""
    view.stemtube_public = True  # type: ignore[attr-defined]
    return view


def admin_required(view: F) -> F:
    """Answer 403 unless the caller is an admin."""

    @wraps(view)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not caller().is_admin:
            raise ApiError(403, "ADMIN_REQUIRED", "Admin access required")
        return await view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class JsonRequest(Request):
    """Quart's request, with the JSON body read the way every route expects.

    An empty body is ``{}`` (a route whose fields are all optional may be
    called without one), the content type is not required, and a body that
    is not JSON is a 400 INVALID_JSON. quart-schema's ``validate_request``
    reads the body through this.
    """

    async def get_json(
        self, force: bool = False, silent: bool = False, cache: bool = True
    ) -> Any:
        raw = await self.get_data(as_text=False)
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw.decode("utf-8"))
            # A lone surrogate ("\ud800", half an emoji) is valid JSON but no
            # text: SQLite, file names and hashing would fail on it later.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
            return data
        except UnicodeEncodeError:
            raise ApiError(
                400, "INVALID_JSON", "The request body holds text that is not Unicode."
            ) from None
        except (UnicodeDecodeError, ValueError):
            raise ApiError(
                400, "INVALID_JSON", "The request body is not valid JSON."
            ) from None
        except RecursionError:
            raise ApiError(
                400, "INVALID_JSON", "The request body is nested too deeply."
            ) from None
