"""The ``rill-emu`` command line: ``serve``, ``exec``, ``validate``, ``openapi``, ``token``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator import __version__
from emulator.config import (
    DEFAULT_CACHE_BYTES,
    DEFAULT_HOST,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_PORT,
    DEFAULT_QUERY_TIMEOUT,
    EmuConfig,
)

if TYPE_CHECKING:
    from emulator.olap.duckdb import DuckDBEngine
    from emulator.runtime import Runtime


def _env_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _size(text: str) -> int:
    from emulator.cache import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value or None


def _project_dir(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"project folder not found: {text}")
    return path.resolve()


def _add_project_options(p: argparse.ArgumentParser, *, optional: bool) -> None:
    if optional:
        p.add_argument(
            "project",
            nargs="?",
            type=_project_dir,
            default=Path("."),
            help="the Rill project folder (default: the current folder)",
        )
    else:
        p.add_argument("project", type=_project_dir, help="the Rill project folder")
    p.add_argument(
        "--env",
        action="append",
        type=_env_pair,
        default=[],
        metavar="KEY=VALUE",
        help="set a project variable (overrides rill.yaml and .env); repeatable",
    )
    p.add_argument(
        "--environment",
        choices=["dev", "prod"],
        default="dev",
        help="which dev:/prod: overrides apply (default: dev, as `rill start`)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``rill-emu``."""
    parser = argparse.ArgumentParser(
        prog="rill-emu",
        description="A fast, faithful local emulator of Rill's custom APIs.",
    )
    parser.add_argument("--version", action="version", version=f"rill-emu {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="serve a project's APIs and OpenAPI document",
        description="Load a Rill project, build its models in DuckDB and serve its "
        "APIs at /v1/instances/default/api/<name>.",
    )
    _add_project_options(serve, optional=True)
    _add_serve_options(serve)

    run = sub.add_parser(
        "exec",
        help="serve a project while a command runs (RILL_EMU_URL set)",
        usage="rill-emu exec [serve options] [project] -- CMD ...",
        description="Start the emulator, wait until it serves, run CMD with RILL_EMU_URL "
        "set to its URL, then stop it; exits with CMD's status. --port 0 picks a free port.",
    )
    _add_project_options(run, optional=True)
    _add_serve_options(run)

    validate = sub.add_parser(
        "validate",
        help="load a project and print its problems: errors and lint warnings (exit 1 if any error)",
    )
    _add_project_options(validate, optional=False)

    doc = sub.add_parser("openapi", help="write the project's OpenAPI document")
    _add_project_options(doc, optional=False)
    doc.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="FILE",
        help="write to FILE (default: standard output); .yaml/.yml writes YAML",
    )
    doc.add_argument("--port", type=int, default=DEFAULT_PORT, help="port named in the server URL")

    token = sub.add_parser(
        "token",
        help="print a dev JWT for a mock user of rill.yaml",
        description="Print the unsigned dev JWT Rill's POST /v1/dev-jwt issues for a mock_users entry of "
        "rill.yaml; send it as 'Authorization: Bearer <jwt>'.",
    )
    token.add_argument("email", help="the e-mail of a mock_users entry")
    _add_project_options(token, optional=True)
    token.add_argument(
        "--attr",
        action="append",
        type=_env_pair,
        default=[],
        metavar="KEY=VALUE",
        help="add or override a user attribute (VALUE is JSON if it parses, else a string); repeatable",
    )
    return parser


