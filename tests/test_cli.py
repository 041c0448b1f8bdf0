"""The command line, run as a script or a service manager would run it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import soundfile as sf

from stemtube import db, users

from support import TEST_DATA, free_port


def settings_file(tmp_path: Path, tiny_models: Path, port: int = 5011) -> Path:
    path = tmp_path / "stemtube.toml"
    path.write_text(
        f'[server]\nport = {port}\n[storage]\ndata_dir = "data"\n'
        f'[plugins.demucs]\nmodels_dir = "{tiny_models}"\nallow_download = false\n'
        # The example plugin, when installed, stays out of these tests.
        "[plugins.hpss]\nenabled = false\n"
    )
    return path


def stemtube(*args: str, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("timeout", 300)
    return subprocess.run(
        [sys.executable, "-m", "stemtube.cli", *args],
        capture_output=True,
        text=True,
        **kwargs,
    )


def test_help_lists_every_command():
    result = stemtube("--help")
    assert result.returncode == 0
    for command in ("serve", "user", "models", "separate", "admin", "doctor"):
        assert command in result.stdout


def test_the_admin_console_says_it_needs_a_terminal(tmp_path, tiny_models):
    config = settings_file(tmp_path, tiny_models)
    result = stemtube("--config", str(config), "admin", stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert "needs a terminal" in result.stderr
    assert "Traceback" not in result.stderr


def test_user_add_reads_the_password_from_standard_input(tmp_path, tiny_models):
    config = settings_file(tmp_path, tiny_models)
    added = stemtube(
        "--config",
        str(config),
        "user",
        "add",
        "carol",
        "--admin",
        input="a long enough password\n",
    )
    assert added.returncode == 0, added.stderr
    assert "admin carol" in added.stdout
    again = stemtube(
        "--config",
        str(config),
        "user",
        "add",
        "carol",
        input="a long enough password\n",
    )
    assert again.returncode == 1
    assert "taken" in again.stderr
    weak = stemtube("--config", str(config), "user", "add", "dave", input="short\n")
    assert weak.returncode == 1
    listed = stemtube(
        "user", "list", env={**os.environ, "STEMTUBE_CONFIG": str(config)}
    )
    assert listed.stdout.split() == ["carol", "(admin)"]

    changed = stemtube(
        "--config", str(config), "user", "passwd", "carol", input="another password\n"
    )
    assert changed.returncode == 0, changed.stderr
    nobody = stemtube(
        "--config", str(config), "user", "passwd", "nobody", input="another password\n"
    )
    assert nobody.returncode == 1
    assert "no user 'nobody'" in nobody.stderr

    async def check() -> tuple:
        conn = await db.connect(tmp_path / "data" / "stemtube.db")
        try:
            old = await users.authenticate(conn, "carol", "a long enough password")
            new = await users.authenticate(conn, "carol", "another password")
            return old, new
        finally:
            await conn.close()

    old, new = asyncio.run(check())
    assert old is None
    assert new is not None and new.session_epoch == 1


def test_a_bad_settings_file_names_the_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("[server]\nport = 'eighty'\n")
    result = stemtube("--config", str(config), "user", "list")
    assert result.returncode == 2
    assert "[server] port" in result.stderr


def test_separate_splits_a_file_without_the_server(tmp_path, tiny_models):
    config = settings_file(tmp_path, tiny_models)
    out = tmp_path / "stems"
    song = TEST_DATA / "real" / "trumpet_loop.ogg"
    result = stemtube(
        "--config",
        str(config),
        "separate",
        str(song),
        "--model",
        "htdemucs_6s",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "100%" in result.stderr
    frames = sf.info(song).frames
    stems = sorted(p.stem for p in out.glob("*.wav"))
    assert stems == ["bass", "drums", "guitar", "other", "piano", "vocals"]
    for path in out.glob("*.wav"):
        assert sf.info(path).frames == frames
        assert sf.info(path).samplerate == 44100


def test_separate_without_weights_says_how_to_get_them(tmp_path):
    config = settings_file(tmp_path, tmp_path / "no-models")
    result = stemtube(
        "--config",
        str(config),
        "separate",
        str(TEST_DATA / "real" / "robin.ogg"),
        "--out",
        str(tmp_path / "o"),
    )
    assert result.returncode == 1
    assert "MODEL_UNAVAILABLE" in result.stderr
    assert "stemtube models download htdemucs" in result.stderr
    assert not (tmp_path / "o").exists()


@contextlib.contextmanager
def serving(config: Path) -> Iterator[str]:
    """`stemtube serve` in a child process, stopped by Ctrl-C as in a terminal.

    Gives what it printed up to its "listening" line.
    """
    server = subprocess.Popen(
        [sys.executable, "-m", "stemtube.cli", "--config", str(config), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed = ""
        deadline = time.monotonic() + 60
        while "listening" not in printed and time.monotonic() < deadline:
            printed += server.stdout.readline()
        yield printed
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)


def test_first_start_prints_a_one_time_admin_password_not_logged(tmp_path, tiny_models):
    port = free_port()
    config = settings_file(tmp_path, tiny_models, port)
    with serving(config) as printed:
        password = re.search(r"password: (\S+)", printed).group(1)
        for _ in range(100):
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/login",
                    data=f'{{"username": "admin", "password": "{password}"}}'.encode(),
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=5) as answer:
                    assert b'"is_admin":true' in answer.read().replace(b" ", b"")
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("the server never answered")
    log_text = (tmp_path / "data" / "logs" / "stemtube.log").read_text()
    assert password not in log_text
    assert "StemTube ready" in log_text
    # The folder holding the password hashes and the log is the owner's only.
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700

    with serving(config) as printed:
        assert "listening" in printed
        assert "password:" not in printed
    shutil.rmtree(tmp_path / "data")


def test_serve_speaks_https_with_a_certificate_and_refuses_a_bad_one(
    tmp_path, tiny_models
):
    import ssl

    port = free_port()
    config = settings_file(tmp_path, tiny_models, port)
    make_certificate = (
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost"
        " -keyout key.pem -out cert.pem"
    )
    subprocess.run(
        make_certificate.split(),
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    text = config.read_text()
    tls = 'tls_certfile = "cert.pem"\ntls_keyfile = "key.pem"\n'
    config.write_text(text.replace("[server]\n", "[server]\n" + tls))
    client = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    client.check_hostname = False
    with serving(config) as printed:
        assert f"listening on https://127.0.0.1:{port}/" in printed
        for _ in range(100):
            try:
                url = f"https://127.0.0.1:{port}/login"
                with urllib.request.urlopen(url, context=client, timeout=5) as answer:
                    assert answer.status == 200
                break
            except urllib.error.URLError as exc:
                assert not isinstance(exc.reason, ssl.SSLError), exc
                time.sleep(0.2)
        else:
            raise AssertionError("the server never answered")

    # A key file that holds no key: a message, no traceback.
    (tmp_path / "key.pem").write_text("not a key\n")
    result = stemtube("--config", str(config), "serve", timeout=60)
    assert result.returncode == 2
    assert "cannot serve HTTPS" in result.stderr and "key.pem" in result.stderr
    assert "Traceback" not in result.stderr
    config.write_text(text.replace("[server]\n", '[server]\ntls_keyfile = "k"\n'))
    result = stemtube("--config", str(config), "serve", timeout=60)
    assert result.returncode == 2
    assert "must be set together" in result.stderr


def test_doctor_reports_each_part_and_fails_without_a_separator(tmp_path, tiny_models):
    config = settings_file(tmp_path, tiny_models)
    healthy = stemtube("--config", str(config), "doctor")
    assert healthy.returncode == 0, healthy.stdout
    assert re.search(r"^ok +plugin demucs +loaded", healthy.stdout, re.M)
    assert re.search(r"^ok +weights htdemucs_6s +present", healthy.stdout, re.M)
    assert re.search(r"^ok +device +cpu", healthy.stdout, re.M)
    assert re.search(r"^ok +yt-dlp +20\d\d\.\d+\.\d+", healthy.stdout, re.M)
    assert re.search(r"^(ok|note) +JavaScript runtime ", healthy.stdout, re.M)
    assert re.search(r"^ok +ffmpeg program +\S+ffmpeg", healthy.stdout, re.M)
    assert re.search(r"^ok +plugin madmom +loaded", healthy.stdout, re.M)
    assert re.search(r"^ok +chord backends +.*madmom", healthy.stdout, re.M)
    assert re.search(r"^ok +key analyser +madmom-key", healthy.stdout, re.M)
    assert healthy.stdout.rstrip().endswith("all good")

    config.write_text(
        config.read_text().replace("allow_download", "enabled = false\nallow_download")
    )
    broken = stemtube("--config", str(config), "doctor")
    assert broken.returncode == 1
    assert re.search(r"^note +plugin demucs +disabled", broken.stdout, re.M)
    assert re.search(r"^FAIL +separation models +none", broken.stdout, re.M)

    off = "".join(
        f"\n[plugins.{name}]\nenabled = false\n"
        for name in ("madmom", "lvchordia", "hybrid", "btc")
    )
    config.write_text(config.read_text() + off)
    without = stemtube("--config", str(config), "doctor")
    assert re.search(r"^note +chord backends +none loaded", without.stdout, re.M)


def test_serve_on_a_port_in_use_says_so_and_exits(tmp_path, tiny_models):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = settings_file(tmp_path, tiny_models, port=port)
        result = stemtube("--config", str(config), "serve", timeout=60)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
    assert "listening on" not in result.stdout


def test_separate_into_a_file_is_refused_with_a_message(tmp_path, tiny_models):
    config = settings_file(tmp_path, tiny_models)
    not_a_folder = tmp_path / "taken.txt"
    not_a_folder.write_text("x")
    result = stemtube(
        "--config",
        str(config),
        "separate",
        str(TEST_DATA / "real" / "robin.ogg"),
        "--out",
        str(not_a_folder),
    )
    assert result.returncode == 1
    assert "not a folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_fails_when_weights_are_missing_and_downloads_are_off(tmp_path):
    config = settings_file(tmp_path, tmp_path / "no-models")
    result = stemtube("--config", str(config), "doctor")
    assert result.returncode == 1
    assert re.search(
        r"^FAIL +weights htdemucs +missing and downloads are off", result.stdout, re.M
    )


def test_importing_a_file_that_is_not_there_says_so(tmp_path, tiny_models):
    config = settings_file(tmp_path, tiny_models)
    result = stemtube("--config", str(config), "models", "import", "/nonexistent.th")
    assert result.returncode == 1
    assert "no such file: /nonexistent.th" in result.stderr


def test_a_btc_checkpoint_is_imported_and_doctor_sees_it(tmp_path, tiny_models):
    from btc_models import write_checkpoint

    config = settings_file(tmp_path, tiny_models)
    checkpoint = write_checkpoint(tmp_path / "from another machine.pt", 25)
    result = stemtube("--config", str(config), "models", "import", str(checkpoint))
    assert result.returncode == 0, result.stderr
    assert "for btc-majmin" in result.stdout
    assert (tmp_path / "data" / "models" / "btc" / "btc_model.pt").is_file()

    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    junk = stemtube(
        "--config", str(config), "models", "import", str(tmp_path / "junk.pt")
    )
    assert junk.returncode == 1
    assert "cannot be read" in junk.stderr
