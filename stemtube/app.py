"""``create_app(settings)``: the ASGI application, Quart and Socket.IO together."""

from __future__ import annotations

import json
import logging
import os
import secrets
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import quote, urlsplit

import socketio
from quart import Quart, g, jsonify, redirect, render_template, request
from quart_auth import QuartAuth, current_user
from quart_rate_limiter import RateLimiter
from quart_schema import QuartSchema, RequestSchemaValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from stemtube import __version__, analysis, library, server_config, users
from stemtube import db as database
from stemtube.analysis import KIND as ANALYSIS
from stemtube.analysis import AnalysisHandler
from stemtube.api import (
    admin,
    auth,
    config,
    downloads,
    extractions,
    files,
    lists,
    logs,
    pages,
    schemas,
    search,
    shared_library,
    storage,
)
from stemtube.api.common import ApiError, AppState, JsonRequest
from stemtube.config import ServerSettings, Settings, prepare_data_dir
from stemtube.download import KIND as DOWNLOAD
from stemtube.download import DownloadHandler
from stemtube.extraction import KIND as EXTRACTION
from stemtube.extraction import ExtractionHandler
from stemtube.jobs import LocalRunner, create_job
from stemtube.registry import PluginRegistry

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
if not (WEB_DIR / "templates").is_dir():  # installed as a wheel
    import stemtube.web

    WEB_DIR = Path(stemtube.web.__file__).parent

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
JSON_LIMIT = 2**20
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
    "style-src 'self'; img-src 'self' data: https:; media-src 'self' blob:; "
    "worker-src 'self' blob:; connect-src 'self' ws: wss:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'self'"
)


def _wants_page() -> bool:
    """Whether a browser navigated here (a GET that prefers HTML to JSON)."""
    accepted = request.accept_mimetypes
    html = accepted.best_match(["application/json", "text/html"]) == "text/html"
    return request.method == "GET" and html and accepted["text/html"] > 0


