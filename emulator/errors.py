"""The error hierarchy. Every error carries the HTTP status it maps to when it reaches a client."""

from __future__ import annotations


class EmuError(Exception):
    """Base of every error rill-emu raises on purpose; ``status`` is its HTTP status."""

    status: int = 500

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


class BadRequest(EmuError):
    """The request cannot be served as asked (bad args, template or SQL errors): 400."""

    status = 400


class Unauthorized(EmuError):
    """The caller's credentials are missing or malformed: 401."""

    status = 401


class Forbidden(EmuError):
    """The caller is known but not allowed: 403."""

    status = 403


class NotFound(EmuError):
    """No such API, instance or route: 404."""

    status = 404


class MethodNotAllowed(EmuError):
    """The route exists but not for this method: 405."""

    status = 405


class ProjectError(EmuError):
    """A project file cannot be loaded; raised while parsing and turned into a Problem."""

    status = 500

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line
