"""The YouTube source: links, yt-dlp's errors, search, details and downloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from stemtube.config import settings_from_dict
from stemtube.plugins.sources import youtube
from stemtube.plugins.sources.youtube import (
    YouTubeSource,
    classify_error,
    format_duration,
    video_id_from_url,
)
from stemtube.providers import ProviderError, VideoSource

from support import TEST_DATA
from youtube_fake import (
    FISHIN,
    ROBIN,
    AudioServer,
    recorded_errors,
    recorded_extractors,
)

ID = "dQw4w9WgXcQ"


@pytest.mark.parametrize(
    "url",
    [
        f"https://www.youtube.com/watch?v={ID}",
        f"http://youtube.com/watch?v={ID}",
        f"www.youtube.com/watch?v={ID}",
        f"youtube.com/watch?v={ID}",
        f"https://www.youtube.com/watch?v={ID}&t=42s",
        f"https://www.youtube.com/watch?feature=share&v={ID}&ab_channel=RickAstley",
        f"https://www.youtube.com/watch?v={ID}&list=PL1234567890abcdef&index=3",
        f"https://m.youtube.com/watch?v={ID}",
        f"https://music.youtube.com/watch?v={ID}&si=abcdef",
        f"https://youtu.be/{ID}",
        f"https://youtu.be/{ID}?t=90",
        f"https://youtu.be/{ID}?si=Zx81_qkP",
        f"https://www.youtube.com/shorts/{ID}",
        f"https://youtube.com/shorts/{ID}?feature=share",
        f"https://www.youtube.com/embed/{ID}?start=30",
        f"https://www.youtube.com/live/{ID}",
        f"https://www.youtube-nocookie.com/embed/{ID}",
        f"  https://www.youtube.com/watch?v={ID}#t=1m2s  ",
    ],
)
def test_every_common_link_form_gives_the_video_id(url):
    assert video_id_from_url(url) == ID


@pytest.mark.parametrize(
    "url",
    [
        "",
        "not a link",
        "https://vimeo.com/123456789",
        f"https://example.com/watch?v={ID}",
        f"https://youtube.com.evil.example/watch?v={ID}",
        "https://www.youtube.com/watch?v=short",
        "https://www.youtube.com/watch?v=",
        f"https://www.youtube.com/watch?v={ID}x",
        "https://www.youtube.com/",
        "https://www.youtube.com/@RickAstleyYT",
        "https://www.youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw",
        "https://youtu.be/",
        f"ftp://www.youtube.com/watch?v={ID}",
        f"javascript:alert(1)//www.youtube.com/watch?v={ID}",
        "https://[::1/watch",
        f"https://www.youtube.com/watch?v={ID}%0A",
        f"https://youtu.be/{ID}%0A",
    ],
)
def test_anything_else_is_an_invalid_url(url):
    with pytest.raises(ProviderError) as caught:
        video_id_from_url(url)
    assert caught.value.code == "INVALID_URL"
    assert "youtube.com/watch?v=" in caught.value.message


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/playlist?list=PLFgquLnL59alCl_2TQvOiD5Vgm1hCaGSI",
        "https://music.youtube.com/playlist?list=OLAK5uy_kxyz1234567890",
        "https://m.youtube.com/playlist?list=PL1234567890abcdef",
        "https://www.youtube.com/watch?list=PL1234567890abcdef",
    ],
)
def test_a_playlist_link_is_refused_not_cut_to_its_first_item(url):
    with pytest.raises(ProviderError) as caught:
        video_id_from_url(url)
    assert caught.value.code == "PLAYLIST_NOT_SUPPORTED"


@pytest.mark.parametrize(
    "case", recorded_errors(), ids=lambda c: f"{c['code']}:{c['message'][:40]}"
)
def test_each_recorded_yt_dlp_error_gets_its_code(case):
    error = classify_error(case["message"], case.get("warnings", []))
    assert error.code == case["code"]
    # Users read a plain sentence, not yt-dlp's command-line advice; the
    # original text goes to the log.
    assert error.message and "ERROR" not in error.message
    assert "--" not in error.message
    assert error.detail.startswith("ERROR:")


def test_codes_cover_every_case_the_issue_names():
    assert {c["code"] for c in recorded_errors()} == {
        "NEEDS_COOKIES",
        "BOT_CHECK",
        "NEEDS_JS_RUNTIME",
        "FORMAT_UNAVAILABLE",
        "PRIVATE_OR_REMOVED",
        "GEO_BLOCKED",
        "NETWORK",
        "DOWNLOAD_FAILED",
    }


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (9, "0:09"), (225, "3:45"), (599.6, "10:00"), (3725, "1:02:05")],
)
def test_durations_read_as_minutes_and_seconds(seconds, text):
    assert format_duration(seconds) == text


def test_an_unknown_duration_is_empty():
    assert format_duration(None) == ""


@pytest.fixture
def audio_server():
    with AudioServer() as server:
        yield server


@pytest.fixture
def source(tmp_path: Path, audio_server: AudioServer) -> YouTubeSource:
    return YouTubeSource(
        cache_dir=tmp_path / "cache",
        search_results=3,
        extractors=recorded_extractors(audio_server),
    )


@pytest.mark.parametrize("text", [ID + "\n", " " + ID, ID + "x", ID[:-1], None, 12])
def test_only_exactly_eleven_id_characters_are_a_video_id(source, text):
    assert source.is_video_id(ID)
    assert not source.is_video_id(text)


def test_the_source_meets_the_video_source_protocol(source):
    assert isinstance(source, VideoSource)
    assert source.check().ok


def test_search_gives_the_references_fields_for_videos_only(source):
    results = source.search("lets go fishin")

    # Three asked for: the channel among the first entries is skipped, and
    # the live stream (no duration) is kept with an empty one.
    assert [r["id"] for r in results] == [FISHIN, "vA7eQm3pZ0c", "Lv3StrEaM01"]
    first = results[0]
    assert set(first) == {"id", "title", "author", "duration", "thumbnails"}
    assert first["title"] == "Karissa Hobbs - Let's Go Fishin' (Official Audio)"
    assert first["author"] == "Karissa Hobbs"
    assert first["duration"] == "2:13"
    assert results[2]["duration"] == ""
    thumbnail = first["thumbnails"][0]
    assert set(thumbnail) == {"url", "width", "height"}
    assert (thumbnail["width"], thumbnail["height"]) == (720, 404)


def test_search_answers_are_kept_for_the_cache_lifetime(source):
    search_ie = source.extractors[1]
    search_ie.calls.clear()
    first = source.search("lets go fishin")
    again = source.search("  Lets   go FISHIN ")
    assert again == first
    assert search_ie.calls == ["lets go fishin"]
    assert source.known_title(FISHIN) == first[0]["title"]


def test_a_zero_cache_lifetime_asks_every_time(tmp_path, audio_server):
    source = YouTubeSource(
        cache_seconds=0, extractors=recorded_extractors(audio_server)
    )
    search_ie = source.extractors[1]
    search_ie.calls.clear()
    source.search("lets go fishin")
    source.search("lets go fishin")
    assert len(search_ie.calls) == 2


def test_video_details_add_the_description(source):
    details = source.video_info(FISHIN)
    assert details["id"] == FISHIN
    assert details["author"] == "Karissa Hobbs"
    assert details["duration"] == "2:13"
    assert details["description"].startswith("From the album Age of Flowers.")
    assert details["thumbnails"][0]["width"] == 1280


def test_an_unknown_video_is_private_or_removed(source):
    with pytest.raises(ProviderError) as caught:
        source.video_info("zzzzzzzzzzz")
    assert caught.value.code == "PRIVATE_OR_REMOVED"


def test_download_stores_the_served_file_byte_for_byte(source, audio_server, tmp_path):
    reports = []
    item, path = source.download(
        FISHIN, tmp_path / "incoming", lambda p, m, d: reports.append((p, m, d))
    )

    served = TEST_DATA / "real" / "fishin.ogg"
    assert path.read_bytes() == served.read_bytes()
    assert path.parent == tmp_path / "incoming"
    assert path.suffix == ".ogg"
    assert audio_server.fetches(FISHIN) == 1
    assert item.title == "Karissa Hobbs - Let's Go Fishin' (Official Audio)"
    assert item.author == "Karissa Hobbs"
    assert item.duration == 133
    assert item.extension == "ogg"
    assert item.thumbnail_url.endswith("maxresdefault.webp")
    assert item.extra["acodec"] == "vorbis"

    assert len(reports) >= 2
    percents = [p for p, _, _ in reports]
    assert percents == sorted(percents) and percents[0] >= 0 and percents[-1] <= 100
    assert all(set(d) == {"speed", "eta"} for _, _, d in reports)
    assert any(d["speed"].endswith("/s") for _, _, d in reports)


def test_a_progress_callback_that_raises_stops_the_download(source, tmp_path):
    class Stop(Exception):
        pass

    def stop(*_):
        raise Stop

    with pytest.raises(Stop):
        source.download(FISHIN, tmp_path / "incoming", stop)


def test_a_download_that_yt_dlp_refuses_carries_the_code(tmp_path, audio_server):
    message = recorded_errors()[0]["message"].split(": ", 2)[-1]
    failing = YouTubeSource(
        extractors=recorded_extractors(audio_server, failures={ROBIN: message})
    )
    with pytest.raises(ProviderError) as caught:
        failing.download(ROBIN, tmp_path / "incoming", lambda *a: None)
    assert caught.value.code == "NEEDS_COOKIES"
    assert audio_server.fetches(ROBIN) == 0


def test_a_search_that_yt_dlp_fails_carries_the_code(audio_server):
    network = next(c for c in recorded_errors() if c["code"] == "NETWORK")
    failing = YouTubeSource(
        extractors=recorded_extractors(
            audio_server, failures={"lets go fishin": network["message"]}
        )
    )
    with pytest.raises(ProviderError) as caught:
        failing.search("lets go fishin")
    assert caught.value.code == "NETWORK"


def test_a_cookies_file_that_is_missing_fails_the_check(tmp_path):
    source = YouTubeSource(cookies_file=str(tmp_path / "nope.txt"))
    assert not source.check().ok


def test_a_cookies_file_reaches_yt_dlp(tmp_path):
    cookies = tmp_path / "cookies.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n")
    source = YouTubeSource(cookies_file=str(cookies))
    assert source.check().ok
    options = source._options(youtube._Collector())
    assert options["cookiefile"] == str(cookies)


def test_the_plugin_reads_its_settings_and_refuses_unknown_keys(tmp_path):
    settings = settings_from_dict(
        {"plugins": {"youtube": {"search_results": 5, "cache_seconds": 60}}},
        base_dir=tmp_path,
    )
    (source,) = youtube.register_sources(settings)
    assert source.search_results == 5
    assert source.cache_dir == settings.data_dir / "cache" / "yt-dlp"

    bad = settings_from_dict(
        {"plugins": {"youtube": {"search_result": 5}}}, base_dir=tmp_path
    )
    with pytest.raises(ValueError, match="search_result"):
        youtube.register_sources(bad)


def test_doctor_lines_name_yt_dlp_and_the_javascript_runtime(source):
    lines = {what: (ok, detail) for ok, what, detail in source.diagnostics()}
    assert lines["yt-dlp"][1] == __import__("yt_dlp.version").version.__version__
    ok, detail = lines["JavaScript runtime"]
    runtime = source.javascript_runtime()
    assert ok is (True if runtime else None)
    if runtime:
        assert runtime[0] in detail
