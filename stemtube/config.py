"""Settings: read ``stemtube.toml``, check every key, give typed settings.

The file is optional; every key has a default. A key that is unknown, or a
value of the wrong type or out of range, stops the program with a message
that names the key, so a typo never passes silently.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_ENV = "STEMTUBE_CONFIG"
DEFAULT_FILE = "stemtube.toml"


class ConfigError(ValueError):
    """A settings file that cannot be used, with the key at fault named."""


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 5011
    #: Signs session cookies. Empty: generated once and kept in the data folder.
    secret_key: str = ""
    #: Send cookies only over HTTPS; turn on behind a TLS reverse proxy.
    secure_cookies: bool = False
    #: Extra origins (scheme://host:port) allowed to send state-changing requests.
    trusted_origins: list[str] = field(default_factory=list)
    #: Believe X-Forwarded-Proto/-Host; only behind a proxy that sets them.
    trust_proxy_headers: bool = False
    #: Serve HTTPS with this certificate chain and private key (PEM files);
    #: both or neither. Relative paths are relative to the settings file.
    tls_certfile: str = ""
    tls_keyfile: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ValueError("must be between 1 and 65535")
        if bool(self.tls_certfile) != bool(self.tls_keyfile):
            raise ValueError("tls_certfile and tls_keyfile must be set together")

    @property
    def tls(self) -> bool:
        return bool(self.tls_certfile)


@dataclass(frozen=True)
class StorageSettings:
    data_dir: Path = Path("data")
    max_upload_mb: int = 500

    def __post_init__(self) -> None:
        if self.max_upload_mb < 1:
            raise ValueError("must be at least 1")


@dataclass(frozen=True)
class AuthSettings:
    #: Failed and successful logins allowed per client address each minute.
    login_attempts_per_minute: int = 10
    #: How long a "remember me" session lasts.
    session_days: int = 30

    def __post_init__(self) -> None:
        if self.login_attempts_per_minute < 1 or self.session_days < 1:
            raise ValueError("must be at least 1")


@dataclass(frozen=True)
class JobSettings:
    #: Extractions run at the same time, each in its own worker process.
    extraction_workers: int = 1
    #: CPU threads per worker; 0 uses every core.
    threads: int = 0
    #: Songs fetched from a video site at the same time.
    download_workers: int = 2
    #: Songs analysed (beats, chords, key) at the same time.
    analysis_workers: int = 1
    #: How long POST .../chords/regenerate waits for its job before it
    #: answers 202 and lets the job finish on its own.
    regenerate_wait_seconds: float = 120.0
    #: A job still running after this many minutes is stopped and fails
    #: with TIMED_OUT (a plugin that hangs); 0 sets no limit.
    timeout_minutes: float = 180.0

    def __post_init__(self) -> None:
        if (
            self.timeout_minutes < 0
            or self.extraction_workers < 1
            or self.threads < 0
            or self.download_workers < 1
            or self.analysis_workers < 1
            or self.regenerate_wait_seconds < 0
        ):
            raise ValueError("out of range")


@dataclass(frozen=True)
class SeparationSettings:
    default_model: str = "htdemucs"
    #: "auto" (CUDA when available), "cpu" or "cuda".
    device: str = "auto"
    #: Random time shifts averaged by demucs; more is slower and slightly better.
    shifts: int = 1
    overlap: float = 0.25
    #: "PCM_16" (half the size) or "FLOAT" (bit-exact model output, no clipping).
    wav_format: str = "PCM_16"

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError('must be "auto", "cpu" or "cuda"')
        if self.wav_format not in ("PCM_16", "FLOAT"):
            raise ValueError('must be "PCM_16" or "FLOAT"')
        if self.shifts < 0 or not 0 <= self.overlap < 1:
            raise ValueError("out of range")


@dataclass(frozen=True)
class AnalysisSettings:
    #: What chords are found on once a song is split: "stems" (the harmonic
    #: stems, without vocals and drums) or "mix" (the whole song).
    chords_from: str = "stems"
    #: Lyric engines in the order they are tried (lookups by title first,
    #: then the transcriber of the vocals stem, which also times the words).
    lyrics_engines: list[str] = field(
        default_factory=lambda: ["lrclib", "faster_whisper"]
    )

    def __post_init__(self) -> None:
        if self.chords_from not in ("stems", "mix"):
            raise ValueError('must be "stems" or "mix"')
        if not all(isinstance(e, str) for e in self.lyrics_engines):
            raise ValueError("lyrics_engines must be a list of engine names")


@dataclass(frozen=True)
class LoggingSettings:
    level: str = "INFO"
    #: Log file name inside <data_dir>/logs/.
    file: str = "stemtube.log"

    def __post_init__(self) -> None:
        if self.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        if Path(self.file).name != self.file:
            raise ValueError("must be a plain file name")


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    jobs: JobSettings = field(default_factory=JobSettings)
    separation: SeparationSettings = field(default_factory=SeparationSettings)
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    #: ``[plugins.NAME]`` tables: ``enabled`` plus the plugin's own keys.
    plugins: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The file these settings came from, if any.
    source: Path | None = None

    @property
    def data_dir(self) -> Path:
        return self.storage.data_dir

    def plugin_enabled(self, name: str) -> bool:
        """Plugins are on unless their table says ``enabled = false``."""
        return bool(self.plugins.get(name, {}).get("enabled", True))

    def plugin_settings(self, name: str) -> dict[str, Any]:
        """The plugin's own keys, without ``enabled`` and ``module``."""
        table = self.plugins.get(name, {})
        return {k: v for k, v in table.items() if k not in ("enabled", "module")}

    def replace(self, **sections: Any) -> Settings:
        """A copy with whole sections replaced, for tests and the CLI."""
        return dataclasses.replace(self, **sections)


