"""The API contract: every route of the reference, and who may call it.

The table is the reference's list of 67 HTTP routes (method, path, admin
only), so a route that goes missing or loses its admin check fails here.
"""

from __future__ import annotations

import re

import pytest

from support import TEST_DATA, extract

ROUTES = [
    ("POST", "/login", False),
    ("GET", "/logout", False),
    ("GET", "/", False),
    ("GET", "/mobile", False),
    ("GET", "/mixer", False),
    ("GET", "/admin", True),
    ("GET", "/admin/embedded", True),
    ("GET", "/admin/mobile-settings", True),
    ("GET", "/api/search", False),
    ("GET", "/api/video/<video_id>", False),
    ("GET", "/api/downloads", False),
    ("GET", "/api/downloads/<download_id>", False),
    ("GET", "/api/downloads/<video_id>/extraction-status", False),
    ("POST", "/api/downloads", False),
    ("DELETE", "/api/downloads/<download_id>", False),
    ("POST", "/api/downloads/<download_id>/retry", False),
    ("DELETE", "/api/downloads/<download_id>/delete", True),
    ("DELETE", "/api/downloads/clear-all", False),
    ("GET", "/api/extractions", False),
    ("GET", "/api/extractions/<extraction_id>", False),
    ("POST", "/api/extractions", False),
    ("DELETE", "/api/extractions/<extraction_id>", False),
    ("POST", "/api/extractions/<extraction_id>/retry", False),
    ("DELETE", "/api/extractions/<extraction_id>/delete", True),
    ("POST", "/api/extractions/<extraction_id>/create-zip", False),
    ("GET", "/api/extractions/<extraction_id>/lyrics", False),
    ("POST", "/api/extractions/<extraction_id>/chords/regenerate", False),
    ("POST", "/api/extractions/<extraction_id>/lyrics/generate", False),
    ("DELETE", "/api/user/downloads/<video_id>/remove-from-list", False),
    ("DELETE", "/api/user/extractions/<video_id>/remove-from-list", False),
    ("POST", "/api/user/downloads/bulk-remove-from-list", False),
    ("POST", "/api/user/extractions/bulk-remove-from-list", False),
    ("DELETE", "/api/user/downloads/<video_id>/force-remove", True),
    ("POST", "/api/user/cleanup/comprehensive", False),
    ("GET", "/api/user/disclaimer-status", False),
    ("POST", "/api/user/accept-disclaimer", False),
    ("POST", "/admin/add_user", True),
    ("POST", "/admin/edit_user", True),
    ("POST", "/admin/reset_password", True),
    ("POST", "/admin/delete_user", True),
    ("GET", "/api/admin/cleanup/downloads", True),
    ("GET", "/api/admin/cleanup/storage-stats", True),
    ("DELETE", "/api/admin/cleanup/downloads/<video_id>", True),
    ("POST", "/api/admin/cleanup/downloads/<video_id>/reload", True),
    (
        "POST",
        "/api/admin/cleanup/downloads/<int:global_download_id>/reset-extraction",
        True,
    ),
    ("POST", "/api/admin/cleanup/downloads/<video_id>/reset-extraction", True),
    ("POST", "/api/admin/cleanup/downloads/bulk-delete", True),
    ("POST", "/api/admin/cleanup/downloads/bulk-reset", True),
    ("GET", "/api/config", False),
    ("POST", "/api/config", True),
    ("GET", "/api/config/ffmpeg/check", False),
    ("POST", "/api/config/ffmpeg/download", True),
    ("GET", "/api/config/browser-logging", False),
    ("POST", "/api/config/browser-logging", True),
    ("POST", "/api/open-folder", False),
    ("POST", "/api/upload-file", False),
    ("GET", "/api/download-file", False),
    ("GET", "/api/stream-audio", False),
    ("POST", "/api/list-files", False),
    ("GET", "/api/extracted_stems/<extraction_id>/<stem_name>", False),
    ("GET", "/api/library", False),
    ("POST", "/api/library/<int:global_download_id>/add-download", False),
    ("POST", "/api/library/<int:global_download_id>/add-extraction", False),
    ("POST", "/api/logs/browser", False),
    ("GET", "/api/logs/list", True),
    ("GET", "/api/logs/view/<filename>", True),
    ("GET", "/api/logs/download/<filename>", True),
]

