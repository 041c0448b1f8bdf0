"""Logging in and out: ``POST /login``, ``GET /logout`` and the login page."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from quart import Blueprint, redirect, render_template, request
from quart_auth import AuthUser, login_user, logout_user
from quart_rate_limiter import rate_limit
from quart_schema import document_request

from stemtube import users
from stemtube.api import schemas
from stemtube.api.common import ApiError, db, public
from stemtube.config import Settings

log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else becomes '/'."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or "\\" in target:
        return "/"
    return target if not target.startswith("//") else "/"


def create_blueprint(settings: Settings) -> Blueprint:
    bp = Blueprint("auth", __name__)
    per_minute = settings.auth.login_attempts_per_minute

    @bp.get("/login")
    @public
    async def login_page():
        return await render_template(
            "login.html", next=safe_next(request.args.get("next"))
        )

    @bp.post("/login")
    @document_request(schemas.Login)
    @public
    @rate_limit(per_minute, timedelta(minutes=1))
    @schemas.answers(schemas.LoginAnswer)
    async def login():
        raw = await request.get_data(as_text=False)
        if request.mimetype in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ) and not raw.lstrip().startswith(b"{"):  # curl -d '{...}' is JSON
            form = dict(await request.form)
            form["remember"] = form.get("remember") in ("1", "on", "true")
        else:
            form = await request.get_json()
        data = schemas.load(schemas.Login, form)
        username, password = data.username, data.password

        user = await users.authenticate(db(), username.strip(), password)
        if user is None:
            log.info("failed login for %r from %s", username[:64], request.remote_addr)
            raise ApiError(401, "INVALID_CREDENTIALS", "Invalid credentials")
        login_user(AuthUser(user.auth_id), remember=data.remember)
        log.info("user %s logged in", user.username)
        return {"success": True, "username": user.username, "is_admin": user.is_admin}

    @bp.get("/logout")
    @public
    async def logout():
        logout_user()
        return redirect("/login")

    return bp
