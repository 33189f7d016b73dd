"""Who is calling: the claims a request carries (Rill's local mode, §4.5 and §8 of the reference)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.errors import Unauthorized

#: Permissions of a local caller; the names follow Rill's.
ALL_PERMISSIONS = frozenset(
    {"read_olap", "read_profiling", "read_repo", "read_objects", "read_metrics", "read_api"}
)


@dataclass(frozen=True)
class Claims:
    """The caller's user attributes; ``skip_checks`` bypasses every security policy."""

    attributes: Mapping[str, Any]
    skip_checks: bool = False
    permissions: frozenset[str] = field(default=ALL_PERMISSIONS)
    source: str = "anonymous"

    def can(self, permission: str) -> bool:
        """Whether the caller holds ``permission``."""
        return self.skip_checks or permission in self.permissions


#: No Authorization header in local mode: an admin with every security check skipped.
ANONYMOUS_ADMIN = Claims({"admin": True}, skip_checks=True)


def claims_from_authorization(header: str | None) -> Claims:
    """Claims for an ``Authorization`` header value, as Rill's local (auth disabled) mode reads it."""
    if header is None:
        return ANONYMOUS_ADMIN
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("no bearer token found in authorization header")
    payload = decode_unverified_jwt(token.strip())
    attrs = payload.get("attr")
    if attrs is not None and not isinstance(attrs, dict):
        raise Unauthorized("invalid jwt: attr claim is not an object")
    perms = payload.get("perm")
    permissions = frozenset(str(p) for p in perms) if isinstance(perms, list) else ALL_PERMISSIONS
    return Claims(attrs or {}, skip_checks=False, permissions=permissions, source="jwt")


def decode_unverified_jwt(token: str) -> dict[str, Any]:
    """The payload of a JWT, without verifying its signature (Rill's dev JWTs use alg ``none``)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthorized("token is malformed: token contains an invalid number of segments")
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError):
        raise Unauthorized("token is malformed: could not JSON decode claim") from None
    if not isinstance(payload, dict):
        raise Unauthorized("token is malformed: could not JSON decode claim")
    return payload
