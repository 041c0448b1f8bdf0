"""Finding songs on the video site: ``/api/search`` and ``/api/video/<id>``."""

from __future__ import annotations

import asyncio
import logging

from quart import Blueprint
from quart_schema import validate_querystring

from stemtube.api import schemas
from stemtube.api.common import ApiError, caller, state
from stemtube.providers import ProviderError, VideoSource

log = logging.getLogger(__name__)
bp = Blueprint("search", __name__)

MAX_QUERY = 200


def video_source() -> VideoSource:
    """The loaded video source, or 503 when the server has none."""
    source = state().registry.video_source()
    if source is None:
        raise ApiError(503, "YOUTUBE_DISABLED", "YouTube is turned off on this server.")
    return source


def source_error(exc: ProviderError) -> ApiError:
    """A source's failure as an answer: 404 for a missing video, else 502."""
    log.info("video source failed: %s %s", exc.code, exc)
    if exc.code == "PRIVATE_OR_REMOVED":
        return ApiError(404, "VIDEO_NOT_FOUND", exc.message)
    return ApiError(502, exc.code, exc.message)


@bp.get("/api/search")
@validate_querystring(schemas.SearchQuery)
@schemas.answers(schemas.SearchAnswer)
async def search(query_args: schemas.SearchQuery):
    query = " ".join(query_args.q.split())
    if not query:
        raise ApiError(400, "MISSING_QUERY", "Type something to search for (q).")
    if len(query) > MAX_QUERY:
        raise ApiError(
            400, "QUERY_TOO_LONG", f"A search is at most {MAX_QUERY} characters."
        )
    source = video_source()
    try:
        results = await asyncio.to_thread(source.search, query)
    except ProviderError as exc:
        raise source_error(exc) from None
    log.debug("user %s searched for %r", caller().username, query)
    return {"results": results}


@bp.get("/api/video/<video_id>")
@schemas.answers(schemas.VideoDetails)
async def video(video_id: str):
    source = video_source()
    if not source.is_video_id(video_id):
        raise ApiError(
            400, "INVALID_VIDEO_ID", "A YouTube video id is 11 letters, digits, - or _."
        )
    try:
        return await asyncio.to_thread(source.video_info, video_id)
    except ProviderError as exc:
        raise source_error(exc) from None
