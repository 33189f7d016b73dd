"""Project files: discovery, ignore rules, path stems and reading with Rill's size limit.

Project paths are POSIX strings relative to the project root with a leading ``/`` (``/apis/top.yaml``),
as Rill's repo drivers list them.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = [
    "ALWAYS_IGNORED",
    "MAX_FILE_SIZE",
    "FileStat",
    "discover",
    "dotenv_environment",
    "is_dotenv",
    "is_ignored",
    "is_rill_yaml",
    "is_sql",
    "is_yaml",
    "path_stem",
    "read_bytes",
    "read_text",
    "scan",
]

ALWAYS_IGNORED: tuple[str, ...] = (
    "/tmp",
    "/.git",
    "/.github",
    "/node_modules",
    "/.DS_Store",
    "/.vscode",
    "/.idea",
    "/.rillcloud",
)

MAX_FILE_SIZE = 1 << 17  # 128 KiB, Rill's parser limit

FileStat = tuple[int, int]
"""A file's ``(mtime_ns, size)``: what the loader compares to notice changes."""


def is_ignored(path: str, ignore_paths: Sequence[str]) -> bool:
    """Whether ``path`` is, or is below, an always-ignored path or an ``ignore_paths`` entry.

    Entries are prefix matches on whole path segments, not globs; like Rill, an entry must start with
    ``/`` to match anything.
    """
    for entry in (*ALWAYS_IGNORED, *ignore_paths):
        entry = entry.rstrip("/")
        if entry and (path == entry or path.startswith(entry + "/")):
            return True
    return False


def is_sql(path: str) -> bool:
    """Whether ``path`` is a SQL file."""
    return path.endswith(".sql")


def is_yaml(path: str) -> bool:
    """Whether ``path`` is a YAML file."""
    return path.endswith((".yaml", ".yml"))


def is_rill_yaml(path: str) -> bool:
    """Whether ``path`` is the project file (``/rill.yaml`` or ``/rill.yml``)."""
    return path in ("/rill.yaml", "/rill.yml")


def is_dotenv(path: str) -> bool:
    """Whether ``path`` is a ``.env`` file (in any folder), or a named variant such as ``.dev.env``."""
    base = posixpath.basename(path)
    return base == ".env" or (base.startswith(".") and base.endswith(".env") and len(base) > len("..env"))


def dotenv_environment(path: str) -> str:
    """The environment a ``.env`` file applies to: ``""`` for ``.env``, ``"dev"`` for ``.dev.env``."""
    base = posixpath.basename(path)
    return "" if base == ".env" else base[1 : -len(".env")]


def path_stem(path: str) -> str:
    """``path`` without its final extension (``/a/b.yaml`` -> ``/a/b``), as Rill groups companions."""
    i = path.rfind(".")
    return path if i == -1 else path[:i]


def _wanted(path: str) -> bool:
    return is_sql(path) or is_yaml(path) or is_dotenv(path)


def scan(root: Path, ignore_paths: Sequence[str] = ()) -> dict[str, FileStat]:
    """Discover project files under ``root`` and stat them: ``{project path: (mtime_ns, size)}``.

    Symlinked files are followed only when they resolve inside ``root``; symlinked folders are not
    followed.
    """
    root = Path(root)
    real_root = os.path.realpath(root)
    found: dict[str, FileStat] = {}
    for path, entry in _walk(str(root), "", ignore_paths):
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                target = os.path.realpath(entry.path)
                if os.path.commonpath([real_root, target]) != real_root:
                    continue
                st = os.stat(target)
        except OSError:
            continue  # vanished or unreadable while we looked
        if stat.S_ISREG(st.st_mode):
            found[path] = (st.st_mtime_ns, st.st_size)
    return found


def _walk(directory: str, prefix: str, ignore_paths: Sequence[str]) -> Iterator[tuple[str, os.DirEntry[str]]]:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        path = f"{prefix}/{entry.name}"
        if is_ignored(path, ignore_paths):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(entry.path, path, ignore_paths)
        elif _wanted(path):
            yield path, entry


def discover(root: Path, ignore_paths: Sequence[str] = ()) -> list[str]:
    """Sorted project paths of every ``**/*.{sql,yaml,yml}`` and ``.env`` file not ignored."""
    return sorted(scan(root, ignore_paths))


def read_bytes(root: Path, path: str) -> bytes:
    """Read the project file ``path``."""
    with open(Path(root) / path.lstrip("/"), "rb") as f:
        return f.read()


def read_text(root: Path, path: str) -> str:
    """Read the project file ``path`` as text (invalid UTF-8 is replaced)."""
    return read_bytes(root, path).decode("utf-8", errors="replace")
