"""The browser pages: the main page (desktop and phone), the mixer, admin."""

from __future__ import annotations

from quart import Blueprint, render_template, request

from stemtube import server_config
from stemtube.api.common import admin_required, caller, public, state

bp = Blueprint("pages", __name__)


def _user() -> dict:
    """The signed-in user as every page's header and scripts need them."""
    user = caller()
    runtime = state().runtime
    return {
        "username": user.username,
        "is_admin": user.is_admin,
        "browser_logging": bool(runtime.get("browser_logging_enabled")),
        "browser_log_level": runtime.get("browser_log_level", "ERROR"),
    }


async def _library_page(*, mobile: bool) -> str:
    st = state()
    return await render_template(
        "index.html",
        user=_user(),
        mobile=mobile,
        max_upload_mb=st.settings.storage.max_upload_mb,
        models=st.registry.models(),
        default_model=st.runtime["default_model"],
    )


@bp.get("/")
async def index():
    return await _library_page(mobile=False)


@bp.get("/mobile")
async def mobile_index():
    """The library laid out for a phone: one part at a time behind a tab bar,
    touch-sized controls (docs/web.md)."""
    return await _library_page(mobile=True)


@bp.get("/mixer")
async def mixer():
    download_id = request.args.get("download_id", "")
    return await render_template("mixer.html", user=_user(), download_id=download_id)


@bp.get("/docs")
@public
async def api_docs():
    """The API's documentation, drawn from /openapi.json."""
    return await render_template("api-docs.html")


async def _admin_page(*, embedded: bool = False, settings_only: bool = False) -> str:
    return await render_template(
        "admin.html",
        user=_user(),
        embedded=embedded,
        settings_only=settings_only,
        log_levels=server_config.LOG_LEVELS,
        page_data={"settings_only": settings_only},
    )


@bp.get("/admin")
@admin_required
async def admin_page():
    return await _admin_page()


@bp.get("/admin/embedded")
@admin_required
async def admin_embedded():
    """The admin page without the site's header, for an iframe."""
    return await _admin_page(embedded=True)


@bp.get("/admin/mobile-settings")
@admin_required
async def admin_mobile_settings():
    """Only the configuration, for a phone."""
    return await _admin_page(settings_only=True)
