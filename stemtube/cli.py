"""The ``stemtube`` command: serve, users, models, and separation without a server.

Scripts and service managers rely on these commands and options; keep them
stable.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from pathlib import Path

from stemtube import __version__
from stemtube.config import CONFIG_ENV, ConfigError, Settings, load_settings

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stemtube",
        description="StemTube: a self-hosted music server that splits songs "
        "into stems for practice.",
        epilog=f"Settings come from --config FILE, else ${CONFIG_ENV}, else "
        "./stemtube.toml, else built-in defaults.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--config",
        metavar="FILE",
        help=f"settings file (default: ${CONFIG_ENV} or ./stemtube.toml)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the web server")
    serve.add_argument("--host", help="address to listen on ([server] host)")
    serve.add_argument("--port", type=int, help="port to listen on ([server] port)")
    serve.set_defaults(func=cmd_serve)

    user = commands.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(
        dest="user_command", metavar="ACTION", required=True
    )
    add = user_commands.add_parser(
        "add",
        help="add a user; the password is asked at a prompt, or read from "
        "standard input when that is not a terminal",
    )
    add.add_argument("name", help="the new user's login name")
    add.add_argument("--admin", action="store_true", help="give the admin role")
    add.set_defaults(func=cmd_user_add)
    passwd = user_commands.add_parser(
        "passwd",
        help="set a user's password and end their sessions; read as for add",
    )
    passwd.add_argument("name", help="the user's login name")
    passwd.set_defaults(func=cmd_user_passwd)
    listing = user_commands.add_parser("list", help="list users")
    listing.set_defaults(func=cmd_user_list)

    plugins = commands.add_parser(
        "plugins", help="list plugins with version and status; enable or disable one"
    )
    plugin_commands = plugins.add_subparsers(dest="plugins_command", metavar="ACTION")
    plugins.set_defaults(func=cmd_plugins_list)
    plugin_commands.add_parser(
        "list", help="each plugin: version, status (loaded, disabled, failed) and why"
    ).set_defaults(func=cmd_plugins_list)
    for action, text in (("enable", "turn on"), ("disable", "turn off")):
        switch = plugin_commands.add_parser(
            action,
            help=f"{text} a plugin in the settings file; the server applies it at "
            "its next start",
        )
        switch.add_argument(
            "name", help="the plugin's name, as `stemtube plugins` shows"
        )
        switch.set_defaults(func=cmd_plugins_switch, enable=action == "enable")

    models = commands.add_parser("models", help="manage separation model weights")
    model_commands = models.add_subparsers(
        dest="models_command", metavar="ACTION", required=True
    )
    show = model_commands.add_parser(
        "list", help="list models and whether their weights are here"
    )
    show.set_defaults(func=cmd_models_list)
    download = model_commands.add_parser(
        "download", help="download a model's weights now (e.g. htdemucs)"
    )
    download.add_argument("name", help="model name, e.g. htdemucs or htdemucs_6s")
    download.set_defaults(func=cmd_models_download)
    imp = model_commands.add_parser(
        "import",
        help="install a weights file copied from another machine: demucs's "
        "(e.g. 955717e8-8726e21a.th) or btc's (btc_model_large_voca.pt)",
    )
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=cmd_models_import)

    admin = commands.add_parser(
        "admin",
        help="the admin console in this terminal: users, storage, jobs, logs "
        "and health, with or without the server running",
    )
    admin.set_defaults(func=cmd_admin)

    doctor = commands.add_parser(
        "doctor",
        help="check the settings, data folder, plugins, model weights, "
        "ffmpeg and device; exit 1 if StemTube cannot split songs",
    )
    doctor.set_defaults(func=cmd_doctor)

    separate = commands.add_parser(
        "separate", help="split an audio file into stems without the server"
    )
    separate.add_argument("file", type=Path, help="any audio or video file")
    separate.add_argument(
        "--model", help="model name (default: [separation] default_model, htdemucs)"
    )
    separate.add_argument(
        "--out", type=Path, help="output folder (default: ./<file name>_stems)"
    )
    separate.set_defaults(func=cmd_separate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config)
    except ConfigError as exc:
        print(f"stemtube: bad settings: {exc}", file=sys.stderr)
        return 2
    try:
        return args.func(settings, args) or 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `stemtube doctor | head`
        sys.stderr.close()
        return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import dataclasses

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from stemtube.app import create_app
    from stemtube.logs import configure_logging

    server = settings.server
    if args.host or args.port:
        server = dataclasses.replace(
            server, host=args.host or server.host, port=args.port or server.port
        )
        settings = settings.replace(server=server)
    problem = _cannot_listen(server.host, server.port)
    if problem:
        print(
            f"stemtube: cannot listen on {server.host}:{server.port}: {problem}. "
            "Is StemTube already running? Pick another port with --port.",
            file=sys.stderr,
        )
        return 1
    configure_logging(settings)
    from stemtube import users

    first = _with_db(settings, users.ensure_first_admin)
    if first:
        # Printed, never logged: the password must not land in the log file.
        print(
            "\n  No users yet: created the admin account.\n"
            f"    username: {first[0]}\n    password: {first[1]}\n"
            "  This password is shown once. Change it with "
            f"`stemtube user passwd {first[0]}`; add users with "
            "`stemtube user add NAME`.\n",
            flush=True,
        )
    config = Config()
    config.bind = [f"{server.host}:{server.port}"]
    config.accesslog = None
    config.graceful_timeout = 5
    scheme = "http"
    if server.tls:
        problem = _unusable_tls(server.tls_certfile, server.tls_keyfile)
        if problem:
            print(f"stemtube: cannot serve HTTPS: {problem}", file=sys.stderr)
            return 2
        config.certfile = server.tls_certfile
        config.keyfile = server.tls_keyfile
        scheme = "https"
    print(f"StemTube listening on {scheme}://{server.host}:{server.port}/", flush=True)
    asyncio.run(serve(create_app(settings), config))
    return 0


def _unusable_tls(certfile: str, keyfile: str) -> str | None:
    """Why the certificate and key cannot serve HTTPS, or None."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(certfile, keyfile)
    except FileNotFoundError as exc:
        return f"{exc.filename} does not exist"
    except PermissionError as exc:
        return f"{exc.filename} cannot be read"
    except ssl.SSLError as exc:
        return f"{certfile} and {keyfile} are not a PEM certificate and its key ({exc})"
    return None


