"""A tiny Whisper with random weights, in CTranslate2's format, with its tokenizer.

Built without ``transformers``: ``ctranslate2.specs.WhisperSpec`` filled with
random arrays, a vocabulary of the 256 byte-level symbols, Whisper's special
tokens and its 1501 timestamp tokens, and a byte-level ``tokenizer.json``
with the same ids. It loads and runs like a published model folder; what it
"hears" is noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

WIDTH, HEADS, FFN, MELS = 64, 2, 128, 80
SPECIALS = [
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|en|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nocaptions|>",
    "<|notimestamps|>",
]


def _byte_symbols() -> list[str]:
    """The 256 printable stand-ins byte-level BPE uses for bytes (GPT-2's)."""
    kept = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    symbols = dict(zip(kept, kept, strict=True))
    extra = 0
    for byte in range(256):
        if byte not in symbols:
            symbols[byte] = 256 + extra
            extra += 1
    return [chr(symbols[b]) for b in range(256)]


def vocabulary() -> list[str]:
    stamps = [f"<|{i * 0.02:.2f}|>" for i in range(1501)]
    return _byte_symbols() + SPECIALS + stamps


def _shape(name: str, vocab: int) -> tuple[int, ...]:
    if name.endswith("conv1/weight"):
        return (WIDTH, MELS, 3)
    if name.endswith("conv2/weight"):
        return (WIDTH, WIDTH, 3)
    if name == "encoder/position_encodings/encodings":
        return (1500, WIDTH)
    if name == "decoder/position_encodings/encodings":
        return (448, WIDTH)
    if name.startswith("decoder/embeddings") or name.startswith("decoder/projection"):
        return (vocab, WIDTH) if name.endswith("weight") else (vocab,)
    rows = WIDTH
    if "self_attention/linear_0" in name:
        rows = 3 * WIDTH
    elif "/attention/linear_1" in name:
        rows = 2 * WIDTH
    elif "ffn/linear_0" in name:
        rows = FFN
    if name.endswith("weight") and "layer_norm" not in name:
        cols = FFN if "ffn/linear_1" in name else WIDTH
        return (rows, cols)
    return (rows,)


def build_tiny_whisper(folder: Path, seed: int = 0) -> Path:
    """Write a runnable random Whisper model folder; returns it."""
    from ctranslate2.specs import whisper_spec
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    tokens = vocabulary()
    spec = whisper_spec.WhisperSpec(1, HEADS, 1, HEADS)
    rng = np.random.default_rng(seed)
    for name, value in spec.variables().items():
        if value is None or (isinstance(value, np.ndarray) and value.size == 0):
            shape = _shape(name, len(tokens))
            if name.endswith("gamma"):
                array = np.ones(shape, dtype=np.float32)
            elif name.endswith(("beta", "bias")):
                array = np.zeros(shape, dtype=np.float32)
            else:
                array = (rng.standard_normal(shape) * 0.05).astype(np.float32)
            _assign(spec, name, array)
    # Optional in the spec, but Whisper has learned positions on both sides.
    spec.encoder.position_encodings.encodings = (
        rng.standard_normal((1500, WIDTH)) * 0.05
    ).astype(np.float32)
    spec.decoder.position_encodings.encodings = (
        rng.standard_normal((448, WIDTH)) * 0.05
    ).astype(np.float32)
    spec.register_vocabulary(tokens)
    spec.config.suppress_ids = []
    spec.config.suppress_ids_begin = []
    spec.config.lang_ids = []
    spec.config.alignment_heads = [(0, 0), (0, 1)]
    folder.mkdir(parents=True, exist_ok=True)
    spec.validate()
    spec.optimize(quantization=None)
    spec.save(str(folder))

    tokenizer = Tokenizer(
        models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=[])
    )
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens(SPECIALS + tokens[256 + len(SPECIALS) :])
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


def _assign(spec, name: str, array: np.ndarray) -> None:
    parts = name.split("/")
    target = spec
    for part in parts[:-1]:
        if (
            "_" in part
            and part.rsplit("_", 1)[1].isdigit()
            and not hasattr(target, part)
        ):
            base, index = part.rsplit("_", 1)
            target = getattr(target, base)[int(index)]
        else:
            target = getattr(target, part)
    setattr(target, parts[-1], array)
