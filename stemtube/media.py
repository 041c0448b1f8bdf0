"""Probing, decoding and writing audio.

Everything is read in-process with PyAV, whose wheel bundles FFmpeg's
libraries, so no ffmpeg program is needed to read mp3, m4a, opus, wma or
video files. The canonical decode every analysis reads is float32 stereo at
44.1 kHz, shaped (channels, samples).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import soundfile as sf

from stemtube.providers import ProviderError

CANONICAL_RATE = 44100


@dataclass(frozen=True)
class MediaInfo:
    """What probing a file found: its real length and format, and its tags."""

    duration: float
    sample_rate: int
    channels: int
    samples: int
    codec: str
    container: str
    title: str = ""
    artist: str = ""


def probe(path: Path) -> MediaInfo:
    """Decode the whole audio track to check it and measure it exactly.

    Raises ProviderError ``EMPTY_FILE`` or ``NOT_AUDIO`` for what cannot be
    played. Decoding rather than trusting the header catches renamed and
    truncated files.
    """
    if path.stat().st_size == 0:
        raise ProviderError("EMPTY_FILE", "The file is empty.")
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise ProviderError("NOT_AUDIO", "The file has no audio track.")
            stream = container.streams.audio[0]
            samples = 0
            for frame in container.decode(stream):
                samples += frame.samples
            tags = {k.lower(): v for k, v in (container.metadata or {}).items()}
            tags.update({k.lower(): v for k, v in (stream.metadata or {}).items()})
            rate = stream.codec_context.sample_rate or stream.rate
            channels = stream.codec_context.channels
            info = MediaInfo(
                duration=samples / rate if rate else 0.0,
                sample_rate=rate,
                channels=channels,
                samples=samples,
                codec=stream.codec_context.name,
                container=container.format.name,
                title=tags.get("title", "").strip(),
                artist=tags.get("artist", "").strip(),
            )
    except ProviderError:
        raise
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise ProviderError(
            "NOT_AUDIO", "The file is not audio or video that can be decoded."
        ) from exc
    if info.samples == 0 or not info.sample_rate:
        raise ProviderError("NOT_AUDIO", "The file holds no audio samples.")
    return info


def decode(path: Path, sample_rate: int = CANONICAL_RATE) -> np.ndarray:
    """Decode to float32 stereo (2, samples) at ``sample_rate``.

    Mono is copied to both channels (as demucs does); more than two channels
    are mixed down by FFmpeg's own downmix matrix. The result is exactly as
    long as the input at the new rate.
    """
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            in_rate = stream.codec_context.sample_rate
            in_channels = stream.codec_context.channels
            layout = "mono" if in_channels == 1 else "stereo"
            resampler = av.AudioResampler(
                format="fltp", layout=layout, rate=sample_rate
            )
            chunks: list[np.ndarray] = []
            in_samples = 0
            for frame in container.decode(stream):
                in_samples += frame.samples
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
    except (av.FFmpegError, IndexError, ValueError, OSError) as exc:
        raise ProviderError("NOT_AUDIO", f"Cannot decode {path.name}.") from exc

    channels = 1 if layout == "mono" else 2
    audio = (
        np.concatenate(chunks, axis=1)
        if chunks
        else np.zeros((channels, 0), np.float32)
    )
    expected = round(in_samples * sample_rate / in_rate) if in_rate else 0
    audio = fit_length(audio.astype(np.float32, copy=False), expected)
    if channels == 1:
        audio = np.repeat(audio, 2, axis=0)
    return np.ascontiguousarray(audio)


def fit_length(audio: np.ndarray, samples: int) -> np.ndarray:
    """Trim or zero-pad (channels, n) audio to exactly ``samples``."""
    have = audio.shape[-1]
    if have >= samples:
        return audio[..., :samples]
    pad = np.zeros((*audio.shape[:-1], samples - have), dtype=audio.dtype)
    return np.concatenate([audio, pad], axis=-1)


def write_wav(path: Path, audio: np.ndarray, sample_rate: int, subtype: str) -> None:
    """Write (channels, samples) audio as WAV under a temporary name, then rename.

    PCM_16 clamps to [-1, 1]; FLOAT keeps the values as they are.
    """
    data = audio.T
    if subtype == "PCM_16":
        data = np.clip(data, -1.0, 1.0)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        sf.write(tmp, data, sample_rate, subtype=subtype, format="WAV")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def ffmpeg_executable() -> str | None:
    """The ffmpeg program: the system's if on PATH, else imageio-ffmpeg's."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return None


def ffmpeg_version() -> str | None:
    """The version string of the ffmpeg program in use, or None."""
    exe = ffmpeg_executable()
    if exe is None:
        return None
    try:
        first = subprocess.run(
            [exe, "-version"], capture_output=True, text=True, timeout=20
        ).stdout.splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError):
        return None
    parts = first.split()
    return parts[2] if len(parts) > 2 else first
