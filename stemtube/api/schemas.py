"""What the API's routes take and answer, as pydantic models for quart-schema.

Request bodies are checked by quart-schema's ``validate_request`` before a
route runs; a body that does not fit is answered by :func:`invalid_body`
with the stable code of the field at fault, which each field names in its
``x-error-code`` (shown in the OpenAPI document too). What the models cannot
know (which models are installed, whether a video id is YouTube's) stays in
the routes, with the codes of docs/api.md.

Answers are checked by ``validate_response``: the models list the
reference's fields, so an answer that lost one is a server error in our
logs rather than a surprise in a client. They allow more fields than they
name, since StemTube answers more than the reference shows.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from quart_schema import DataSource, validate_request, validate_response
from quart_schema.conversion import model_load
from quart_schema.validation import RequestSchemaValidationError

MAX_BULK = 1000
MAX_LINES = 10_000

Number = int | float


def coded(code: str, default: Any = ..., **constraints: Any) -> Any:
    """A field whose wrong values are answered with ``code``."""
    return Field(default, json_schema_extra={"x-error-code": code}, **constraints)


class Body(BaseModel):
    """A JSON request body: types as JSON has them, no coercion."""

    model_config = ConfigDict(strict=True)
    #: The code for a field the model does not know, where those are refused.
    unknown_field_code: ClassVar[str] = "INVALID_FIELD"


class Query(BaseModel):
    """A query string: every value arrives as text and is converted."""

    unknown_field_code: ClassVar[str] = "INVALID_FIELD"


class Answer(BaseModel):
    """An answer: the reference's fields, and any others the route adds."""

    model_config = ConfigDict(extra="allow")


def body(model: type[BaseModel]):
    """The route's JSON body checked against ``model``, given as ``data``."""
    return validate_request(model, source=DataSource.JSON)


def answers(model: type[BaseModel] | Any):
    """The route's 200 answer checked against ``model`` (and documented)."""
    return validate_response(model)


def load(model: type[BaseModel], data: Any) -> Any:
    """``data`` checked against ``model`` outside a decorator (the login form)."""
    return model_load(data, model, RequestSchemaValidationError)


def invalid_body(error: RequestSchemaValidationError) -> tuple[str, str]:
    """The code and message for a body or query string that does not fit."""
    cause = error.validation_error
    if not isinstance(cause, ValidationError) or not cause.errors():
        return "INVALID_JSON", "The request body does not fit this route."
    first = cause.errors()[0]
    model = _MODELS.get(cause.title)
    location = first["loc"]
    if not location or model is None:
        return "INVALID_JSON", "The request body must be a JSON object."
    name = str(location[0])
    # The list indexes of the place at fault; pydantic also names the union
    # member it tried (``video_id.str``), which means nothing to a client.
    where = name + "".join(
        f"[{part}]" for part in location[1:] if isinstance(part, int)
    )
    field = model.model_fields.get(name)
    if field is None:
        known = ", ".join(model.model_fields)
        return model.unknown_field_code, f"Unknown field {name[:40]!r}; known: {known}"
    extra = field.json_schema_extra
    code = extra.get("x-error-code") if isinstance(extra, dict) else None
    message = "is required" if first["type"] == "missing" else first["msg"]
    return str(code or "INVALID_FIELD"), f"{where[:80]}: {message}"


# Requests.


class Login(Body):
    username: str = coded("MISSING_CREDENTIALS", min_length=1)
    password: str = coded("MISSING_CREDENTIALS", min_length=1)
    remember: bool = coded("INVALID_REMEMBER", False)


class DownloadRequest(Body):
    video_id: str | None = coded("INVALID_VIDEO_ID", None)
    url: str | None = coded("INVALID_URL", None)


class ExtractionRequest(Body):
    video_id: str | int | None = coded("MISSING_VIDEO_ID", None)
    download_id: str | int | None = coded("MISSING_VIDEO_ID", None)
    model: str | None = coded("INVALID_MODEL", None)
    stems: list[str] | None = coded("INVALID_STEMS", None)
    generate_chords: bool = coded("INVALID_FLAG", True)
    generate_lyrics: bool = coded("INVALID_FLAG", True)
    generate_structure: bool = coded("INVALID_FLAG", True)


class ChordsRequest(Body):
    backend: str | None = coded("INVALID_BACKEND", None)


class VideoIds(Body):
    video_ids: list[str] = coded("INVALID_VIDEO_IDS", max_length=MAX_BULK)

    @field_validator("video_ids")
    @classmethod
    def _once_each(cls, video_ids: list[str]) -> list[str]:
        return list(dict.fromkeys(video_ids))