_SECTIONS = {
    f.name: f.default_factory
    for f in dataclasses.fields(Settings)
    if f.name not in ("plugins", "source")
}


def prepare_data_dir(path: Path) -> None:
    """Create the data folder, readable by its owner only.

    It holds the database with password hashes, the session secret and the
    log; a folder we own that others can read is closed to them.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
        path.chmod(0o700)


def find_config_file(explicit: str | os.PathLike | None = None) -> Path | None:
    """The settings file to read: ``--config``, then $STEMTUBE_CONFIG, then ./."""
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"settings file not found: {path}")
        return path
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        path = Path(from_env)
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV} names a missing file: {path}")
        return path
    local = Path(DEFAULT_FILE)
    return local if local.is_file() else None


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Read and check the settings file; defaults where there is none."""
    config_file = find_config_file(path)
    if config_file is None:
        return settings_from_dict({}, base_dir=Path.cwd())
    try:
        raw = tomllib.loads(config_file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_file}: not valid TOML: {exc}") from None
    settings = settings_from_dict(
        raw, base_dir=config_file.resolve().parent, origin=str(config_file)
    )
    return dataclasses.replace(settings, source=config_file.resolve())


def settings_from_dict(
    raw: dict[str, Any], base_dir: Path, origin: str = "settings"
) -> Settings:
    """Build settings from parsed TOML; relative data_dir is under ``base_dir``."""
    sections: dict[str, Any] = {}
    for name, table in raw.items():
        if name == "plugins":
            continue
        if name not in _SECTIONS:
            known = ", ".join(sorted([*_SECTIONS, "plugins"]))
            raise ConfigError(f"{origin}: unknown section [{name}] (known: {known})")
        if not isinstance(table, dict):
            raise ConfigError(f"{origin}: [{name}] must be a table")
        sections[name] = _build_section(name, table, origin)

    plugins = raw.get("plugins", {})
    if not isinstance(plugins, dict) or not all(
        isinstance(v, dict) for v in plugins.values()
    ):
        raise ConfigError(f"{origin}: plugins must be [plugins.NAME] tables")
    for name, table in plugins.items():
        if "enabled" in table and not isinstance(table["enabled"], bool):
            raise ConfigError(f"{origin}: [plugins.{name}] enabled must be true/false")

    settings = Settings(**sections, plugins=plugins)
    data_dir = settings.storage.data_dir.expanduser()
    if not data_dir.is_absolute():
        data_dir = base_dir / data_dir
    storage = dataclasses.replace(settings.storage, data_dir=data_dir.resolve())
    server = settings.server
    if server.tls:
        server = dataclasses.replace(
            server,
            tls_certfile=str(_under(base_dir, server.tls_certfile)),
            tls_keyfile=str(_under(base_dir, server.tls_keyfile)),
        )
    return dataclasses.replace(settings, storage=storage, server=server)


def _under(base_dir: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _build_section(name: str, table: dict[str, Any], origin: str) -> Any:
    cls = _SECTIONS[name]().__class__
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in table.items():
        if key not in hints:
            known = ", ".join(hints)
            raise ConfigError(
                f"{origin}: unknown key [{name}] {key} (known keys: {known})"
            )
        values[key] = _coerce(hints[key], value, f"{origin}: [{name}] {key}")
    try:
        return cls(**values)
    except ValueError as exc:
        bad = ", ".join(values) or "values"
        raise ConfigError(f"{origin}: [{name}] {bad}: {exc}") from None


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is Path:
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where} must be a path string")
        return Path(value)
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list) or not all(isinstance(v, item) for v in value):
            raise ConfigError(f"{where} must be a list of {item.__name__}")
        return list(value)
    if origin is types.UnionType:
        raise ConfigError(f"{where} cannot be set")  # pragma: no cover
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, bool):
        raise ConfigError(f"{where} must be an integer, got {value!r}")
    if not isinstance(value, hint):
        raise ConfigError(f"{where} must be {hint.__name__}, got {value!r}")
    return value