def _cannot_listen(host: str, port: int) -> str | None:
    """Why the address cannot be listened on (in use, not ours), or None."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return exc.strerror or str(exc)
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def _read_password(name: str) -> str | None:
    """A password asked twice at a prompt, or one line of standard input."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass(f"Password for {name}: ")
    if getpass.getpass("Again: ") != password:
        print("stemtube: the passwords differ", file=sys.stderr)
        return None
    return password


def _with_db(settings: Settings, action):
    """Run ``action(connection)`` on the database; its result."""
    from stemtube import db

    async def run():
        conn = await db.connect(settings.data_dir / "stemtube.db")
        try:
            return await action(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


# TODO: log user changes made here and in the console, as the web's are.
def cmd_user_add(settings: Settings, args: argparse.Namespace) -> int:
    from stemtube import users

    password = _read_password(args.name)
    if password is None:
        return 1
    try:
        user = _with_db(
            settings,
            lambda conn: users.create_user(
                conn, args.name, password, is_admin=args.admin
            ),
        )
    except users.UserError as exc:
        print(f"stemtube: {exc.message}", file=sys.stderr)
        return 1
    role = "admin" if user.is_admin else "user"
    print(f"added {role} {user.username}")
    return 0


def cmd_user_passwd(settings: Settings, args: argparse.Namespace) -> int:
    # TODO: say an unknown user is unknown before asking for the password.
    from stemtube import users

    password = _read_password(args.name)
    if password is None:
        return 1
    try:
        _with_db(settings, lambda conn: users.set_password(conn, args.name, password))
    except users.UserError as exc:
        print(f"stemtube: {exc.message}", file=sys.stderr)
        return 1
    print(f"changed the password of {args.name}; their sessions have ended")
    return 0


def cmd_user_list(settings: Settings, args: argparse.Namespace) -> int:
    from stemtube import users

    for user in _with_db(settings, users.list_users):
        print(f"{user.username}{'  (admin)' if user.is_admin else ''}")
    return 0


def _registry(settings: Settings):
    from stemtube.registry import PluginRegistry

    return PluginRegistry(settings)


def cmd_plugins_list(settings: Settings, args: argparse.Namespace) -> int:
    registry = _registry(settings)
    for info in sorted(registry.plugins.values(), key=lambda i: i.name):
        providers = ", ".join(info.providers)
        detail = info.message or (f"provides {providers}" if providers else "")
        print(f"{info.name:16} {info.version or '-':12} {info.status:9} {detail}")
    return 0


def cmd_plugins_switch(settings: Settings, args: argparse.Namespace) -> int:
    """Set ``[plugins.NAME] enabled`` in the settings file, keeping its comments."""
    import tomlkit

    from stemtube.config import DEFAULT_FILE

    known = set(_registry(settings).plugins)
    if args.name not in known:
        names = ", ".join(sorted(known))
        print(f"stemtube: no plugin {args.name!r}; known: {names}", file=sys.stderr)
        return 1
    path = settings.source or Path(DEFAULT_FILE)
    document = tomlkit.parse(path.read_text()) if path.exists() else tomlkit.document()
    plugins = document.setdefault("plugins", tomlkit.table(is_super_table=True))
    table = plugins.setdefault(args.name, tomlkit.table())
    state = "enabled" if args.enable else "disabled"
    if table.get("enabled", True) == args.enable:
        print(f"{args.name} is already {state} in {path}")
        return 0
    table["enabled"] = args.enable
    path.write_text(tomlkit.dumps(document))
    print(f"{args.name} {state} in {path}; restart the server to apply it")
    return 0


def cmd_models_list(settings: Settings, args: argparse.Namespace) -> int:
    registry = _registry(settings)
    for model, stems in registry.models().items():
        separator = registry.separator_for(model)
        has = getattr(separator, "has_weights", lambda m: True)(model)
        state = "present" if has else "not downloaded"
        print(f"{model:14} {separator.name:8} {state:15} {', '.join(stems)}")
    return 0


def cmd_models_download(settings: Settings, args: argparse.Namespace) -> int:
    from stemtube.providers import ProviderError

    separator = _registry(settings).separator_for(args.name)
    if separator is None:
        print(f"stemtube: no separator offers the model {args.name!r}", file=sys.stderr)
        return 1
    with _ProgressBar(f"{args.name} weights") as bar:
        try:
            separator.ensure_model(args.name, bar.update)
        except ProviderError as exc:
            print(
                f"\nstemtube: {exc.detail or exc.message}\n"
                "Check this machine's internet access, or copy the weights file "
                "here from a machine that has it and run `stemtube models import "
                "FILE`.",
                file=sys.stderr,
            )
            return 1
    print(f"{args.name} is ready")
    return 0


def cmd_models_import(settings: Settings, args: argparse.Namespace) -> int:
    from stemtube.plugins.separators import demucs
    from stemtube.providers import ProviderError

    if not args.file.is_file():
        print(f"stemtube: no such file: {args.file}", file=sys.stderr)
        return 1
    try:
        if args.file.suffix == ".pt":
            from stemtube.plugins.chords import btc

            models = [btc.import_weights(args.file, btc.models_dir_for(settings))]
        else:
            models = demucs.import_weights(args.file, demucs.models_dir_for(settings))
    except ProviderError as exc:
        print(f"stemtube: {exc.message}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"stemtube: {exc}", file=sys.stderr)
        return 1
    print(f"imported {args.file.name} for {', '.join(models)}")
    return 0


def cmd_admin(settings: Settings, args: argparse.Namespace) -> int:
    """Run the Textual admin console on the settings' data folder."""
    from stemtube.admin_tui.app import run

    if not sys.stdout.isatty():
        print("stemtube: the admin console needs a terminal", file=sys.stderr)
        return 2
    return run(settings)


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    """Print what StemTube will run with, and whether each part works."""
    from stemtube.doctor import checks

    found = checks(settings)
    for check in found:
        print(f"{check.mark:4} {check.what:20} {check.detail}")
    problems = sum(check.ok is False for check in found)
    print("all good" if not problems else f"{problems} problem(s) found")
    return 1 if problems else 0


def cmd_separate(settings: Settings, args: argparse.Namespace) -> int:
    from stemtube.extraction import separate_file
    from stemtube.providers import ProviderError

    model = args.model or settings.separation.default_model
    if not args.file.is_file():
        what = "a folder, not a file" if args.file.is_dir() else "no such file"
        print(f"stemtube: {what}: {args.file}", file=sys.stderr)
        return 1
    out = args.out or Path(f"{args.file.stem}_stems")
    if out.exists() and not out.is_dir():
        print(f"stemtube: --out is a file, not a folder: {out}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.WARNING)
    with _ProgressBar(f"{args.file.name} ({model})") as bar:
        try:
            stems = separate_file(settings, args.file, model, out.resolve(), bar.update)
        except ProviderError as exc:
            print(f"\nstemtube: {exc.code}: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            print(
                f"\nstemtube: cannot write the stems to {out}: {exc.strerror}",
                file=sys.stderr,
            )
            return 1
    for stem in stems:
        print(out / f"{stem}.wav")
    return 0


class _ProgressBar:
    """A tqdm bar driven by progress(percent, message) callbacks."""

    def __init__(self, label: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=100,
            desc=label,
            unit="%",
            file=sys.stderr,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}",
        )

    def update(self, percent: float, message: str) -> None:
        self._bar.n = min(100.0, percent)
        self._bar.set_postfix_str(message, refresh=False)
        self._bar.refresh()

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.close()


if __name__ == "__main__":
    sys.exit(main())
