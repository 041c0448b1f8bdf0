"""Separators that break the rules, one way each (``[plugins.NAME] module``).

Each model misbehaves differently: ``raising`` raises, ``hanging`` never
returns, ``misshapen`` answers mono stems of half the length, ``escaping``
writes a file into ``..`` (the plugins folder) before answering well.
"""

from __future__ import annotations

import time
from pathlib import Path

from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult


class Misbehaving:
    name = "misbehaving"

    def models(self) -> dict[str, list[str]]:
        stems = ["vocals", "other"]
        return {m: stems for m in ("raising", "hanging", "misshapen", "escaping")}

    def check(self) -> CheckResult:
        return CheckResult(True)

    def ensure_model(self, model, progress=None) -> None:
        pass

    def separate(self, audio, model, *, device, progress=None) -> dict:
        if model == "raising":
            raise RuntimeError("the plugin broke")
        if model == "hanging":
            time.sleep(600)
        if model == "misshapen":
            half = audio[0, : audio.shape[1] // 2]
            return {"vocals": half, "other": half}
        Path("../escaped.txt").write_text("outside my folder")
        return {"vocals": audio * 0.5, "other": audio * 0.5}


@hookimpl
def register_separators(settings):
    return [Misbehaving()]
