"""Logging to the console and to ``<data>/logs/<file>``, rotated by size."""

from __future__ import annotations

import logging
import logging.handlers
import sys

from stemtube.config import Settings, prepare_data_dir

FORMAT = "%(asctime)s %(levelname)s [%(processName)s] %(name)s: %(message)s"


def log_dir(settings: Settings):
    return settings.data_dir / "logs"


def configure_logging(settings: Settings, *, console: bool = True) -> None:
    """Send StemTube's log records to the log file and, if asked, to stderr."""
    prepare_data_dir(settings.data_dir)
    folder = log_dir(settings)
    folder.mkdir(exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_stemtube", False):
            root.removeHandler(handler)
            handler.close()
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(
            folder / settings.logging.file,
            maxBytes=10 * 2**20,
            backupCount=5,
            encoding="utf-8",
        )
    ]
    if console:
        handlers.append(logging.StreamHandler(sys.stderr))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler._stemtube = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(settings.logging.level.upper())
