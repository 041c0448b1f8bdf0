"""``GET /api/config``: what this server offers and runs on."""

from __future__ import annotations

from quart import Blueprint

from stemtube.api.common import state

bp = Blueprint("config", __name__)


def gpu_facts() -> tuple[bool, str | None]:
    """Whether the running process sees a CUDA GPU, and torch's CUDA version."""
    try:
        import torch
    except ImportError:
        return False, None
    return torch.cuda.is_available(), torch.version.cuda


@bp.get("/api/config")
async def get_config():
    st = state()
    models = st.registry.models()
    gpu, cuda = gpu_facts()
    return {
        "models": list(models),
        "model_stems": models,
        # TODO: chord backends arrive with the chords plugins.
        "chord_backends": [],
        "default_model": st.settings.separation.default_model,
        "default_chord_backend": None,
        "gpu_available": gpu,
        "cuda_version": cuda,
        "max_upload_mb": st.settings.storage.max_upload_mb,
    }
