"""A separator that knows the test songs' real vocals (``[plugins.NAME] module``).

For the songs of tests/data/songs it returns the true vocals part and the
rest of the mix; for anything else, silent vocals. Lyrics tests use it so
that the vocals stem is what a good separator would give.
"""

from __future__ import annotations

import numpy as np

from stemtube import media
from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult

from support import TEST_DATA


class TruthSeparator:
    name = "truth"

    def models(self) -> dict[str, list[str]]:
        return {"truth": ["vocals", "other"]}

    def check(self) -> CheckResult:
        return CheckResult(True)

    def ensure_model(self, model, progress=None) -> None:
        pass

    def separate(self, audio, model, *, device, progress=None) -> dict:
        vocals = np.zeros_like(audio)
        for path in (TEST_DATA / "songs").glob("*/vocals.ogg"):
            known = media.decode(path)
            if abs(known.shape[1] - audio.shape[1]) < 4410:
                vocals = media.fit_length(known, audio.shape[1])
                break
        return {"vocals": vocals, "other": audio - vocals}


@hookimpl
def register_separators(settings):
    return [TruthSeparator()]
