"""faster_whisper: the words of a vocals stem, with their times, by Whisper.

Runs faster-whisper (CTranslate2) on the **vocals stem** only, with word
timestamps and ``condition_on_previous_text=False`` (so one misheard line
does not seed the next), and without faster-whisper's speech detector,
which drops sung words; StemTube drops what was heard where the stem is
silent instead (``stemtube.lyrics.drop_unsung``).

The model is a folder in CTranslate2's format: ``model_path`` when set,
else ``<models_dir>/<model>/`` (``<data>/models/whisper/`` by default),
else downloaded there on first use (``allow_download``).
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

import numpy as np

from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult, ProgressFn, ProviderError, no_progress

log = logging.getLogger(__name__)

WHISPER_RATE = 16000
#: Whisper's own confidence below which what it heard is dropped: a
#: segment's mean log probability, and a word's probability. On the test
#: songs' vocals every sung word is above; on instrumental music ("Thank
#: you for watching", ".") they are below.
MIN_SEGMENT_LOGPROB = -1.0
MIN_WORD_PROBABILITY = 0.15
#: Files a model folder must hold to load without a download.
MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")


class FasterWhisper:
    name = "faster_whisper"

    def __init__(
        self,
        models_dir: Path,
        *,
        model: str = "small",
        model_path: str = "",
        device: str = "auto",
        compute_type: str = "default",
        language: str = "",
        allow_download: bool = True,
        threads: int = 0,
    ) -> None:
        self.models_dir = models_dir
        self.model = model
        self.model_path = Path(model_path) if model_path else None
        self.device = device
        self.compute_type = compute_type
        self.language = language or None
        self.allow_download = allow_download
        self.threads = threads
        self._loaded: Any = None

    def folder(self) -> Path | None:
        """The model folder to load, when one is complete."""
        for candidate in (self.model_path, self.models_dir / self.model):
            if candidate and all((candidate / f).is_file() for f in MODEL_FILES):
                return candidate
        return None

    def check(self) -> CheckResult:
        if importlib.util.find_spec("faster_whisper") is None:
            return CheckResult(False, "faster-whisper is not installed")
        if self.model_path and self.folder() != self.model_path:
            return CheckResult(
                False,
                f"model_path lacks {', '.join(MODEL_FILES)}: not a CTranslate2 model",
            )
        if self.folder() is None:
            if self.allow_download:
                return CheckResult(True, f"Whisper {self.model} downloads on first use")
            return CheckResult(
                True, f"Whisper {self.model} missing and downloads are off"
            )
        return CheckResult(True)

    def _device(self) -> str:
        if self.device != "auto":
            return self.device
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"

    def load(self) -> Any:
        if self._loaded is not None:
            return self._loaded
        from faster_whisper import WhisperModel

        folder = self.folder()
        if folder is None and not self.allow_download:
            raise ProviderError(
                "MODEL_UNAVAILABLE",
                f"The Whisper model {self.model} is not on this server and downloads "
                "are off: set [plugins.faster_whisper] model_path to a CTranslate2 "
                "model folder.",
            )
        options = {
            "device": self._device(),
            "compute_type": self.compute_type,
            "cpu_threads": self.threads,
        }
        try:
            if folder is not None:
                self._loaded = WhisperModel(str(folder), **options)
            else:
                self.models_dir.mkdir(parents=True, exist_ok=True)
                self._loaded = WhisperModel(
                    self.model, download_root=str(self.models_dir), **options
                )
        except Exception as exc:  # CTranslate2 and the hub fail in many ways
            raise ProviderError(
                "MODEL_UNAVAILABLE",
                f"The Whisper model {self.model} could not be loaded.",
                repr(exc),
            ) from None
        return self._loaded

    def transcribe(
        self, vocals: np.ndarray, sample_rate: int, progress: ProgressFn = no_progress
    ) -> list[tuple[float | None, float | None, str]]:
        model = self.load()
        audio = np.asarray(vocals, dtype=np.float32)
        if sample_rate != WHISPER_RATE:
            import librosa

            audio = librosa.resample(audio, orig_sr=sample_rate, target_sr=WHISPER_RATE)
        duration = max(1e-6, len(audio) / WHISPER_RATE)
        if float(np.abs(audio).max(initial=0)) < 1e-4:
            return []
        progress(5, "Listening to the vocals (Whisper)")
        segments, _ = model.transcribe(
            audio,
            language=self.language,
            word_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
            beam_size=5,
            temperature=0.0,  # no sampling fallback: the same song, the same words
        )
        words: list[tuple[float | None, float | None, str]] = []
        for segment in segments:
            progress(5 + 90 * min(1.0, segment.end / duration), "Transcribing")
            if segment.avg_logprob < MIN_SEGMENT_LOGPROB:
                continue  # what Whisper says over music it cannot hear
            for word in segment.words or []:
                text = word.word.strip()
                if text and word.probability >= MIN_WORD_PROBABILITY:
                    words.append((_time(word.start), _time(word.end), text))
        log.info("Whisper heard %d words", len(words))
        return words


def _time(value: Any) -> float | None:
    return None if value is None else float(value)


def models_dir_for(settings: Any) -> Path:
    configured = settings.plugin_settings("faster_whisper").get("models_dir")
    return Path(configured) if configured else settings.data_dir / "models" / "whisper"


@hookimpl
def register_lyrics_engines(settings):
    own = settings.plugin_settings("faster_whisper")
    return [
        FasterWhisper(
            models_dir_for(settings),
            model=str(own.get("model", "small")),
            model_path=str(own.get("model_path", "")),
            device=str(own.get("device", "auto")),
            compute_type=str(own.get("compute_type", "default")),
            language=str(own.get("language", "")),
            allow_download=bool(own.get("allow_download", True)),
            threads=int(own.get("threads", settings.jobs.threads)),
        )
    ]
