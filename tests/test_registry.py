"""The plugin manager: built-ins by entry point, broken plugins skipped."""

from __future__ import annotations

import dataclasses
import inspect
import logging
import types
from importlib import metadata
from pathlib import Path

import pytest

from stemtube import hookspecs
from stemtube.providers import CheckResult
from stemtube.registry import PluginRegistry


def test_builtin_plugins_are_found_through_the_entry_point_group(settings):
    registry = PluginRegistry(settings)
    assert registry.plugins["demucs"].status == "loaded"
    assert registry.plugins["upload"].status == "loaded"
    assert registry.models() == {
        "htdemucs": ["vocals", "drums", "bass", "other"],
        "htdemucs_6s": ["vocals", "drums", "bass", "other", "guitar", "piano"],
    }
    assert registry.file_source().name == "upload"


def test_a_disabled_plugin_is_not_loaded(settings):
    plugins = {**settings.plugins, "demucs": {"enabled": False}}
    registry = PluginRegistry(dataclasses.replace(settings, plugins=plugins))
    assert registry.plugins["demucs"].status == "disabled"
    assert registry.models() == {}


def test_a_plugin_that_fails_to_import_is_logged_and_skipped(
    settings, monkeypatch, caplog
):
    real = metadata.entry_points

    def with_a_broken_one(**kwargs):
        found = list(real(**kwargs))
        if kwargs.get("group") == "stemtube":
            found.append(
                metadata.EntryPoint("broken", "no_such_module_here", "stemtube")
            )
        return found

    monkeypatch.setattr(metadata, "entry_points", with_a_broken_one)
    with caplog.at_level(logging.ERROR):
        registry = PluginRegistry(settings)
    assert registry.plugins["broken"].status == "failed"
    assert "no_such_module_here" in registry.plugins["broken"].message
    assert "broken" in caplog.text
    assert registry.plugins["demucs"].status == "loaded"


class FailingSeparator:
    name = "failing"

    def models(self):
        return {"nothing": ["x"]}

    def check(self):
        return CheckResult(False, "the library is missing")


def _plugin(**hooks):
    module = types.SimpleNamespace()
    for name, function in hooks.items():
        setattr(module, name, hookspecs.hookimpl(function))
    return module


def test_a_provider_whose_check_fails_is_skipped(settings):
    def register_separators(settings):
        return [FailingSeparator()]

    registry = PluginRegistry(
        settings, modules={"failing": _plugin(register_separators=register_separators)}
    )
    assert registry.plugins["failing"].status == "failed"
    assert "the library is missing" in registry.plugins["failing"].message
    assert "nothing" not in registry.models()
    assert "htdemucs" in registry.models()


def test_a_hook_that_raises_only_takes_its_own_plugin_down(settings):
    def register_sources(settings):
        raise RuntimeError("boom")

    registry = PluginRegistry(
        settings, modules={"raising": _plugin(register_sources=register_sources)}
    )
    assert registry.plugins["raising"].status == "failed"
    assert registry.file_source() is not None


def test_lifecycle_hook_errors_are_logged_not_raised(settings, caplog):
    seen = []

    def extraction_finished(extraction):
        seen.append(extraction)
        raise ValueError("plugin bug")

    registry = PluginRegistry(
        settings, modules={"noisy": _plugin(extraction_finished=extraction_finished)}
    )
    with caplog.at_level(logging.ERROR):
        registry.notify("extraction_finished", extraction={"id": 1})
    assert seen == [{"id": 1}]
    assert "plugin bug" in caplog.text


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in dir(hookspecs)
        if n.startswith(("register_", "startup", "download_", "extraction_"))
    ],
)
def test_every_hook_has_a_one_line_docstring(name):
    doc = getattr(hookspecs, name).__doc__
    assert doc and "\n" not in doc.strip()


def test_every_hook_is_in_the_plugin_docs_with_its_signature():
    docs = (Path(__file__).parents[1] / "docs" / "plugins.md").read_text()
    hooks = [
        (name, value)
        for name, value in vars(hookspecs).items()
        if callable(value) and hasattr(value, "stemtube_spec")
    ]
    assert len(hooks) >= 8
    for name, function in hooks:
        parameters = ", ".join(inspect.signature(function).parameters)
        assert f"`{name}({parameters})`" in docs, name