PUBLIC = {"/login", "/logout"}


def _shape(path: str) -> str:
    return re.sub(r"<(?:int:)?[^>]+>", "<>", path)


def test_the_table_holds_every_route_of_the_reference():
    assert len(ROUTES) == 67
    assert len({(m, p) for m, p, _ in ROUTES}) == 67


def test_the_server_has_every_route_of_the_reference(live_server):
    served = {
        (method, _shape(rule.rule))
        for rule in live_server.app.quart.url_map.iter_rules()
        for method in rule.methods
    }
    missing = [
        (method, path)
        for method, path, _ in ROUTES
        if (method, _shape(path)) not in served
    ]
    assert missing == []


def _concrete(path: str, ids: dict[str, str]) -> str:
    return re.sub(r"<(?:int:)?([^>]+)>", lambda m: ids.get(m.group(1), "1"), path)


@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m, p, admin in ROUTES if admin],
)
async def test_admin_routes_refuse_a_user_with_403(live_server, method, path):
    await live_server.add_user("alice")
    alice = await live_server.login("alice")
    async with alice.request(method, _concrete(path, {}), json={}) as answer:
        assert answer.status == 403, (method, path)
        assert (await answer.json())["code"] == "ADMIN_REQUIRED"


@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m, p, _ in ROUTES if p not in PUBLIC],
)
async def test_every_route_needs_a_session(live_server, method, path):
    anonymous = live_server.session()
    async with anonymous.request(
        method, _concrete(path, {}), json={}, headers={"Accept": "application/json"}
    ) as answer:
        assert answer.status == 401, (method, path)
        assert (await answer.json())["code"] == "AUTH_REQUIRED"


#: Routes naming an item, with what a user B may try on user A's item.
ITEM_ROUTES = [
    (m, p)
    for m, p, admin in ROUTES
    if not admin
    and re.search(r"<(download_id|video_id|extraction_id)>", p)
    and not p.startswith("/api/video/")  # YouTube's details, not a list item
]


async def test_user_b_can_touch_none_of_user_as_items(live_server):
    await live_server.add_user("alice")
    await live_server.add_user("bob")
    alice = await live_server.login("alice")
    bob = await live_server.login("bob")
    item, extraction_id = await extract(live_server, alice, "robin.ogg")
    ids = {
        "download_id": str(item["global_download_id"]),
        "video_id": item["video_id"],
        "extraction_id": str(extraction_id),
        "stem_name": "vocals",
    }
    assert len(ITEM_ROUTES) == 14

    for method, path in ITEM_ROUTES:
        async with bob.request(method, _concrete(path, ids), json={}) as answer:
            assert answer.status == 404, (method, path, answer.status)

    # Alice still has all of it.
    async with alice.get(f"/api/extractions/{extraction_id}") as answer:
        assert (await answer.json())["status"] == "completed"
    async with alice.get(f"/api/extracted_stems/{extraction_id}/vocals") as answer:
        assert answer.status == 200
    assert (TEST_DATA / "real" / "robin.ogg").is_file()


async def test_the_openapi_document_describes_every_route(live_server):
    anonymous = live_server.session()
    async with anonymous.get("/openapi.json") as answer:
        assert answer.status == 200
        document = await answer.json()
    described = {
        (method.upper(), _shape(re.sub(r"{([^}]+)}", r"<\1>", path)))
        for path, operations in document["paths"].items()
        for method in operations
    }
    missing = [
        (method, path)
        for method, path, _ in ROUTES
        if (method, _shape(path)) not in described
    ]
    assert missing == []
    assert document["info"]["title"] == "StemTube"


def _keys(text: str) -> set[str]:
    return set(text.split())


