"""Checkpoints in the layout of btc's published files, with random weights.

The layout is written out here from the published model (the authors'
btc_model.py and run_config.yaml), key by key, independently of StemTube's
implementation, so loading these files checks that StemTube's network has
the published names and shapes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

HIDDEN, BINS, LAYERS, FILTER = 128, 144, 8, 128


def published_layout(num_chords: int) -> dict[str, tuple[int, ...]]:
    """Every key of a published checkpoint's ``model`` state, with its shape."""
    layout: dict[str, tuple[int, ...]] = {
        "self_attn_layers.embedding_proj.weight": (HIDDEN, BINS),
        "self_attn_layers.layer_norm.gamma": (HIDDEN,),
        "self_attn_layers.layer_norm.beta": (HIDDEN,),
        "output_layer.output_projection.weight": (num_chords, HIDDEN),
        "output_layer.output_projection.bias": (num_chords,),
    }
    for direction in ("", "_reverse"):
        layout |= {
            f"output_layer.lstm.weight_ih_l0{direction}": (4 * HIDDEN // 2, HIDDEN),
            f"output_layer.lstm.weight_hh_l0{direction}": (
                4 * HIDDEN // 2,
                HIDDEN // 2,
            ),
            f"output_layer.lstm.bias_ih_l0{direction}": (4 * HIDDEN // 2,),
            f"output_layer.lstm.bias_hh_l0{direction}": (4 * HIDDEN // 2,),
        }
    for layer in range(LAYERS):
        prefix = f"self_attn_layers.self_attn_layers.{layer}"
        layout[f"{prefix}.linear.weight"] = (HIDDEN, 2 * HIDDEN)
        layout[f"{prefix}.linear.bias"] = (HIDDEN,)
        for block in ("attn_block", "backward_attn_block"):
            b = f"{prefix}.{block}"
            for part in ("query", "key", "value", "output"):
                layout[f"{b}.multi_head_attention.{part}_linear.weight"] = (
                    HIDDEN,
                    HIDDEN,
                )
            for conv in (0, 1):
                c = f"{b}.positionwise_convolution.layers.{conv}.conv"
                layout[f"{c}.weight"] = (FILTER, HIDDEN, 3)
                layout[f"{c}.bias"] = (FILTER,)
            for norm in ("layer_norm_mha", "layer_norm_ffn"):
                layout[f"{b}.{norm}.gamma"] = (HIDDEN,)
                layout[f"{b}.{norm}.beta"] = (HIDDEN,)
    return layout


def write_checkpoint(path: Path, num_chords: int, seed: int = 0) -> Path:
    """A random checkpoint saved as the authors saved theirs."""
    generator = torch.Generator().manual_seed(seed)
    state = {
        key: torch.randn(shape, generator=generator) * 0.1
        for key, shape in published_layout(num_chords).items()
    }
    for key in state:
        if key.endswith(".gamma"):
            state[key] = torch.ones_like(state[key])
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": state, "mean": np.float64(-5.5), "std": np.float64(2.4)}, path)
    return path


def build_btc_dir(folder: Path) -> Path:
    """A models folder holding both published file names."""
    write_checkpoint(folder / "btc_model_large_voca.pt", 170, seed=1)
    write_checkpoint(folder / "btc_model.pt", 25, seed=2)
    return folder