class NewUser(Body):
    username: str = coded("INVALID_FIELD")
    password: str = coded("INVALID_FIELD")
    is_admin: bool | None = coded("INVALID_FIELD", None)


class UserChange(Body):
    user_id: int = coded("INVALID_FIELD")
    username: str | None = coded("INVALID_FIELD", None)
    is_admin: bool | None = coded("INVALID_FIELD", None)


class PasswordReset(Body):
    user_id: int = coded("INVALID_FIELD")
    new_password: str = coded("INVALID_FIELD")


class UserRef(Body):
    user_id: int = coded("INVALID_FIELD")


class Settings(Body):
    """Settings an admin changes: only known names, at least one of them.

    Values are checked by ``server_config``, which knows what is installed.
    """

    model_config = ConfigDict(strict=True, extra="forbid")
    unknown_field_code: ClassVar[str] = "UNKNOWN_SETTING"


class ConfigChange(Settings):
    default_model: str = coded("INVALID_VALUE", None)
    default_chord_backend: str | None = coded("INVALID_VALUE", None)


class BrowserLogging(Settings):
    enabled: bool = coded("INVALID_VALUE", None)
    log_level: str = coded("INVALID_VALUE", None)


class BrowserEvent(Body):
    level: str = coded("INVALID_LEVEL", "ERROR")
    message: str = coded("INVALID_FIELD", "")
    url: str = coded("INVALID_FIELD", "")
    stack: str = coded("INVALID_FIELD", "")


class PathRef(Body):
    path: str = coded("INVALID_PATH")


class PathQuery(Query):
    path: str = coded("INVALID_PATH")


class LyricsOffset(Body):
    offset_ms: int = coded("INVALID_OFFSET", ge=-60_000, le=60_000)


class LrcQuery(Query):
    enhanced: bool = coded("INVALID_FLAG", False)


class ChordsQuery(Query):
    transpose: int = coded("INVALID_TRANSPOSE", 0, ge=-11, le=11)


class PeaksQuery(Query):
    points: int = coded("INVALID_POINTS", 1000, ge=16, le=4000)


class ModelChoice(Body):
    model: str | None = coded("INVALID_MODEL", None)


class SearchQuery(Query):
    q: str = coded("MISSING_QUERY", "")


class LogLines(Query):
    lines: int = coded("INVALID_LINES", 100, ge=1, le=MAX_LINES)


# Answers.


class Done(Answer):
    success: bool


class Said(Done):
    message: str


class Thumbnail(Answer):
    url: str
    width: int | None = None
    height: int | None = None


class Video(Answer):
    id: str
    title: str
    author: str | None
    duration: str | None
    thumbnails: list[Thumbnail]


class SearchAnswer(Answer):
    results: list[Video]


class VideoDetails(Video):
    description: str | None


class LoginAnswer(Done):
    username: str
    is_admin: bool


class DownloadStarted(Done):
    video_id: str
    title: str | None
    download_started: bool
    global_download_id: int


class Song(Answer):
    """What every answer about a download says of its song."""

    id: int
    video_id: str
    title: str | None
    duration: Number | None
    file_path: str | None
    file_size: int | None
    has_extraction: bool


class DownloadItem(Song):
    download_date: str
    extraction_id: int | None
    extraction_status: str | None
    stems_available: list[str]
    chords_available: bool
    lyrics_available: bool
    structure_available: bool


class Downloads(Answer):
    downloads: list[DownloadItem]


class ExtractionSummary(Answer):
    id: int
    model: str
    status: str
    stems: list[str]


class DownloadDetails(Song):
    bpm: Number | None
    key: str | None
    extraction: ExtractionSummary | None


class ExtractionStatus(Answer):
    status: str
    extraction_id: int | None
    progress: Number
    message: str
    stems_paths: dict[str, str]


class ExtractionItem(Answer):
    id: int
    video_id: str
    title: str | None
    model: str
    status: str
    stems: list[str]
    extraction_date: str
    chords_available: bool
    lyrics_available: bool
    structure_available: bool


class Extractions(Answer):
    extractions: list[ExtractionItem]


class SongSection(Answer):
    start: Number
    end: Number
    label: str


class ExtractionDetails(Answer):
    id: int
    video_id: str
    title: str | None
    model: str
    status: str
    stems_paths: dict[str, str]
    chords: list[ChordSegment]
    lyrics: Any
    structure: list[SongSection]
    beats: list[Number]
    bpm: Number | None
    key: str | None


