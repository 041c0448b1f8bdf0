"""The demucs separator: htdemucs (4 stems) and htdemucs_6s (6 stems).

Models are loaded and applied by the ``demucs`` package's own code
(``demucs.api.Separator``), so the stems are exactly what demucs makes.
Weights live in ``<data>/models/demucs/`` in demucs's own repository layout
(``<signature>-<sha256 prefix>.th`` plus one ``<model>.yaml`` per model); when
missing they are downloaded from demucs's official address with a checksum.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult, ProgressFn, ProviderError, no_progress

log = logging.getLogger(__name__)

PLUGIN_NAME = "demucs"
#: Where demucs itself downloads its published weights from.
OFFICIAL_URL = "https://dl.fbaipublicfiles.com/demucs/"
MODELS: dict[str, list[str]] = {
    "htdemucs": ["vocals", "drums", "bass", "other"],
    "htdemucs_6s": ["vocals", "drums", "bass", "other", "guitar", "piano"],
}


class DemucsSeparator:
    """Separator provider backed by the demucs package."""

    name = PLUGIN_NAME

    def __init__(
        self,
        models_dir: Path,
        *,
        base_url: str = OFFICIAL_URL,
        allow_download: bool = True,
        shifts: int = 1,
        overlap: float = 0.25,
        threads: int = 0,
    ) -> None:
        self.models_dir = models_dir
        self.base_url = base_url.rstrip("/") + "/"
        self.allow_download = allow_download
        self.shifts = shifts
        self.overlap = overlap
        self.threads = threads
        self._loaded: dict[tuple[str, str], Any] = {}

    def models(self) -> dict[str, list[str]]:
        return {name: list(stems) for name, stems in MODELS.items()}

    def check(self) -> CheckResult:
        try:
            import demucs.api  # noqa: F401
            import torch  # noqa: F401
        except ImportError as exc:
            return CheckResult(False, f"demucs cannot be imported: {exc}")
        missing = [m for m in MODELS if not self.has_weights(m)]
        if missing and not self.allow_download:
            return CheckResult(
                True,
                f"weights missing for {', '.join(missing)}; downloads are off, "
                "use `stemtube models import FILE`",
            )
        if missing:
            return CheckResult(
                True, f"weights for {', '.join(missing)} download on first use"
            )
        return CheckResult(True)

    # Weights.

    def signatures(self, model: str) -> list[str]:
        """The demucs signatures a model name stands for (from demucs's yaml)."""
        yaml_file = self.models_dir / f"{model}.yaml"
        if not yaml_file.is_file():
            yaml_file = _demucs_remote_dir() / f"{model}.yaml"
        return _yaml_signatures(yaml_file)

    def weight_file(self, signature: str) -> Path | None:
        """The local weights file for a signature, if present."""
        if not self.models_dir.is_dir():
            return None
        for path in self.models_dir.glob(f"{signature}*.th"):
            if path.stem == signature or path.stem.startswith(f"{signature}-"):
                return path
        return None

    def has_weights(self, model: str) -> bool:
        """Whether every weights file of ``model`` is in the models folder."""
        return all(self.weight_file(sig) for sig in self.signatures(model))

    def ensure_model(self, model: str, progress: ProgressFn = no_progress) -> None:
        if model not in MODELS:
            raise ProviderError("UNKNOWN_MODEL", f"demucs has no model {model!r}.")
        self.models_dir.mkdir(parents=True, exist_ok=True)
        yaml_file = self.models_dir / f"{model}.yaml"
        if not yaml_file.exists():
            shutil.copyfile(_demucs_remote_dir() / f"{model}.yaml", yaml_file)
        published = _published_files()
        for signature in self.signatures(model):
            if self.weight_file(signature):
                continue
            if not self.allow_download:
                raise _unavailable(model, self.models_dir, "downloads are turned off")
            self._download(model, published[signature], progress)

    def _download(self, model: str, relative: str, progress: ProgressFn) -> None:
        url = self.base_url + relative
        name = relative.rsplit("/", 1)[-1]
        expected = Path(name).stem.rsplit("-", 1)[-1]
        target = self.models_dir / name
        tmp = target.with_name(f".{name}.{uuid.uuid4().hex}.part")
        log.info("downloading %s weights from %s", model, url)
        digest = hashlib.sha256()
        try:
            with (
                urllib.request.urlopen(url, timeout=30) as answer,
                open(tmp, "wb") as f,
            ):
                total = int(answer.headers.get("Content-Length") or 0)
                done = 0
                while chunk := answer.read(1 << 20):
                    f.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if total:
                        progress(
                            100 * done / total,
                            f"Downloading {model} weights "
                            f"({done // 2**20} of {total // 2**20} MB)",
                        )
            if not digest.hexdigest().startswith(expected):
                raise _unavailable(
                    model, self.models_dir, "the download was corrupt", "bad checksum"
                )
            os.replace(tmp, target)
        # HTTPException: a reply that is not HTTP; ValueError: a base_url with
        # no usable scheme. Both are a download that cannot happen.
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            OSError,
            TimeoutError,
            ValueError,
        ) as exc:
            raise _unavailable(
                model, self.models_dir, "the download failed", str(exc)
            ) from exc
        finally:
            tmp.unlink(missing_ok=True)
        log.info("stored %s weights as %s", model, target)

    # Separation.

    def separate(
        self,
        audio: np.ndarray,
        model: str,
        *,
        device: str,
        progress: ProgressFn = no_progress,
    ) -> dict[str, np.ndarray]:
        import torch

        self.ensure_model(model, progress)
        if self.threads:
            torch.set_num_threads(self.threads)
        separator = self._separator(model, device)
        segment = int(_segment_seconds(separator.model) * separator.samplerate)

        def on_chunk(info: dict) -> None:
            if info.get("state") != "end":
                return
            runs = max(1, info.get("models", 1)) * max(1, self.shifts)
            run = info.get("model_idx_in_bag", 0) * max(1, self.shifts)
            run += info.get("shift_idx", 0)
            length = max(1, info.get("audio_length", 1))
            within = min(1.0, (info.get("segment_offset", 0) + segment) / length)
            progress(100 * (run + within) / runs, "Separating stems")

        separator.update_parameter(callback=on_chunk)
        wav = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
        with torch.inference_mode():
            _, stems = separator.separate_tensor(wav, separator.samplerate)
        return {name: stem.cpu().numpy() for name, stem in stems.items()}

    def _separator(self, model: str, device: str) -> Any:
        from demucs.api import Separator

        key = (model, device)
        if key not in self._loaded:
            try:
                self._loaded[key] = Separator(
                    model=model,
                    repo=self.models_dir,
                    device=device,
                    shifts=self.shifts,
                    overlap=self.overlap,
                    split=True,
                    progress=False,
                )
            except Exception as exc:
                raise _unavailable(
                    model, self.models_dir, "they could not be loaded", str(exc)
                ) from exc
        return self._loaded[key]