#: (method, path, body, the reference's fields of the 200 answer). Ids in
#: braces are filled in; the order matters: removals come last.
ANSWERS = [
    ("GET", "/api/search?q=lets+go+fishin", None, _keys("results")),
    (
        "GET",
        "/api/video/{yt}",
        None,
        _keys("id title author duration thumbnails description"),
    ),
    (
        "POST",
        "/api/downloads",
        {"video_id": "{yt}"},
        _keys("success video_id title download_started global_download_id"),
    ),
    ("GET", "/api/downloads", None, _keys("downloads")),
    (
        "GET",
        "/api/downloads/{download}",
        None,
        _keys(
            "id video_id title duration file_path file_size bpm key "
            "has_extraction extraction"
        ),
    ),
    (
        "GET",
        "/api/downloads/{video}/extraction-status",
        None,
        _keys("status extraction_id progress message stems_paths"),
    ),
    ("GET", "/api/extractions", None, _keys("extractions")),
    (
        "GET",
        "/api/extractions/{extraction}",
        None,
        _keys("id video_id title model status stems_paths chords lyrics structure"),
    ),
    (
        "POST",
        "/api/extractions",
        {"video_id": "{video}"},
        _keys("success extraction_id video_id message"),
    ),
    (
        "POST",
        "/api/extractions/{extraction}/create-zip",
        {},
        _keys("success zip_path download_url"),
    ),
    ("GET", "/api/extractions/{extraction}/lyrics", None, _keys("lyrics available")),
    ("GET", "/api/user/disclaimer-status", None, _keys("accepted accepted_at")),
    ("POST", "/api/user/accept-disclaimer", {}, _keys("success")),
    (
        "GET",
        "/api/config",
        None,
        _keys(
            "models chord_backends default_model default_chord_backend "
            "gpu_available cuda_version"
        ),
    ),
    ("GET", "/api/config/ffmpeg/check", None, _keys("installed version")),
    ("GET", "/api/config/browser-logging", None, _keys("enabled log_level")),
    ("POST", "/api/list-files", {"path": "media/{download}"}, _keys("files")),
    ("GET", "/api/library", None, _keys("library")),
    ("POST", "/api/library/{yt_download}/add-download", {}, _keys("success message")),
    ("POST", "/api/logs/browser", {"level": "ERROR", "message": "x"}, _keys("success")),
    (
        "POST",
        "/api/user/cleanup/comprehensive",
        {},
        _keys("success removed_downloads removed_extractions removed_orphaned_files"),
    ),
    (
        "POST",
        "/api/user/downloads/bulk-remove-from-list",
        {"video_ids": []},
        _keys("success removed_count"),
    ),
    (
        "POST",
        "/api/user/extractions/bulk-remove-from-list",
        {"video_ids": []},
        _keys("success removed_count"),
    ),
    (
        "DELETE",
        "/api/user/extractions/{video}/remove-from-list",
        None,
        _keys("success"),
    ),
    (
        "DELETE",
        "/api/user/downloads/{yt}/remove-from-list",
        None,
        _keys("success message"),
    ),
    ("DELETE", "/api/downloads/clear-all", None, _keys("success deleted_count")),
]

ADMIN_ANSWERS = [
    (
        "POST",
        "/admin/add_user",
        {"username": "carol", "password": "long enough pw"},
        _keys("success user_id username"),
    ),
    (
        "POST",
        "/admin/edit_user",
        {"user_id": "{carol}", "username": "caroline"},
        _keys("success"),
    ),
    (
        "POST",
        "/admin/reset_password",
        {"user_id": "{carol}", "new_password": "another long pw"},
        _keys("success"),
    ),
    (
        "POST",
        "/admin/delete_user",
        {"user_id": "{carol}"},
        _keys("success deleted_user"),
    ),
    ("GET", "/api/admin/cleanup/downloads", None, _keys("downloads")),
    (
        "GET",
        "/api/admin/cleanup/storage-stats",
        None,
        _keys(
            "total_downloads total_extractions total_size_bytes total_size_gb "
            "downloads_by_user"
        ),
    ),
    (
        "POST",
        "/api/admin/cleanup/downloads/{video}/reload",
        {},
        _keys("success updated_metadata"),
    ),
    (
        "POST",
        "/api/admin/cleanup/downloads/{download}/reset-extraction",
        {},
        _keys("success extraction_id"),
    ),
    (
        "POST",
        "/api/admin/cleanup/downloads/{video}/reset-extraction",
        {},
        _keys("success"),
    ),
    (
        "POST",
        "/api/admin/cleanup/downloads/bulk-reset",
        {"video_ids": ["{video}"]},
        _keys("success reset_count"),
    ),
    ("POST", "/api/config", {"default_model": "htdemucs"}, _keys("success")),
    ("POST", "/api/config/browser-logging", {"enabled": False}, _keys("success")),
    ("POST", "/api/config/ffmpeg/download", {}, _keys("success version")),
    ("GET", "/api/logs/list", None, _keys("logs")),
    (
        "POST",
        "/api/admin/cleanup/downloads/bulk-delete",
        {"video_ids": ["nothing"]},
        _keys("success deleted_count total_files_deleted"),
    ),
    (
        "DELETE",
        "/api/admin/cleanup/downloads/{yt}",
        None,
        _keys("success deleted_files"),
    ),
]