class ExtractionStarted(Done):
    extraction_id: int
    video_id: str
    message: str


class Zip(Done):
    zip_path: str
    download_url: str


class ChordSegment(Answer):
    start: Number
    end: Number
    label: str
    name: str


class ChordsRegenerated(Done):
    chords_count: int
    backend_used: str
    chords: list[ChordSegment]


class Structure(Answer):
    structure: list[SongSection]
    available: bool
    analyser: str | None
    version: str | None
    source: str | None
    reason: str | None = None


class StructureRegenerated(Done):
    sections_count: int
    analyser: str
    version: str | None
    source: str | None
    structure: list[SongSection]


class TransposedChord(ChordSegment):
    notes: list[str]


class TransposedChords(Answer):
    chords: list[TransposedChord]
    available: bool
    transpose: int


class Peaks(Answer):
    duration: Number
    points: int
    peaks: dict[str, list[list[Number]]]


class Word(Answer):
    start: Number
    end: Number
    word: str


class LyricLine(Answer):
    start: Number
    end: Number
    text: str
    words: list[Word]


class Lyrics(Answer):
    lyrics: list[LyricLine]
    available: bool
    offset_ms: int


class LyricsGenerated(Said):
    lyrics_count: int


class OffsetSaved(Done):
    offset_ms: int


class Removed(Done):
    removed_count: int


class Deleted(Done):
    deleted_count: int


class FilesDeleted(Done):
    deleted_files: int


class Cleanup(Done):
    removed_downloads: int
    removed_extractions: int
    removed_orphaned_files: int


class Disclaimer(Answer):
    accepted: bool
    accepted_at: str | None


class UserAdded(Done):
    user_id: int
    username: str


class UserEdited(Done):
    username: str
    is_admin: bool


class UserDeleted(Done):
    deleted_user: str


class StoredDownload(Answer):
    global_download_id: int
    video_id: str
    title: str | None
    file_size: int | None
    users_with_access: list[str]


class StoredDownloads(Answer):
    downloads: list[StoredDownload]


class StorageStats(Answer):
    total_downloads: int
    total_extractions: int
    total_size_bytes: int
    total_size_gb: Number
    downloads_by_user: dict[str, int]


class Reloaded(Done):
    updated_metadata: dict[str, Any]


class ExtractionReset(Done):
    extraction_id: int | None


class ResetCount(Done):
    reset_count: int


class BulkDeleted(Deleted):
    total_files_deleted: int


class QueuedJob(Answer):
    id: int
    kind: str
    target_id: int
    title: str | None
    status: str
    progress: Number
    error_code: str | None
    can_cancel: bool
    can_retry: bool


class Jobs(Answer):
    jobs: list[QueuedJob]


class JobRetried(Said):
    job_id: int


class Config(Answer):
    models: list[str]
    chord_backends: list[str]
    default_model: str
    default_chord_backend: str | None
    gpu_available: bool
    cuda_version: str | None


class ConfigChanged(Done):
    default_model: str
    default_chord_backend: str | None


class Ffmpeg(Answer):
    installed: bool
    version: str | None


class FfmpegReady(Done):
    version: str | None


class BrowserLoggingState(Answer):
    enabled: bool
    log_level: str


class BrowserLoggingChanged(Done, BrowserLoggingState):
    pass


class Upload(Done):
    video_id: str
    filename: str
    file_size: int


class FileEntry(Answer):
    name: str
    path: str
    size: int | None = None
    is_directory: bool


class Files(Answer):
    files: list[FileEntry]


class LibraryItem(Answer):
    global_download_id: int
    video_id: str
    title: str | None
    duration: Number | None
    has_extraction: bool
    user_has_access: bool
    can_add_to_library: bool


class Library(Answer):
    library: list[LibraryItem]


class ExtractionAdded(Done):
    extraction_id: int


class Logged(Done):
    logged: bool


class LogFile(Answer):
    filename: str
    size: int
    modified: str


class LogFiles(Answer):
    logs: list[LogFile]


class LogView(Answer):
    filename: str
    content: str
    lines_shown: int


def _request_models(*bases: type[BaseModel]) -> dict[str, type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {}
    for base in bases:
        for model in base.__subclasses__():
            found[model.__name__] = model
            found.update(_request_models(model))
    return found


#: Request models by name, for :func:`invalid_body` (pydantic names the model).
_MODELS = _request_models(Body, Query)
