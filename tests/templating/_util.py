"""Shared helpers for the templating tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.templating import TemplateError, compile_template


def render(source: str, data: Mapping[str, Any] | None = None, *, name: str = "t") -> str:
    """Compile and render ``source``; errors come back as ``ERR: <message>`` for table tests."""
    try:
        return compile_template(source, name=name).render(data if data is not None else {})
    except TemplateError as exc:
        return f"ERR: {exc}"


def error(source: str, data: Mapping[str, Any] | None = None, *, name: str = "t") -> TemplateError:
    """The TemplateError that compiling or rendering ``source`` raises."""
    try:
        compile_template(source, name=name).render(data if data is not None else {})
    except TemplateError as exc:
        return exc
    raise AssertionError(f"{source!r} did not fail")
