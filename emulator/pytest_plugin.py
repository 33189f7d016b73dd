"""The pytest plugin (entry point ``pytest11``): fixtures serving a Rill project with rill-emu.

Inert unless its fixtures are used: importing it imports neither the server nor DuckDB.

- option ``--rill-project PATH`` / ini ``rill_project`` (relative to the rootdir); fixture
  ``rill_project`` (override it to compute the path);
- fixture ``rill_emu`` (session): a real server on a free loopback port, or the running emulator
  named by the environment variable ``RILL_EMU_URL`` (as ``rill-emu exec`` sets it);
- fixture ``rill_emu_sandbox`` (function): a watching server over a temporary copy of the project,
  with ``write``, ``remove`` and ``problems``. The copy and its server live for the session; after
  each test only the files that test changed are put back, so tests that change nothing rebuild
  nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from emulator.sandbox import EmuSandbox
    from emulator.testing import EmuClient


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--rill-project`` and the ``rill_project`` ini key."""
    group = parser.getgroup("rill-emu")
    group.addoption("--rill-project", default=None, metavar="PATH", help="the Rill project rill_emu serves")
    parser.addini("rill_project", "the Rill project rill_emu serves (relative to the rootdir)", default="")


@pytest.fixture(scope="session")
def rill_project(request: pytest.FixtureRequest) -> Path:
    """The project folder to serve: ``--rill-project``, else the ``rill_project`` ini key."""
    option = request.config.getoption("--rill-project")
    ini = request.config.getini("rill_project")
    if option:
        path = Path(option).resolve()
    elif ini:
        path = (Path(str(request.config.rootpath)) / str(ini)).resolve()
    else:
        raise pytest.UsageError("rill-emu: set --rill-project PATH or the rill_project ini key")
    if not path.is_dir():
        raise pytest.UsageError(f"rill-emu: the Rill project folder {path} does not exist")
    return path


@pytest.fixture(scope="session")
def rill_emu(rill_project: Path) -> Iterator[EmuClient]:
    """A rill-emu server for the session (or the one at ``RILL_EMU_URL``)."""
    from emulator.testing import URL_VARIABLE, EmuClient, EmuServer

    url = os.environ.get(URL_VARIABLE)
    if url:
        client = EmuClient(url)
        problem = None
        try:
            client.health()
        except ConnectionError as exc:
            problem = str(exc)
        if problem is not None:
            pytest.fail(f"{URL_VARIABLE}={url}: {problem}", pytrace=False)
        yield client
        return
    with EmuServer(rill_project, watch=False) as server:
        yield server


@pytest.fixture(scope="session")
def _rill_emu_sandbox_session(
    rill_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmuSandbox]:
    from emulator.sandbox import EmuSandbox

    with EmuSandbox(rill_project, tmp_path_factory.mktemp("rill-emu-sandbox")) as sandbox:
        yield sandbox


@pytest.fixture
def rill_emu_sandbox(_rill_emu_sandbox_session: EmuSandbox) -> Iterator[EmuSandbox]:
    """A rill-emu server over a temporary copy of the project, put back as it was after the test."""
    sandbox = _rill_emu_sandbox_session
    if sandbox.dirty:
        sandbox.reset()
    yield sandbox
    sandbox.reset()
