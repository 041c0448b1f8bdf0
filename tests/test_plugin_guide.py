"""docs/plugins.md documents every hook and every provider method, each with
the signature the code has: a new hook or a changed method fails here until
the guide says so."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from stemtube import hookspecs, providers

GUIDE = (Path(__file__).parents[1] / "docs" / "plugins.md").read_text()

PROTOCOLS = [
    providers.Source,
    providers.FileSource,
    providers.VideoSource,
    providers.Separator,
    providers.ChordBackend,
    providers.Analyser,
    providers.LyricsLookup,
    providers.Transcriber,
]


def written(function) -> str:
    """A signature as the guide writes it: names, `*`, defaults by name."""
    parts = []
    star = False
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name == "self":
            continue
        if parameter.kind is parameter.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        text = parameter.name
        if parameter.default is not parameter.empty:
            default = parameter.default
            text += "=" + getattr(default, "__name__", repr(default))
        parts.append(text)
    return f"{function.__name__}({', '.join(parts)})"


def hooks() -> list:
    return [
        function
        for name, function in vars(hookspecs).items()
        if callable(function) and hasattr(function, "stemtube_spec")
    ]


def methods() -> list[tuple[str, object]]:
    found = []
    for protocol in PROTOCOLS:
        for name, member in vars(protocol).items():
            if callable(member) and not name.startswith("_"):
                found.append((protocol.__name__, member))
    return found


def test_the_lists_are_not_empty():
    assert len(hooks()) == 8
    assert ("Separator", providers.Separator.separate) in methods()


@pytest.mark.parametrize("hook", hooks(), ids=lambda h: h.__name__)
def test_every_hook_is_in_the_guide_with_its_signature(hook):
    expected = written(hook)
    shown = re.findall(rf"\b{hook.__name__}\([^)]*\)", GUIDE)
    assert shown, f"{hook.__name__} is not in docs/plugins.md"
    assert set(shown) == {expected}, f"docs/plugins.md has {shown}, code {expected}"


@pytest.mark.parametrize(
    ("protocol", "method"), methods(), ids=lambda v: getattr(v, "__name__", v)
)
def test_every_provider_method_is_in_the_guide_with_its_signature(protocol, method):
    expected = f"{protocol}.{written(method)}"
    shown = re.findall(rf"\b{protocol}\.{method.__name__}\([^)]*\)", GUIDE)
    assert shown, f"{protocol}.{method.__name__} is not in docs/plugins.md"
    assert set(shown) == {expected}, f"docs/plugins.md has {shown}, code {expected}"