def secret_key(settings: Settings) -> str:
    """The configured secret, or one generated once and kept in the data folder."""
    if settings.server.secret_key:
        return settings.server.secret_key
    path = settings.data_dir / "secret_key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in routes: ASCII digits within SQLite's range, else 404.

    Werkzeug's own accepts any Unicode digit and any size, which SQLite
    cannot look up.
    """

    regex = r"[0-9]{1,19}"

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", library.MAX_ROW_ID)
        super().__init__(url_map, *args, **kwargs)


class StemTubeASGI(socketio.ASGIApp):
    """The ASGI entry point, with the Quart app and its state at hand."""

    quart: Quart
    state: AppState


def create_app(
    settings: Settings,
    registry: PluginRegistry | None = None,
    *,
    socketio_options: dict | None = None,
) -> StemTubeASGI:
    """Build the application for ``settings``; nothing runs until it is served.

    ``socketio_options`` go to ``socketio.AsyncServer`` (tests shorten pings).
    """
    prepare_data_dir(settings.data_dir)
    registry = registry or PluginRegistry(settings)
    app = Quart(
        "stemtube",
        template_folder=str(WEB_DIR / "templates"),
        static_folder=str(WEB_DIR / "static"),
    )
    app.url_map.converters["int"] = RowIdConverter
    app.request_class = JsonRequest
    app.secret_key = secret_key(settings)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.storage.max_upload_mb * 2**20 + 2**20,
        BODY_TIMEOUT=3600,
        QUART_AUTH_COOKIE_SECURE=settings.server.secure_cookies,
        QUART_AUTH_COOKIE_SAMESITE="Lax",
        QUART_AUTH_DURATION=settings.auth.session_days * 86400,
        QUART_AUTH_SALT="stemtube session",
        TEMPLATES_AUTO_RELOAD=False,
    )
    auth_ext = QuartAuth(app)
    RateLimiter(app, key_function=client_address_key(settings.server))
    # The OpenAPI document; the docs page is ours (/docs), with vendored
    # Swagger UI, since quart-schema's pages load scripts from a CDN.
    QuartSchema(
        app,
        openapi_path="/openapi.json",
        swagger_ui_path=None,
        redoc_ui_path=None,
        scalar_ui_path=None,
        info={"title": "StemTube", "version": __version__},
    )
    st = AppState(settings=settings, registry=registry)
    app.extensions["stemtube"] = st

    for blueprint in (
        auth.create_blueprint(settings),
        pages.bp,
        downloads.bp,
        extractions.bp,
        files.bp,
        config.bp,
        search.bp,
        lists.bp,
        shared_library.bp,
        admin.bp,
        logs.bp,
        storage.bp,
    ):
        app.register_blueprint(blueprint)

    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=lambda origin, environ: origin_allowed(
            origin,
            environ.get("wsgi.url_scheme", "http"),
            environ.get("HTTP_HOST", ""),
            settings.server,
            environ.get("HTTP_X_FORWARDED_PROTO"),
            environ.get("HTTP_X_FORWARDED_HOST"),
        ),
        **(socketio_options or {}),
    )

    async def emit(event: str, data: dict, user_ids: list[int]) -> None:
        for user_id in set(user_ids):
            await sio.emit(event, data, room=f"user_{user_id}")

    st.emit = emit
    _install_request_hooks(app, st)
    _install_error_handlers(app)
    _install_socketio(sio, app, auth_ext, st)

    async def analyse_extraction(extraction: dict) -> None:
        """Find the song's beats and key; chords, sections and lyrics unless off."""
        options = json.loads(extraction["options"] or "{}")
        backend = analysis.default_backend(
            registry.chord_backends, st.runtime["default_chord_backend"]
        )
        params = analysis.analysis_params(
            extraction,
            backend,
            chords_wanted=options.get("generate_chords", True),
            lyrics_wanted=options.get("generate_lyrics", True),
            structure_wanted=options.get("generate_structure", True),
        )
        await analysis.queue_analysis(
            st.db, st.runner, extraction["download_id"], params
        )

    @app.before_serving
    async def open_resources() -> None:
        st.db = await database.connect(settings.data_dir / "stemtube.db")
        st.runtime = await server_config.load(st.db, settings)
        removed = await library.remove_unfinished_downloads(st.db, settings.data_dir)
        if removed:
            log.warning("removed %d half-stored uploads left by a crash", removed)
        st.runner = LocalRunner(
            st.db,
            settings,
            {
                EXTRACTION: ExtractionHandler(
                    st.db, settings, emit, registry.notify, analyse_extraction
                ),
                ANALYSIS: AnalysisHandler(st.db, settings, emit),
                DOWNLOAD: DownloadHandler(
                    st.db, settings, registry.sources, emit, registry.notify
                ),
            },
            limits={
                EXTRACTION: settings.jobs.extraction_workers,
                DOWNLOAD: settings.jobs.download_workers,
                ANALYSIS: settings.jobs.analysis_workers,
            },
        )
        for kind, target_id in await library.stranded_items(
            st.db, DOWNLOAD, EXTRACTION
        ):
            await create_job(st.db, kind, target_id)
        await st.runner.start()
        registry.notify("startup", settings=settings)
        log.info("StemTube ready; data folder %s", settings.data_dir)

    @app.after_serving
    async def close_resources() -> None:
        if st.runner is not None:
            await st.runner.stop()
        if st.db is not None:
            await st.db.close()

    asgi = StemTubeASGI(sio, other_asgi_app=app)
    asgi.quart = app
    asgi.state = st
    return asgi


def _install_request_hooks(app: Quart, st: AppState) -> None:
    @app.before_request
    async def authenticate():
        view = app.view_functions.get(request.endpoint or "")
        if request.endpoint != "static":
            # Only uploads may send large bodies; everything else is small JSON.
            if request.endpoint != "files.upload_file":
                request.body._max_content_length = JSON_LIMIT
            if request.method not in SAFE_METHODS and not _same_origin(st):
                raise ApiError(403, "CROSS_ORIGIN", "Cross-site request refused")

        g.user = await users.user_from_auth_id(st.db, current_user.auth_id)
        if view is None or getattr(view, "stemtube_public", False):
            return None
        if request.endpoint == "openapi":  # quart-schema's; the API is no secret
            return None
        if request.endpoint == "static":
            return None
        if g.user is None:
            if (
                request.blueprint == "pages"  # a page, not the JSON admin routes
                and request.method in SAFE_METHODS
                and request.accept_mimetypes.accept_html
            ):
                target = quote(request.full_path.rstrip("?"), safe="/")
                return redirect(f"/login?next={target}")
            raise ApiError(401, "AUTH_REQUIRED", "Authentication required")
        return None

    @app.after_request
    async def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CSP)
        return response


