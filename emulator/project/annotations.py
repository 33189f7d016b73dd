"""``-- @key: value`` annotations in SQL comments (Rill's ``runtime/pkg/sqlparse/annotations.go``)."""

from __future__ import annotations

import re
from typing import Any

from emulator.errors import ProjectError

__all__ = ["expand_annotations", "extract_annotations"]

# Go's RE2 ``\s`` is ASCII whitespace only, hence the explicit class.
_ANNOTATION = re.compile(r"^--[ \t]*@([a-zA-Z0-9_\-.]*)[ \t]*(?::[ \t]*(.*?))?[ \t\n\f\r]*$", re.MULTILINE)


def extract_annotations(sql: str) -> dict[str, str]:
    """Every ``-- @key`` / ``-- @key: value`` line of ``sql`` as a map (a later key wins; no value is "")."""
    return {m.group(1): m.group(2) or "" for m in _ANNOTATION.finditer(sql)}


def expand_annotations(annotations: dict[str, Any]) -> dict[str, Any]:
    """Turn dotted keys into nested maps (``{"a.b": 1}`` -> ``{"a": {"b": 1}}``).

    Raises ProjectError when a dotted key needs a map where a plain value already is.
    """
    out: dict[str, Any] = {}
    # Plain keys first so that the conflict check does not depend on the order of the comments.
    for key in sorted(annotations, key=lambda k: "." in k):
        value = annotations[key]
        parts = key.split(".")
        target = out
        for part in parts[:-1]:
            existing = target.get(part)
            if existing is None:
                existing = target[part] = {}
            elif not isinstance(existing, dict):
                raise ProjectError(f'invalid annotation "{key}": nesting incompatible with other keys')
            target = existing
        target[parts[-1]] = value
    return out
