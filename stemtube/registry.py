"""The plugin manager: finds plugins by entry point, loads and checks them.

Built-in plugins are found through the entry-point group ``stemtube`` like a
third party's. A plugin that is disabled in the settings is not imported; one
that fails to import, whose hook raises, or whose provider's ``check()``
fails is logged, recorded with the reason and skipped, so the server still
starts with the others.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from stemtube import hookspecs
from stemtube.config import Settings
from stemtube.providers import (
    Analyser,
    CheckResult,
    ChordBackend,
    FileSource,
    LyricsLookup,
    Separator,
    Source,
    Transcriber,
    VideoSource,
)

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "stemtube"


@dataclass
class PluginInfo:
    """One plugin as an admin sees it: loaded, disabled or failed, and why."""

    name: str
    version: str = ""
    status: str = "loaded"  # loaded | disabled | failed
    message: str = ""
    providers: list[str] = field(default_factory=list)


class PluginRegistry:
    """The loaded plugins and the providers they registered, by name."""

    def __init__(
        self,
        settings: Settings,
        *,
        entry_points: bool = True,
        modules: dict[str, ModuleType | object] | None = None,
        kinds: tuple[str, ...] = (
            "sources",
            "separators",
            "chords",
            "analysers",
            "lyrics",
        ),
    ) -> None:
        """Load the enabled plugins and collect their providers.

        ``kinds`` says which providers to collect and check: a worker that
        only separates asks for ``("separators",)`` and skips the others.
        """
        self.settings = settings
        self.kinds = kinds
        self.manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
        self.manager.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.sources: dict[str, Source] = {}
        self.separators: dict[str, Separator] = {}
        self._model_owner: dict[str, Separator] = {}
        self.chord_backends: dict[str, ChordBackend] = {}
        self.analysers: dict[str, Analyser] = {}
        self.lyrics_engines: dict[str, LyricsLookup | Transcriber] = {}

        if entry_points:
            self._load_entry_points()
        self._load_configured_modules()
        for name, module in (modules or {}).items():
            self._register(name, module, version="")
        self._collect()

    def _load_entry_points(self) -> None:
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self.plugins:
                continue
            version = ep.dist.version if ep.dist else ""
            if not self.settings.plugin_enabled(ep.name):
                self.plugins[ep.name] = PluginInfo(
                    ep.name, version, "disabled", "disabled in settings"
                )
                log.info("plugin %s is disabled in the settings", ep.name)
                continue
            try:
                module = ep.load()
            except Exception as exc:
                self._fail(ep.name, version, f"import failed: {exc!r}")
                continue
            self._register(ep.name, module, version)

    def _load_configured_modules(self) -> None:
        """Plugins named by ``[plugins.NAME] module = "dotted.path"``.

        A plugin that is not installed as a distribution (a local file on
        the server's path, a test's plugin) is loaded this way, in the server
        and in its workers alike.
        """
        for name, table in self.settings.plugins.items():
            dotted = table.get("module")
            if not dotted or name in self.plugins:
                continue
            if not self.settings.plugin_enabled(name):
                self.plugins[name] = PluginInfo(name, "", "disabled", "disabled")
                continue
            try:
                module = importlib.import_module(str(dotted))
            except Exception as exc:
                self._fail(name, "", f"import of {dotted!r} failed: {exc!r}")
                continue
            self._register(name, module, getattr(module, "__version__", ""))

    def _register(self, name: str, module: Any, version: str) -> None:
        try:
            self.manager.register(module, name=name)
        except Exception as exc:
            self._fail(name, version, f"registration failed: {exc!r}")
            return
        self.plugins[name] = PluginInfo(name, version)

    def _fail(self, name: str, version: str, message: str) -> None:
        log.error("plugin %s skipped: %s", name, message)
        self.plugins[name] = PluginInfo(name, version, "failed", message)

    def _collect(self) -> None:
        if "sources" in self.kinds:
            for plugin_name, provider in self._call("register_sources"):
                if self._checked(plugin_name, provider):
                    self.sources[provider.name] = provider
        if "separators" in self.kinds:
            for plugin_name, provider in self._call("register_separators"):
                if self._checked(plugin_name, provider):
                    self.separators[provider.name] = provider
                    for model in provider.models():
                        self._model_owner.setdefault(model, provider)
        if "chords" in self.kinds:
            for plugin_name, provider in self._call("register_chord_backends"):
                if self._checked(plugin_name, provider):
                    self.chord_backends.setdefault(provider.name, provider)
        if "analysers" in self.kinds:
            for plugin_name, provider in self._call("register_analysers"):
                if self._checked(plugin_name, provider):
                    self.analysers.setdefault(provider.name, provider)
        if "lyrics" in self.kinds:
            for plugin_name, provider in self._call("register_lyrics_engines"):
                if self._checked(plugin_name, provider):
                    self.lyrics_engines.setdefault(provider.name, provider)

    def _call(self, hook_name: str) -> list[tuple[str, Any]]:
        """Call one hook plugin by plugin, so one plugin's error stays its own."""
        found = []
        hook = getattr(self.manager.hook, hook_name)
        for impl in hook.get_hookimpls():
            name = self.manager.get_name(impl.plugin) or "?"
            try:
                providers = _call_impl(impl, settings=self.settings) or []
            except Exception as exc:
                self._fail(name, self.plugins[name].version, f"{hook_name}: {exc!r}")
                self.manager.unregister(impl.plugin)
                continue
            found.extend((name, provider) for provider in providers)
        return found

    def _checked(self, plugin_name: str, provider: Any) -> bool:
        info = self.plugins[plugin_name]
        label = getattr(provider, "name", repr(provider))
        try:
            result = provider.check()
        except Exception as exc:
            result = CheckResult(False, f"check raised {exc!r}")
        if not result.ok:
            info.status = "failed"
            info.message = f"{label}: {result.message}"
            log.error("plugin %s provider %s skipped: %s", plugin_name, label, result)
            return False
        info.providers.append(label)
        if result.message:
            info.message = f"{label}: {result.message}"
        return True

    # Lookups used by the core.

    def models(self) -> dict[str, list[str]]:
        """Every separation model offered, with its stems."""
        return {
            model: self._model_owner[model].models()[model]
            for model in sorted(self._model_owner)
        }

    def separator_for(self, model: str) -> Separator | None:
        """The separator that offers ``model``, if any is loaded."""
        return self._model_owner.get(model)

    def analyser_for(self, what: str) -> Analyser | None:
        """The first loaded analyser that provides ``what`` (``"rhythm"``...)."""
        for analyser in self.analysers.values():
            if what in analyser.provides:
                return analyser
        return None

    def file_source(self) -> FileSource | None:
        """The source that takes uploaded files, if one is loaded."""
        for source in self.sources.values():
            if isinstance(source, FileSource):
                return source
        return None

    def video_source(self) -> VideoSource | None:
        """The source that searches and fetches videos, if one is loaded."""
        for source in self.sources.values():
            if isinstance(source, VideoSource):
                return source
        return None

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call a lifecycle hook; a plugin's error is logged, never raised."""
        hook = getattr(self.manager.hook, hook_name)
        for impl in hook.get_hookimpls():
            try:
                _call_impl(impl, **kwargs)
            except Exception:
                name = self.manager.get_name(impl.plugin)
                log.exception("plugin %s failed in %s", name, hook_name)


def _call_impl(impl: Any, **kwargs: Any) -> Any:
    """Call one hook implementation with the arguments it declares."""
    return impl.function(**{name: kwargs[name] for name in impl.argnames})