def origin_allowed(
    origin: str,
    scheme: str,
    host: str,
    server: ServerSettings,
    forwarded_proto: str | None = None,
    forwarded_host: str | None = None,
) -> bool:
    """Whether ``origin`` is this server itself (as reached) or a trusted one.

    The X-Forwarded headers count only when ``trust_proxy_headers`` is on.
    """
    try:
        parts = urlsplit(origin)
    except ValueError:  # "http://[::1" and other addresses that cannot be read
        return False
    claimed = f"{parts.scheme}://{parts.netloc}"
    allowed = {f"{scheme}://{host}", *server.trusted_origins}
    if server.trust_proxy_headers and (forwarded_host or forwarded_proto):
        proto = (forwarded_proto or scheme).split(",")[0].strip()
        allowed.add(f"{proto}://{(forwarded_host or host).split(',')[0].strip()}")
    return claimed in allowed


def client_address_key(server: ServerSettings):
    """The rate limiter's key: the client's address.

    X-Forwarded-For names the client only behind a proxy we trust; otherwise
    any client could send a new one with each attempt.
    """

    async def key() -> str:
        if server.trust_proxy_headers and request.access_route:
            return request.access_route[0]
        return request.remote_addr or ""

    return key


def _same_origin(st: AppState) -> bool:
    """Whether a state-changing request comes from our own pages (or no browser)."""
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin:
        return True
    return origin_allowed(
        origin,
        request.scheme,
        request.host,
        st.settings.server,
        request.headers.get("X-Forwarded-Proto"),
        request.headers.get("X-Forwarded-Host"),
    )


def _install_error_handlers(app: Quart) -> None:
    @app.errorhandler(ApiError)
    async def api_error(exc: ApiError):
        if _wants_page():
            # A browser opening a page it may not see (a user at /admin)
            # gets a page that says so, not a JSON body.
            page = await render_template(
                "error.html", message=exc.message, status=exc.status
            )
            return page, exc.status, exc.headers
        return (
            jsonify({"error": exc.message, "code": exc.code}),
            exc.status,
            exc.headers,
        )

    @app.errorhandler(RequestSchemaValidationError)
    async def invalid_body(exc: RequestSchemaValidationError):
        code, message = schemas.invalid_body(exc)
        return jsonify({"error": message, "code": code}), 400

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException):
        code = {
            400: "BAD_REQUEST",
            401: "AUTH_REQUIRED",
            403: "FORBIDDEN",
            404: "NOT_FOUND",
            405: "METHOD_NOT_ALLOWED",
            408: "REQUEST_TIMEOUT",
            413: "FILE_TOO_LARGE",
            429: "RATE_LIMITED",
        }.get(exc.code or 500, "HTTP_ERROR")
        message = {
            413: "The file is larger than the upload limit of "
            f"{app.config['MAX_CONTENT_LENGTH'] // 2**20 - 1} MB.",
            429: "Too many attempts; wait a minute and try again.",
        }.get(exc.code or 500, exc.description or exc.name)
        if exc.code == 413 and request.endpoint != "files.upload_file":
            code = "REQUEST_TOO_LARGE"
            message = f"The request body is larger than {JSON_LIMIT // 1024} KB."
        response = jsonify({"error": message, "code": code})
        response.status_code = exc.code or 500
        headers = dict(exc.get_headers())
        for name in ("Retry-After", "Allow", "Content-Range"):
            if name in headers:
                response.headers[name] = headers[name]
        return response

    @app.errorhandler(Exception)
    async def unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return jsonify(
            {"error": "Internal server error", "code": "INTERNAL_ERROR"}
        ), 500


def _install_socketio(
    sio: socketio.AsyncServer, app: Quart, auth_ext: QuartAuth, st: AppState
) -> None:
    @sio.event
    async def connect(sid: str, environ: dict, auth: dict | None = None):
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        morsel = cookie.get(auth_ext.cookie_name)
        auth_id = auth_ext.load_token(morsel.value, app=app) if morsel else None
        user = await users.user_from_auth_id(st.db, auth_id) if st.db else None
        if user is None:
            raise socketio.exceptions.ConnectionRefusedError("authentication required")
        await sio.save_session(sid, {"user_id": user.id})
        await sio.enter_room(sid, f"user_{user.id}")

    @sio.event
    async def disconnect(sid: str, *args):
        session = await sio.get_session(sid)
        if session:
            await sio.leave_room(sid, f"user_{session['user_id']}")
