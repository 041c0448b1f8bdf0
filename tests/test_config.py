"""Settings: defaults, the shipped file, and clear errors naming the bad key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from stemtube.config import ConfigError, Settings, load_settings

REPO = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stemtube.toml"
    path.write_text(text)
    return path


def test_the_shipped_file_holds_exactly_the_defaults():
    shipped = load_settings(REPO / "stemtube.toml")
    defaults = Settings()
    for section in ("server", "auth", "jobs", "separation", "logging"):
        assert getattr(shipped, section) == getattr(defaults, section), section
    assert shipped.storage.data_dir == REPO / "data"
    assert shipped.storage.max_upload_mb == defaults.storage.max_upload_mb


def test_every_key_of_the_shipped_file_is_commented():
    lines = (REPO / "stemtube.toml").read_text().splitlines()
    for number, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            assert lines[number - 1].lstrip().startswith("#"), line


def test_relative_data_dir_is_relative_to_the_settings_file(tmp_path):
    settings = load_settings(write(tmp_path, '[storage]\ndata_dir = "here"\n'))
    assert settings.data_dir == tmp_path / "here"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[server]\nprot = 5011\n", "[server] prot"),
        ("[server]\nport = 'x'\n", "[server] port"),
        ("[server]\nport = 70000\n", "[server] port"),
        ("[sever]\nport = 1\n", "[sever]"),
        ("[separation]\ndevice = 'tpu'\n", "[separation] device"),
        ("[storage]\nmax_upload_mb = true\n", "[storage] max_upload_mb"),
        ("[plugins.demucs]\nenabled = 'yes'\n", "[plugins.demucs] enabled"),
        ("[server\n", "not valid TOML"),
    ],
)
def test_a_bad_key_is_named_in_the_error(tmp_path, text, named):
    with pytest.raises(
        ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")
    ):
        load_settings(write(tmp_path, text))


def test_the_file_is_found_by_option_then_environment(tmp_path, monkeypatch):
    by_env = write(tmp_path, "[server]\nport = 6000\n")
    monkeypatch.setenv("STEMTUBE_CONFIG", str(by_env))
    assert load_settings().server.port == 6000
    other = tmp_path / "other.toml"
    other.write_text("[server]\nport = 7000\n")
    assert load_settings(other).server.port == 7000
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml")


def test_plugins_are_enabled_unless_turned_off(tmp_path):
    settings = load_settings(
        write(tmp_path, "[plugins.demucs]\nenabled = false\n[plugins.x]\nk = 1\n")
    )
    assert not settings.plugin_enabled("demucs")
    assert settings.plugin_enabled("upload")
    assert settings.plugin_settings("x") == {"k": 1}
    assert dataclasses.is_dataclass(settings)
