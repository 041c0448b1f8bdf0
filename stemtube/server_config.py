"""Settings an admin changes from the browser, kept in the database.

They start from ``stemtube.toml`` and apply at once, without a restart; the
file stays as it was (it is the admin's, and may be read-only). Each key has
a checker that refuses a wrong value with a stable code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiosqlite

from stemtube.config import Settings
from stemtube.db import fetch_rows

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigValueError(ValueError):
    """A value an admin sent that cannot be used, with a stable code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def defaults(settings: Settings) -> dict[str, Any]:
    """Every key an admin may change, with its value from the settings file."""
    return {
        "default_model": settings.separation.default_model,
        "default_chord_backend": None,
        "browser_logging_enabled": False,
        "browser_log_level": "ERROR",
    }


def checkers(models: list[str], chord_backends: list[str]) -> dict[str, Callable]:
    """key -> function that returns the value to store or raises."""

    def model(value: Any) -> str:
        if not isinstance(value, str):
            raise ConfigValueError("INVALID_VALUE", "must be a model name (text)")
        if value not in models:
            raise ConfigValueError(
                "UNKNOWN_MODEL",
                f"must be one of: {', '.join(models) or 'none loaded'}",
            )
        return value

    def chord_backend(value: Any) -> str | None:
        if value is not None and value not in chord_backends:
            raise ConfigValueError(
                "UNKNOWN_CHORD_BACKEND",
                f"must be one of: {', '.join(chord_backends) or 'none loaded'}",
            )
        return value

    def flag(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ConfigValueError("INVALID_VALUE", "must be true or false")
        return value

    def level(value: Any) -> str:
        if not isinstance(value, str) or value.upper() not in LOG_LEVELS:
            raise ConfigValueError(
                "INVALID_VALUE", f"log level must be one of {', '.join(LOG_LEVELS)}"
            )
        return value.upper()

    return {
        "default_model": model,
        "default_chord_backend": chord_backend,
        "browser_logging_enabled": flag,
        "browser_log_level": level,
    }


async def load(db: aiosqlite.Connection, settings: Settings) -> dict[str, Any]:
    """The settings file's values, with what admins stored over them."""
    values = defaults(settings)
    for key, value in await fetch_rows(db, "SELECT key, value FROM config"):
        if key in values:
            values[key] = json.loads(value)
    return values


async def store(db: aiosqlite.Connection, values: dict[str, Any]) -> None:
    await db.executemany(
        "INSERT INTO config (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [(key, json.dumps(value)) for key, value in values.items()],
    )
    await db.commit()
