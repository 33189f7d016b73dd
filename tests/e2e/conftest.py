"""Helpers for end-to-end tests: write a small project, serve it with a real uvicorn server."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from emulator.testing import EmuServer

ServeFn = Callable[..., EmuServer]


def write_project(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (relative path → text, dedented) under ``root``; adds a rill.yaml if absent."""
    files = {"rill.yaml": "compiler: rillv1\n", **files}
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServeFn]:
    """``serve(files, **options)``: a running server over a fresh project made of ``files``."""
    servers: list[EmuServer] = []

    def start(files: dict[str, str], **options: object) -> EmuServer:
        root = write_project(tmp_path / f"project{len(servers)}", files)
        options.setdefault("watch", False)
        server = EmuServer(root, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
