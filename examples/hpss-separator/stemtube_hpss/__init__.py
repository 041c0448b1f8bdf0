"""stemtube-hpss: split songs into vocals, drums and other without weights.

The plugin's only hook returns one separator. Everything it needs is in
librosa (short-time Fourier transforms and harmonic/percussive separation);
the vocal estimate is ours, a soft mask of what sounds the same on both
channels, is harmonic, and lies in the voice's band.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import numpy as np

from stemtube.hookspecs import hookimpl
from stemtube.providers import CheckResult, ProviderError, no_progress

MODEL = "hpss"
STEMS = ["vocals", "drums", "other"]
RATE = 44100
N_FFT = 2048
HOP = 512
VOICE_BAND = (120.0, 8000.0)

try:
    __version__ = version("stemtube-hpss")
except PackageNotFoundError:  # run from a checkout
    __version__ = "0.0.0"


class HpssSeparator:
    """Harmonic/percussive separation plus a centre-channel vocal estimate."""

    name = "hpss"
    version = __version__

    def __init__(self, margin: float = 2.0) -> None:
        if not margin >= 1.0:
            raise ValueError("margin must be at least 1")
        self.margin = float(margin)

    def models(self) -> dict[str, list[str]]:
        return {MODEL: list(STEMS)}

    def check(self) -> CheckResult:
        try:
            import librosa  # noqa: F401
        except ImportError:
            return CheckResult(False, "librosa is not installed: pip install librosa")
        return CheckResult(True, "no weights needed")

    def ensure_model(self, model: str, progress=no_progress) -> None:
        if model != MODEL:
            raise ProviderError("UNKNOWN_MODEL", f"hpss offers no model {model!r}.")

    def separate(self, audio, model, *, device, progress=no_progress):
        """Split (channels, samples) float32 audio at 44.1 kHz."""
        import librosa

        self.ensure_model(model)
        audio = np.asarray(audio, dtype=np.float32)
        length = audio.shape[1]
        progress(5, "Transforming")
        spectra = librosa.stft(audio, n_fft=N_FFT, hop_length=HOP)  # (ch, f, t)
        magnitude = np.abs(spectra).mean(axis=0)

        progress(30, "Separating harmonic and percussive parts")
        harmonic, percussive = librosa.decompose.hpss(
            magnitude, margin=self.margin, mask=True
        )
        progress(60, "Finding the centre")
        vocals = harmonic * centre_mask(spectra) * band_mask(magnitude.shape[0])
        drums = percussive * (1.0 - vocals)
        other = np.clip(1.0 - vocals - drums, 0.0, 1.0)

        progress(80, "Writing the stems")
        stems = {}
        for name, mask in zip(STEMS, (vocals, drums, other), strict=True):
            masked = spectra * mask[np.newaxis]
            stems[name] = librosa.istft(
                masked, hop_length=HOP, n_fft=N_FFT, length=length
            ).astype(np.float32)
        progress(100, "Done")
        return stems


def centre_mask(spectra: np.ndarray) -> np.ndarray:
    """Per bin, how alike the channels are: 1 for a sound panned to the
    centre, towards 0 for one at a side or out of phase. Mono is all centre.
    """
    if spectra.shape[0] < 2:
        return np.ones(spectra.shape[1:], dtype=np.float32)
    left, right = spectra[0], spectra[1]
    power = np.abs(left) ** 2 + np.abs(right) ** 2
    alike = 2.0 * np.real(left * np.conj(right)) / np.maximum(power, 1e-12)
    return np.clip(alike, 0.0, 1.0) ** 2


def band_mask(bins: int) -> np.ndarray:
    """1 inside the voice's band, fading to 0 an octave outside it."""
    frequencies = np.linspace(0.0, RATE / 2, bins)
    low, high = VOICE_BAND
    with np.errstate(divide="ignore"):
        octaves_below = np.log2(low / np.maximum(frequencies, 1.0))
        octaves_above = np.log2(np.maximum(frequencies, 1.0) / high)
    fade = 1.0 - np.clip(np.maximum(octaves_below, octaves_above), 0.0, 1.0)
    return fade[:, np.newaxis].astype(np.float32)


@hookimpl
def register_separators(settings):
    options = settings.plugin_settings("hpss")
    return [HpssSeparator(margin=options.get("margin", 2.0))]
