"""The browser pages: the main page and the mixer."""

from __future__ import annotations

from quart import Blueprint, render_template, request

from stemtube.api.common import caller, public, state

bp = Blueprint("pages", __name__)


def _user() -> dict:
    user = caller()
    return {"username": user.username, "is_admin": user.is_admin}


@bp.get("/")
async def index():
    st = state()
    return await render_template(
        "index.html",
        user=_user(),
        max_upload_mb=st.settings.storage.max_upload_mb,
        models=st.registry.models(),
        default_model=st.runtime["default_model"],
    )


@bp.get("/mixer")
async def mixer():
    download_id = request.args.get("download_id", "")
    return await render_template("mixer.html", user=_user(), download_id=download_id)


@bp.get("/docs")
@public
async def api_docs():
    """The API's documentation, drawn from /openapi.json."""
    return await render_template("api-docs.html")