def _add_serve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to bind (default: {DEFAULT_HOST}; any other than loopback needs --allow-remote)",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other machines can reach; rill-emu has no authentication (any caller is an "
        "admin and may run SQL), so only on a network you trust",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    p.add_argument(
        "--db",
        type=Path,
        default=None,
        metavar="FILE",
        help="persist the DuckDB database in FILE (default: in memory)",
    )
    p.add_argument(
        "--log-format",
        choices=["console", "json"],
        default="console",
        help="how to print events (default: console)",
    )
    p.add_argument(
        "--no-watch", dest="watch", action="store_false", help="do not watch the project folder for changes"
    )
    p.add_argument(
        "--as",
        dest="as_user",
        default=None,
        metavar="EMAIL",
        help="run requests that carry no identity as this mock user of rill.yaml (security applies)",
    )
    p.add_argument(
        "--allowed-origins",
        action="append",
        default=[],
        metavar="ORIGINS",
        help="CORS origins allowed besides http://localhost:PORT, comma-separated, repeatable; "
        "'*' allows any origin (as `rill start --allowed-origins`)",
    )
    p.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        help="do not cache query answers (by default identical queries on unchanged models are "
        "answered from memory, as Rill does)",
    )
    p.add_argument(
        "--cache-size",
        type=_size,
        default=DEFAULT_CACHE_BYTES,
        metavar="SIZE",
        help="memory for cached answers, e.g. 64MiB or 1GB (default: 256MiB); least recently used "
        "answers go first",
    )
    p.add_argument(
        "--max-body-size",
        type=_size,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="SIZE",
        help="largest request body accepted, e.g. 512KiB or 4MiB (default: 1MiB; 0: no limit); larger "
        "ones get 413",
    )
    p.add_argument(
        "--query-timeout",
        type=_seconds,
        default=DEFAULT_QUERY_TIMEOUT,
        metavar="SECONDS",
        help=f"interrupt a query running longer and answer 400 'query timed out after Ns' "
        f"(default: {DEFAULT_QUERY_TIMEOUT:g}; 0: never)",
    )
    p.add_argument(
        "--strict-args",
        action="store_true",
        help="answer 400 'missing argument \"x\"' when a template prints an arg the request lacks "
        "(Rill prints <no value> into the SQL)",
    )
    p.add_argument(
        "--validate-requests",
        action="store_true",
        help="check args against each API's openapi parameters and request_schema, answering 400 with "
        "what is wrong (Rill does not validate)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``rill-emu`` with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if argv[:1] == ["exec"] and "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1 :]
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "exec" and not command:
        parser.error("exec: give the command to run after --, e.g. rill-emu exec -- pytest")
    config = EmuConfig(
        project=args.project,
        env=dict(args.env),
        environment=args.environment,
        **(
            {
                "host": args.host,
                "port": args.port,
                "db": args.db,
                "log_format": args.log_format,
                "watch": args.watch,
                "default_user": args.as_user,
                "cache": args.cache,
                "cache_bytes": args.cache_size,
                "max_body_bytes": args.max_body_size,
                "query_timeout": args.query_timeout,
                "strict_args": args.strict_args,
                "validate_requests": args.validate_requests,
            }
            if args.command in ("serve", "exec")
            else {}
        ),
    )
    if args.command in ("serve", "exec") and not _bind_allowed(config, args.allow_remote):
        return 2
    if args.command == "serve":
        return _serve(config, args.allowed_origins)
    if args.command == "exec":
        from emulator.exec import run_exec

        return run_exec(config, command, extra_origins=args.allowed_origins)
    if args.command == "validate":
        return _validate(config)
    if args.command == "token":
        return _token(config, args.email, dict(args.attr))
    return _openapi(config, args.output, args.port)


def _bind_allowed(config: EmuConfig, allow_remote: bool) -> bool:
    """Refuse a non-loopback ``--host`` without ``--allow-remote``; warn with it."""
    from emulator.limits import bind_error, is_loopback, remote_warning

    error = bind_error(config.host, allow_remote)
    if error is not None:
        print(f"rill-emu: {error}", file=sys.stderr)
        return False
    if not is_loopback(config.host):
        print(f"rill-emu: {remote_warning(config.host, config.port)}", file=sys.stderr)
    return True


