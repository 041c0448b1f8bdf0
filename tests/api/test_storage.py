"""Files by path: only inside the data folder, only what the caller may see."""

from __future__ import annotations

import io
import itertools
import os
import zipfile
from urllib.parse import quote

import pytest

from stemtube.api.storage import safe_filename

from support import TEST_DATA, extract, upload


@pytest.fixture
async def song(live_server, alice):
    """Robin uploaded and split by alice: (upload answer, extraction id, paths)."""
    item, extraction_id = await extract(live_server, alice)
    async with alice.get(f"/api/extractions/{extraction_id}") as answer:
        stems = (await answer.json())["stems_paths"]
    async with alice.get(f"/api/downloads/{item['video_id']}") as answer:
        source = (await answer.json())["file_path"]
    return item, extraction_id, source, stems


async def test_a_song_and_its_stems_download_by_their_paths(live_server, alice, song):
    _, _, source, stems = song
    async with alice.get("/api/download-file", params={"path": source}) as answer:
        assert answer.status == 200
        assert "robin.ogg" in answer.headers["Content-Disposition"]
        assert await answer.read() == (TEST_DATA / "real" / "robin.ogg").read_bytes()
    absolute = str(live_server.settings.data_dir / stems["vocals"])
    async with alice.get("/api/download-file", params={"path": absolute}) as answer:
        assert answer.status == 200
        disposition = answer.headers["Content-Disposition"]
    assert 'filename="robin - vocals.wav"' in disposition
    assert "filename*=UTF-8''robin%20-%20vocals.wav" in disposition


async def test_stream_audio_answers_byte_ranges(alice, song):
    _, _, source, _ = song
    whole = (TEST_DATA / "real" / "robin.ogg").read_bytes()
    async with alice.get(
        "/api/stream-audio", params={"path": source}, headers={"Range": "bytes=10-19"}
    ) as answer:
        assert answer.status == 206
        assert answer.headers["Content-Type"] == "audio/ogg"
        assert await answer.read() == whole[10:20]


async def test_list_files_shows_an_items_folder(alice, song):
    _, extraction_id, source, _ = song
    folder = source.rsplit("/", 1)[0]
    async with alice.post("/api/list-files", json={"path": folder}) as answer:
        files = (await answer.json())["files"]
    assert {f["name"]: f["is_directory"] for f in files} == {
        "source.ogg": False,
        "stems": True,
    }
    async with alice.post(
        "/api/list-files", json={"path": f"{folder}/stems/{extraction_id}"}
    ) as answer:
        names = sorted(f["name"] for f in (await answer.json())["files"])
    assert names == ["bass.wav", "drums.wav", "other.wav", "vocals.wav"]


async def test_another_users_files_are_not_found(bob, song):
    _, _, source, stems = song
    for path in (source, stems["vocals"]):
        async with bob.get("/api/download-file", params={"path": path}) as answer:
            assert answer.status == 404
    async with bob.post("/api/list-files", json={"path": "media/1"}) as answer:
        assert answer.status == 404


async def test_stems_need_the_extraction_not_only_the_song(live_server, bob, song):
    _, _, _, stems = song
    await upload(bob, TEST_DATA / "real" / "robin.ogg")  # the song, not its stems
    async with bob.get("/api/download-file", params={"path": stems["drums"]}) as answer:
        assert answer.status == 404


#: (path, status) pairs that must all be refused; one song serves them all.
ATTACKS = [
    ("stemtube.db", 403),
    ("secret_key", 403),
    ("media/1/../../stemtube.db", 403),
    ("../../../../etc/passwd", 403),
    ("/etc/passwd", 403),
    ("media%2F1%2F..%2F..%2Fstemtube.db", 403),
    ("media/1/.incoming", 404),
    ("media/999/source.ogg", 404),
    ("media", 404),
    ("logs/stemtube.log", 403),
    ("media/1/" + "a" * 300, 404),
    ("", 400),
]


async def test_paths_out_of_an_item_are_refused(alice, song):
    for path, status in ATTACKS:
        for route in ("/api/download-file", "/api/stream-audio"):
            async with alice.get(route, params={"path": path}) as answer:
                assert answer.status == status, (route, path)
                assert "code" in await answer.json()
        async with alice.post("/api/list-files", json={"path": path}) as answer:
            assert answer.status == status, ("list-files", path)