def _segment_seconds(model: Any) -> float:
    """The length of the chunks demucs applies the model to."""
    inner = getattr(model, "models", None)
    return float(inner[0].segment if inner else model.segment)


def _unavailable(model: str, folder: Path, why: str, cause: str = "") -> ProviderError:
    """MODEL_UNAVAILABLE, telling the admin how to put the weights in place."""
    return ProviderError(
        "MODEL_UNAVAILABLE",
        f"The {model} model weights are not available ({why}). An admin can run "
        f"`stemtube models download {model}` on the server, or copy the .th file "
        f"there and run `stemtube models import FILE`.",
        f"{cause + '; ' if cause else ''}weights are kept in {folder}",
    )


def _demucs_remote_dir() -> Path:
    from demucs.pretrained import REMOTE_ROOT

    return Path(REMOTE_ROOT)


def _yaml_signatures(path: Path) -> list[str]:
    """Read the ``models: [...]`` list of a demucs bag yaml."""
    import yaml

    with open(path, encoding="utf-8") as f:
        return [str(sig) for sig in yaml.safe_load(f)["models"]]


def _published_files() -> dict[str, str]:
    """Signature -> path relative to the official address, from demucs's list."""
    files: dict[str, str] = {}
    root = ""
    for line in (_demucs_remote_dir() / "files.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("root:"):
            root = line.split(":", 1)[1].strip()
        else:
            files[line.split("-", 1)[0]] = root + line
    return files


def import_weights(file: Path, models_dir: Path) -> list[str]:
    """Copy a published ``.th`` file into the models folder; return its models.

    The file name must be demucs's published one (``<signature>-<sha>.th``)
    and the file must match that checksum.
    """
    signature, _, expected = file.stem.partition("-")
    owners = [
        m
        for m in MODELS
        if signature in _yaml_signatures(_demucs_remote_dir() / f"{m}.yaml")
    ]
    if not owners or not expected:
        raise ProviderError(
            "UNKNOWN_WEIGHTS",
            f"{file.name} is not a published demucs weights file "
            "(expected a name like 955717e8-8726e21a.th).",
        )
    digest = hashlib.sha256()
    with open(file, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    if not digest.hexdigest().startswith(expected):
        raise ProviderError("CORRUPT_WEIGHTS", f"{file.name} fails its checksum.")
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = models_dir / f".{file.name}.{uuid.uuid4().hex}.part"
    shutil.copyfile(file, tmp)
    os.replace(tmp, models_dir / file.name)
    # demucs refuses a folder with two files for one signature, so the
    # imported file replaces any earlier one.
    for earlier in models_dir.glob(f"{signature}*.th"):
        if earlier.name != file.name and earlier.stem.partition("-")[0] == signature:
            earlier.unlink()
    for model in owners:
        shutil.copyfile(
            _demucs_remote_dir() / f"{model}.yaml", models_dir / f"{model}.yaml"
        )
    return owners


def models_dir_for(settings: Any) -> Path:
    """``[plugins.demucs] models_dir``, or ``<data>/models/demucs``."""
    own = settings.plugin_settings(PLUGIN_NAME)
    if own.get("models_dir"):
        return Path(own["models_dir"]).expanduser()
    return settings.data_dir / "models" / "demucs"


@hookimpl
def register_separators(settings: Any) -> list[DemucsSeparator]:
    """Offer htdemucs and htdemucs_6s."""
    own = settings.plugin_settings(PLUGIN_NAME)
    unknown = set(own) - {"models_dir", "base_url", "allow_download"}
    if unknown:
        raise ValueError(
            f"unknown keys in [plugins.demucs]: {', '.join(sorted(unknown))}"
        )
    return [
        DemucsSeparator(
            models_dir_for(settings),
            base_url=own.get("base_url", OFFICIAL_URL),
            allow_download=own.get("allow_download", True),
            shifts=settings.separation.shifts,
            overlap=settings.separation.overlap,
            threads=settings.jobs.threads,
        )
    ]