def _serve(config: EmuConfig, allowed_origins: Sequence[str]) -> int:
    import gc
    from concurrent.futures import ThreadPoolExecutor

    # No garbage collection while the server starts: loading allocates ~90,000 objects and the
    # collector would walk them ~130 times (30-40 ms); what survives is frozen afterwards, so later
    # full collections skip it (the few start-up cycles left uncollected cost ~3 MB).
    gc.disable()
    try:
        from emulator.cors import rill_start_origins
        from emulator.server import create_app

        # Load the project and build its models while uvicorn is imported: DuckDB releases the GIL
        # while it reads data, so the two overlap (start-up time, see docs/benchmarks.md).
        with ThreadPoolExecutor(1, thread_name_prefix="rill-emu-load") as pool:
            loading = pool.submit(
                create_app, config, allowed_origins=rill_start_origins(allowed_origins, config.port)
            )
            _import_web_server()
            app = loading.result()
        gc.freeze()
    finally:
        gc.enable()
    from emulator.shutdown import serve_until_signalled

    if config.default_user is not None:
        from emulator.identity import find_mock_user, unknown_user_error

        mock_users = app.state.emu.runtime.project.config.mock_users
        if find_mock_user(mock_users, config.default_user) is None:
            print(
                f"rill-emu: {unknown_user_error(config.default_user, mock_users, '--as').message}",
                file=sys.stderr,
            )
            app.state.emu.close()
            return 2
    return serve_until_signalled(app, config)


def _import_web_server() -> None:
    """Import, while the project loads in another thread, what serving will need.

    uvicorn's protocol, lifespan and event loop, and the metrics SQL compiler (sqlglot). Left to the
    first metrics call (in a query thread, or on the event loop), the compiler's import measured a
    peak RSS of 139-154 MB for sample_project, against 129-134 MB when imported here while the
    project loads; start-up pays part of it (docs/benchmarks.md).
    """
    import uvicorn.lifespan.on

    from emulator.httpproto import serving_options

    options = serving_options()
    if options["loop"] == "uvloop":
        import uvicorn.loops.uvloop  # noqa: F401
    import emulator.metrics.builder
    import emulator.metrics.sql_parser  # noqa: F401


def _load(config: EmuConfig) -> tuple[DuckDBEngine, Runtime]:
    from emulator.olap.duckdb import DuckDBEngine
    from emulator.runtime import RuntimeBuilder

    engine = DuckDBEngine(config.project)
    builder = RuntimeBuilder(config.project, engine, environment=config.environment, env_overrides=config.env)
    return engine, builder.build()


def _validate(config: EmuConfig) -> int:
    engine, runtime = _load(config)
    try:
        problems = runtime.problems
        for problem in problems:
            print(f"{problem.severity}: {problem}")
        errors = [p for p in problems if p.severity == "error"]
        print(
            f"{len(runtime.project.apis)} APIs, {len(runtime.project.models)} models, "
            f"{len(runtime.project.metrics_views)} metrics views; {len(errors)} errors, "
            f"{len(problems) - len(errors)} warnings",
            file=sys.stderr,
        )
        return 1 if errors else 0
    finally:
        engine.close()


def _openapi(config: EmuConfig, output: Path | None, port: int) -> int:
    from emulator import openapi

    engine, runtime = _load(config)
    try:
        doc = openapi.build_document(runtime.served_apis(), openapi.server_url(config.host, port))
        as_yaml = output is not None and output.suffix in (".yaml", ".yml")
        data = openapi.to_yaml(doc) if as_yaml else openapi.to_json(doc)
        if output is None:
            sys.stdout.buffer.write(data + b"\n")
        else:
            output.write_bytes(data)
        for problem in runtime.problems:
            print(f"{problem.severity}: {problem}", file=sys.stderr)
        return 0
    finally:
        engine.close()


def _token(config: EmuConfig, email: str, extra: dict[str, str]) -> int:
    import json

    from emulator.identity import find_mock_user, mint_dev_jwt, mock_user_attributes, unknown_user_error
    from emulator.project.rillyaml import parse_rill_yaml

    mock_users: Sequence[Any] = ()
    for name in ("rill.yaml", "rill.yml"):
        path = config.project / name
        if path.is_file():
            project_config, _ = parse_rill_yaml(
                "/" + name, path.read_text(encoding="utf-8"), config.environment
            )
            mock_users = project_config.mock_users
            break
    user = find_mock_user(mock_users, email)
    if user is None:
        print(f"rill-emu: {unknown_user_error(email, mock_users, 'rill-emu token').message}", file=sys.stderr)
        return 1
    attributes: dict[str, Any] = mock_user_attributes(user)
    for key, text in extra.items():
        try:
            attributes[key] = json.loads(text)
        except ValueError:
            attributes[key] = text
    print(mint_dev_jwt(attributes))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