def _fill(value, ids: dict[str, str]):
    if isinstance(value, str):
        for name, known in ids.items():
            if value == "{" + name + "}":
                return int(known) if known.isdigit() else known
            value = value.replace("{" + name + "}", known)
        return value
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


async def _check_answers(session, table, ids) -> None:
    for method, path, body, fields in table:
        async with session.request(
            method, _fill(path, ids), json=_fill(body, ids)
        ) as answer:
            data = await answer.json()
            assert answer.status == 200, (method, path, data)
        assert fields <= set(data), (method, path, fields - set(data))
        if path == "/admin/add_user":
            ids["carol"] = str(data["user_id"])


async def test_successful_answers_carry_the_references_fields(live_server, alice, root):
    from youtube_fake import ROBIN, AudioServer, recorded_extractors

    with AudioServer() as audio:
        source = live_server.app.state.registry.sources["youtube"]
        source.extractors = recorded_extractors(audio)
        item, extraction_id = await extract(live_server, alice, "robin.ogg")
        async with root.post("/api/downloads", json={"video_id": ROBIN}) as answer:
            yt_download = (await answer.json())["global_download_id"]
        await live_server.app.state.runner.wait_idle()
        ids = {
            "yt": ROBIN,
            "yt_download": str(yt_download),
            "video": item["video_id"],
            "download": str(item["global_download_id"]),
            "extraction": str(extraction_id),
        }
        await _check_answers(alice, ANSWERS, ids)
        await live_server.app.state.runner.wait_idle()
        await _check_answers(root, ADMIN_ANSWERS, ids)


def _resolve(schema: dict, document: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


async def test_the_openapi_answers_require_the_references_fields(live_server):
    """Each answer's model requires what the tables above say the reference has.

    quart-schema checks every 200 answer against that model, so a route that
    lost a field fails loudly instead of answering a client without it.
    """
    async with live_server.session().get("/openapi.json") as answer:
        document = await answer.json()
    required = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation["responses"].get("200", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            if schema is not None:
                fields = set(_resolve(schema, document).get("required", []))
                route = (method.upper(), _shape(re.sub(r"{([^}]+)}", r"<\1>", path)))
                required.setdefault(route, []).append(fields)
    for method, path, _, fields in ANSWERS + ADMIN_ANSWERS:
        shape = _shape(path.split("?")[0].replace("{", "<").replace("}", ">"))
        models = required.get((method, shape))
        assert models, (method, path, "has no answer model")
        assert any(fields <= model for model in models), (method, path, models)


async def test_each_body_field_names_its_error_code(live_server):
    async with live_server.session().get("/openapi.json") as answer:
        document = await answer.json()
    bodies = [
        operation["requestBody"]["content"]["application/json"]["schema"]
        for operations in document["paths"].values()
        for operation in operations.values()
        if "requestBody" in operation
    ]
    assert len(bodies) >= 15
    for schema in bodies:
        for name, field in _resolve(schema, document)["properties"].items():
            assert re.fullmatch(r"[A-Z_]+", field["x-error-code"]), name
