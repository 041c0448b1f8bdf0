"""The request bodies and query strings of the API, for the OpenAPI document.

They describe what the reference's routes take, so clients and fuzzers know
the fields; the routes still check what they receive themselves, with the
error codes of docs/api.md.
"""

from __future__ import annotations

from pydantic import BaseModel


class Login(BaseModel):
    username: str
    password: str
    remember: bool = False


class DownloadRequest(BaseModel):
    video_id: str | None = None
    url: str | None = None


class ExtractionRequest(BaseModel):
    video_id: str
    model: str | None = None
    stems: list[str] | None = None
    generate_chords: bool = False
    generate_lyrics: bool = False
    generate_structure: bool = False


class ChordsRequest(BaseModel):
    backend: str | None = None


class VideoIds(BaseModel):
    video_ids: list[str]


class NewUser(BaseModel):
    username: str
    password: str
    is_admin: bool = False


class UserChange(BaseModel):
    user_id: int
    username: str | None = None
    is_admin: bool | None = None


class PasswordReset(BaseModel):
    user_id: int
    new_password: str


class UserRef(BaseModel):
    user_id: int


class ConfigChange(BaseModel):
    default_model: str | None = None
    default_chord_backend: str | None = None


class BrowserLogging(BaseModel):
    enabled: bool | None = None
    log_level: str | None = None


class BrowserEvent(BaseModel):
    level: str = "ERROR"
    message: str = ""
    url: str = ""
    stack: str = ""


class PathRef(BaseModel):
    path: str


class ModelChoice(BaseModel):
    model: str | None = None


class SearchQuery(BaseModel):
    q: str


class LogLines(BaseModel):
    lines: int = 100