async def test_a_link_out_of_the_data_folder_is_refused(live_server, alice, song):
    _, _, source, _ = song
    folder = live_server.settings.data_dir / source.rsplit("/", 1)[0]
    secret = live_server.settings.data_dir.parent / "outside.txt"
    secret.write_text("not for users")
    os.symlink(secret, folder / "sneaky.ogg")
    async with alice.get(
        "/api/download-file", params={"path": f"{source.rsplit('/', 1)[0]}/sneaky.ogg"}
    ) as answer:
        assert answer.status == 403
    async with alice.post(
        "/api/list-files", json={"path": source.rsplit("/", 1)[0]}
    ) as answer:
        assert "sneaky.ogg" not in [f["name"] for f in (await answer.json())["files"]]


async def test_a_zip_of_the_stems_is_named_from_the_title(live_server, alice, song):
    _, extraction_id, _, _ = song
    async with alice.post(f"/api/extractions/{extraction_id}/create-zip") as answer:
        body = await answer.json()
    assert body["filename"] == "robin (htdemucs).zip"
    async with alice.get(body["download_url"]) as answer:
        assert answer.status == 200
        archive = zipfile.ZipFile(io.BytesIO(await answer.read()))
    assert sorted(archive.namelist()) == [
        f"robin - {stem}.wav" for stem in ("bass", "drums", "other", "vocals")
    ]
    assert quote("robin (htdemucs).zip") in body["download_url"]


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Song / Title: Live?", "Song Title Live"),
        ("..\\..\\evil", "evil"),
        ("Café del Mar – 夜に駆ける", "Café del Mar – 夜に駆ける"),
        ("trailing dots...  ", "trailing dots"),
        ("tab\tand\nnewline", "tab and newline"),
        ("", "stems"),
        ("x" * 300, "x" * 120),
    ],
)
def test_titles_become_safe_file_names(title, name):
    assert safe_filename(title) == name


def test_a_long_title_in_any_script_fits_a_file_name():
    for title in ("夜" * 150, "🎸" * 100, "é" * 130):
        name = safe_filename(title, " (htdemucs_6s).zip")
        assert len(name.encode()) <= 255
        assert name.startswith(title[0])


async def test_open_folder_needs_a_desktop_on_the_server(alice, song, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    _, _, source, _ = song
    async with alice.post("/api/open-folder", json={"path": source}) as answer:
        assert answer.status == 403
        body = await answer.json()
    assert body["code"] == "OPEN_FOLDER_UNAVAILABLE"
    assert "desktop" in body["error"]
    async with alice.post(
        "/api/open-folder",
        json={"path": source},
        headers={"X-Forwarded-For": "203.0.113.9"},
    ) as answer:
        assert "server itself" in (await answer.json())["error"]


async def test_stem_peaks_draw_each_stems_waveform(live_server, alice, bob, song):
    import numpy as np
    import soundfile

    _, extraction_id, _, stems = song
    url = f"/api/extractions/{extraction_id}/peaks"
    async with alice.get(url, params={"points": 64}) as answer:
        assert answer.status == 200, await answer.text()
        found = await answer.json()
    assert sorted(found["peaks"]) == sorted(stems) and found["points"] == 64
    for name, relative in stems.items():
        audio, rate = soundfile.read(
            live_server.settings.data_dir / relative, dtype="float32", always_2d=True
        )
        assert found["duration"] == pytest.approx(len(audio) / rate, abs=1e-3)
        mono = audio.mean(axis=1)
        # 4000 equal slices are kept, then pooled into 64 equal groups.
        cuts = np.linspace(0, len(mono), 4001).astype(int)
        slices = [mono[a:b] for a, b in itertools.pairwise(cuts)]
        groups = np.linspace(0, 4000, 65).astype(int)
        expected = [
            [
                min(0.0, *(float(part.min()) for part in slices[a:b] if len(part))),
                max(0.0, *(float(part.max()) for part in slices[a:b] if len(part))),
            ]
            for a, b in itertools.pairwise(groups)
        ]
        assert np.allclose(found["peaks"][name], expected, atol=2e-4), name
    folder = (live_server.settings.data_dir / stems["vocals"]).parent
    assert (folder / "peaks.json").is_file()  # kept for the next player

    for points in ("15", "4001", "many"):
        async with alice.get(url, params={"points": points}) as answer:
            assert answer.status == 400
            assert (await answer.json())["code"] == "INVALID_POINTS"
    async with bob.get(url) as answer:
        assert answer.status == 404
    async with live_server.session().get(url) as answer:
        assert answer.status == 401
