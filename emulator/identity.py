"""Who is calling: the claims a request carries (Rill's local mode, §4.5 and §8 of the reference).

Rill's own paths:

- no ``Authorization`` header: an anonymous admin, every security check skipped;
- ``Authorization: Bearer <dev JWT>``: the JWT is decoded without verifying its signature, its ``attr``
  claim becomes ``.user`` and its ``perm`` claim the permissions; security applies;
- ``POST /v1/dev-jwt`` mints such a JWT (:func:`issue_dev_jwt`), as ``rill start``'s "View as" does.

Conveniences of rill-emu (Rill ignores them): ``X-Rill-User: <email>`` picks a ``mock_users`` entry of
rill.yaml, ``X-Rill-Attributes: <JSON object>`` gives ad-hoc attributes, ``serve --as EMAIL`` makes a mock
user the default identity, and on the Rill Cloud-shaped routes opaque tokens (``rill_usr_…``) map to a
mock user or an attribute set through ``rill-emu.json`` (:func:`load_tokens`), a file Rill never reads.
"""

from __future__ import annotations

import base64
import functools
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from emulator import jsonval
from emulator.errors import BadRequest, EmuError, Unauthorized
from emulator.gotypes import go_json_syntax_error, json_kind
from emulator.limits import json_too_deep
from emulator.project.resources import MockUser

#: Rill's permission codes (``runtime/security.go``) and the names rill-emu uses for them.
PERMISSION_CODES: dict[int, str] = {
    0x01: "manage_instances",
    0x11: "read_instance",
    0x12: "manage_instance",
    0x20: "edit_trigger",
    0x13: "read_repo",
    0x14: "edit_repo",
    0x15: "read_objects",
    0x16: "read_olap",
    0x17: "read_metrics",
    0x18: "read_profiling",
    0x19: "read_api",
    0x1A: "read_resolvers",
    0x1B: "use_ai",
    0x1C: "manage_ai_feedback",
}
_CODES_BY_NAME = {name: code for code, name in PERMISSION_CODES.items()}

#: Every permission (Rill's ``AllPermissions``, in its order): what a local caller and a dev JWT hold.
ALL_PERMISSIONS = frozenset(PERMISSION_CODES.values())
#: What Rill Cloud's runtime proxy grants a project viewer (``admin/server/runtime_proxy.go``).
CLOUD_PERMISSIONS = frozenset({"read_objects", "read_metrics", "read_api", "use_ai"})

USER_HEADER = "x-rill-user"
ATTRIBUTES_HEADER = "x-rill-attributes"

#: The ``/v1/orgs/.../runtime`` answer to a caller Rill Cloud cannot identify.
CLOUD_ANONYMOUS_ERROR = "does not have permission to access the production deployment"


@dataclass(frozen=True)
class Claims:
    """The caller's user attributes; ``skip_checks`` bypasses every security policy.

    ``source`` says how the identity was chosen (``anonymous``, ``jwt``, ``mock_user``, ``attributes``,
    ``default_user``, ``token``) and ``subject`` names it (an e-mail, a token) for explain output.
    """

    attributes: Mapping[str, Any]
    skip_checks: bool = False
    permissions: frozenset[str] = field(default=ALL_PERMISSIONS)
    source: str = "anonymous"
    subject: str | None = None

    def can(self, permission: str) -> bool:
        """Whether the caller holds ``permission``."""
        return self.skip_checks or permission in self.permissions

    @functools.cached_property
    def attributes_key(self) -> bytes | None:
        """The attributes as sorted JSON (value types kept apart: 1, 1.0 and true differ), the key of
        everything cached per caller; None when they are not plain JSON (then nothing is cached)."""
        try:
            return orjson.dumps(dict(self.attributes), option=orjson.OPT_SORT_KEYS)
        except (TypeError, orjson.JSONEncodeError):
            return None


#: No Authorization header in local mode: an admin with every security check skipped.
ANONYMOUS_ADMIN = Claims({"admin": True}, skip_checks=True)


class TokenError(Unauthorized):
    """A bearer token Rill's auth middleware rejects: 401 with a plain-text body (Go's ``http.Error``)."""


class IdentityError(Unauthorized):
    """A rill-emu identity header or setting names no known identity: 401 with a JSON body."""


# --- Rill's local mode --------------------------------------------------------------------------


def bearer_token(header: str) -> str:
    """The token of an ``Authorization`` value as Rill extracts it (any-case ``bearer`` prefix, trimmed)."""
    if len(header) >= 6 and header[:6].lower() == "bearer":
        token = header[6:].strip()
        if token:
            return token
    raise TokenError("no bearer token found in authorization header")


def claims_from_authorization(header: str | None) -> Claims:
    """Claims for an ``Authorization`` header value, as Rill's local (auth disabled) mode reads it."""
    if not header:
        return ANONYMOUS_ADMIN
    return claims_from_jwt(bearer_token(header))


def claims_from_jwt(token: str) -> Claims:
    """Claims of an unverified dev JWT: ``attr`` as the user attributes, ``perm`` as permissions.

    A JWT without a ``perm`` claim gets every permission (as older Rill dev JWTs did); one with ``perm``
    gets exactly those (Rill's numeric codes, or rill-emu's permission names).
    """
    payload = decode_unverified_jwt(token)
    attrs = payload.get("attr")
    if attrs is not None and not isinstance(attrs, dict):
        raise TokenError(_claim_type_error(attrs, "attr", "map[string]interface {}"))
    perms = payload.get("perm")
    if perms is None:
        permissions = ALL_PERMISSIONS
    elif isinstance(perms, list):
        permissions = frozenset(_permission_name(p) for p in perms)
    else:
        raise TokenError(_claim_type_error(perms, "perm", "[]runtime.Permission"))
    email = attrs.get("email") if attrs else None
    return Claims(
        attrs or {},
        permissions=permissions,
        source="jwt",
        subject=email if isinstance(email, str) else None,
    )


def _permission_name(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return PERMISSION_CODES.get(value, str(value))
    if isinstance(value, str) and value in _CODES_BY_NAME:
        return value
    raise TokenError(_claim_type_error(value, "perm", "runtime.Permission"))


def decode_unverified_jwt(token: str) -> dict[str, Any]:
    """The payload of a JWT, without verifying its signature, failing with golang-jwt v4's messages."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("token contains an invalid number of segments")
    try:
        header_bytes = _decode_segment(parts[0])
    except TokenError:
        if token.lower().startswith("bearer "):
            raise TokenError("tokenstring should not contain 'bearer '") from None
        raise
    header = _json_object(header_bytes, "map[string]interface {}")
    payload = _json_object(_decode_segment(parts[1]), "auth.devJWTClaims")
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise TokenError("signing method (alg) is unspecified.")
    if alg not in _SIGNING_METHODS:
        raise TokenError("signing method (alg) is unavailable.")
    return payload


_SIGNING_METHODS = frozenset(
    {"none", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256",
     "PS384", "PS512", "EdDSA"}
)  # fmt: skip
_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _decode_segment(segment: str) -> bytes:
    """Go's ``base64.RawURLEncoding.DecodeString``: no padding, URL alphabet, Go's error offsets."""
    for i, ch in enumerate(segment):
        if ch not in _B64URL:
            raise TokenError(f"illegal base64 data at input byte {i}")
    if len(segment) % 4 == 1:
        raise TokenError(f"illegal base64 data at input byte {len(segment) - 1}")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _json_object(raw: bytes, go_type: str) -> dict[str, Any]:
    if not raw.strip():
        raise TokenError("unexpected end of JSON input")
    try:
        value = json.loads(raw)
    except UnicodeDecodeError:
        raise TokenError("invalid character looking for beginning of value") from None
    except json.JSONDecodeError as exc:
        raise TokenError(go_json_syntax_error(exc)) from None
    except RecursionError:
        raise TokenError("exceeded max depth") from None
    if json_too_deep(value):
        raise TokenError("exceeded max depth")
    if not isinstance(value, dict):
        raise TokenError(f"json: cannot unmarshal {json_kind(value)} into Go value of type {go_type}")
    return value


def _claim_type_error(value: Any, claim: str, go_type: str) -> str:
    kind = json_kind(value)
    return f"json: cannot unmarshal {kind} into Go struct field devJWTClaims.{claim} of type {go_type}"


# --- minting dev JWTs ----------------------------------------------------------------------------


def dev_jwt_attributes(
    *,
    name: str = "",
    email: str = "",
    admin: bool = False,
    groups: Sequence[str] = (),
    attributes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The user attributes Rill's ``IssueDevJWT`` builds (``runtime/server/server.go``).

    Custom ``attributes`` override the fixed ones; ``domain`` is derived from the e-mail (after the last
    ``@``) unless a non-null ``domain`` is given. An empty ``groups`` list becomes null, as the Go slice
    of an empty repeated proto field does once it is JSON-encoded into the token.
    """
    attrs: dict[str, Any] = {"name": name, "email": email, "groups": list(groups) or None, "admin": admin}
    attrs.update(attributes or {})
    mail = attrs.get("email")
    if isinstance(mail, str) and attrs.get("domain") is None:
        attrs["domain"] = mail[mail.rfind("@") + 1 :]
    return attrs


def mint_dev_jwt(attributes: Mapping[str, Any], permissions: Sequence[int] | None = None) -> str:
    """An unsigned (alg ``none``) JWT with claims ``attr`` and ``perm``, byte for byte as Rill writes it."""
    perms = list(PERMISSION_CODES) if permissions is None else list(permissions)
    header = jsonval.dumps({"alg": "none", "typ": "JWT"})
    payload = jsonval.dumps({"attr": dict(attributes), "perm": perms} if attributes else {"perm": perms})
    return f"{_b64(header)}.{_b64(payload)}."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def issue_dev_jwt(body: Any) -> str:
    """``POST /v1/dev-jwt``: a dev JWT for ``{name, email, admin, groups, attributes}``.

    Raises BadRequest (with gRPC-gateway's message text) when a field has the wrong JSON type.
    """
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise BadRequest(f"proto: syntax error (line 1:1): unexpected token {json.dumps(body)}")
    known = {"name", "email", "admin", "groups", "attributes"}
    for key in body:
        if key not in known:
            raise BadRequest(f'proto: (line 1:2): unknown field "{key}"')

    def field(key: str, default: Any) -> Any:
        value = body.get(key)
        return default if value is None else value

    name, email = field("name", ""), field("email", "")
    if not isinstance(name, str) or not isinstance(email, str):
        raise BadRequest("proto: invalid value for string field: name and email must be strings")
    admin = field("admin", False)
    if not isinstance(admin, bool):
        raise BadRequest("proto: invalid value for bool field admin")
    groups = field("groups", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise BadRequest("proto: invalid value for string field groups")
    custom = field("attributes", {})
    if not isinstance(custom, dict):
        raise BadRequest("proto: invalid value for message field attributes")
    attrs = dev_jwt_attributes(name=name, email=email, admin=admin, groups=groups, attributes=custom)
    return mint_dev_jwt(attrs)


# --- mock users and rill-emu's identity headers ----------------------------------------------------


def find_mock_user(mock_users: Sequence[MockUser], email: str) -> MockUser | None:
    """The ``mock_users`` entry with this e-mail (case-insensitive), if any."""
    wanted = email.strip().lower()
    for user in mock_users:
        if user.email.lower() == wanted:
            return user
    return None


def mock_user_attributes(user: MockUser) -> dict[str, Any]:
    """A mock user's attributes as they reach ``.user`` through a dev JWT (empty groups become null)."""
    attrs = dict(user.attributes)
    if attrs.get("groups") == []:
        attrs["groups"] = None
    return attrs


def unknown_user_error(email: str, mock_users: Sequence[MockUser], origin: str) -> IdentityError:
    """401 naming the unknown e-mail, where it came from, and the mock users rill.yaml declares."""
    known = ", ".join(u.email for u in mock_users) or "none (add mock_users to rill.yaml)"
    return IdentityError(f'unknown mock user "{email}" ({origin}); known mock users: {known}')


def mock_user_claims(
    mock_users: Sequence[MockUser], email: str, *, origin: str, source: str = "mock_user"
) -> Claims:
    """Claims of the mock user with this e-mail; raises IdentityError (401) listing the known ones."""
    user = find_mock_user(mock_users, email)
    if user is None:
        raise unknown_user_error(email, mock_users, origin)
    return Claims(mock_user_attributes(user), source=source, subject=user.email)


def parse_attributes_header(value: str) -> dict[str, Any]:
    """The JSON object of an ``X-Rill-Attributes`` header; raises BadRequest (400) otherwise."""
    try:
        # Header values arrive decoded as latin-1; a UTF-8 JSON text is re-decoded as such.
        text = value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        text = value
    try:
        attrs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRequest(f"invalid X-Rill-Attributes header: {exc.msg} at character {exc.pos}") from None
    except RecursionError:
        raise BadRequest("invalid X-Rill-Attributes header: nested too deeply") from None
    if json_too_deep(attrs):
        raise BadRequest("invalid X-Rill-Attributes header: nested too deeply")
    if not isinstance(attrs, dict):
        raise BadRequest("invalid X-Rill-Attributes header: expected a JSON object")
    return attrs


# --- rill-emu.json: opaque tokens for the cloud-shaped routes --------------------------------------

#: The file of rill-emu-only settings at the project root. Rill lists only ``.env``, ``.sql``, ``.yaml``
#: and ``.yml`` files, so it never reads it.
SETTINGS_FILE = "rill-emu.json"

TokenTarget = str | Mapping[str, Any]
_tokens_cache: dict[Path, tuple[tuple[int, int] | None, dict[str, TokenTarget] | EmuError]] = {}
_tokens_lock = threading.Lock()


def load_tokens(root: Path) -> Mapping[str, TokenTarget]:
    """The ``tokens`` of ``<root>/rill-emu.json`` (empty if the file does not exist).

    Each token maps to a mock user's e-mail, or to ``{"user": email}``, or to ``{"attributes": {...}}``.
    The file is re-read when it changes; a malformed file raises EmuError (500) naming the problem.
    """
    path = root / SETTINGS_FILE
    try:
        st = path.stat()
        stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    cached = _tokens_cache.get(path)
    if cached is None or cached[0] != stamp:
        value = _read_tokens(path) if stamp is not None else {}
        with _tokens_lock:
            _tokens_cache[path] = cached = (stamp, value)
    result = cached[1]
    if isinstance(result, EmuError):
        raise result
    return result


def _read_tokens(path: Path) -> dict[str, TokenTarget] | EmuError:
    def bad(message: str) -> EmuError:
        return EmuError(f"invalid {SETTINGS_FILE}: {message}")

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return bad(str(exc))
    except json.JSONDecodeError as exc:
        return bad(f"{exc.msg} (line {exc.lineno}, column {exc.colno})")
    if not isinstance(doc, dict):
        return bad("expected a JSON object")
    raw = doc.get("tokens", {})
    if not isinstance(raw, dict):
        return bad('"tokens" must be an object mapping each token to a user')
    tokens: dict[str, TokenTarget] = {}
    for token, target in raw.items():
        if isinstance(target, dict) and set(target) == {"user"} and isinstance(target["user"], str):
            tokens[token] = target["user"]
        elif (
            isinstance(target, dict)
            and set(target) == {"attributes"}
            and isinstance(target["attributes"], dict)
        ):
            tokens[token] = dict(target["attributes"])
        elif isinstance(target, str):
            tokens[token] = target
        else:
            return bad(
                f'token "{token}" must map to an e-mail, {{"user": email}} or {{"attributes": {{...}}}}'
            )
    return tokens


@dataclass(frozen=True)
class IdentityContext:
    """What identity resolution needs besides the request: mock users, the default user, the tokens.

    ``tokens`` maps an opaque bearer token to a mock user's e-mail (``str``) or an attribute set
    (``dict``); it applies on the Rill Cloud-shaped routes only. When None, the tokens of
    ``settings_root``'s rill-emu.json are used (read only when an opaque token shows up).
    """

    mock_users: Sequence[MockUser] = ()
    default_user: str | None = None
    tokens: Mapping[str, TokenTarget] | None = None
    settings_root: Path | None = None

    def token_table(self) -> Mapping[str, TokenTarget]:
        """The opaque tokens in effect."""
        if self.tokens is not None:
            return self.tokens
        return load_tokens(self.settings_root) if self.settings_root is not None else {}


def request_claims(headers: Mapping[str, str], ctx: IdentityContext, *, cloud: bool = False) -> Claims:
    """Who a request runs as.

    ``headers`` must answer lower-case names (Starlette's ``Headers`` does). The base identity is the
    ``Authorization`` header if present, else ``X-Rill-User``, else (without ``X-Rill-Attributes``) the
    ``--as`` default user, else the anonymous local admin (or, on cloud routes, a 401).
    ``X-Rill-Attributes`` is merged over the base identity's attributes, or is the whole identity when
    there is no base. Only an anonymous caller skips security checks.
    """
    auth = headers.get("authorization") or ""
    user = (headers.get(USER_HEADER) or "").strip()
    extra_header = headers.get(ATTRIBUTES_HEADER)
    extra = parse_attributes_header(extra_header) if extra_header else None

    base: Claims | None = None
    if auth:
        base = _cloud_bearer_claims(bearer_token(auth), ctx) if cloud else claims_from_jwt(bearer_token(auth))
    elif user:
        base = mock_user_claims(ctx.mock_users, user, origin="X-Rill-User header")
    elif extra is None and ctx.default_user:
        base = mock_user_claims(ctx.mock_users, ctx.default_user, origin="--as", source="default_user")

    if base is None:
        if extra is not None:
            return Claims(
                extra, source="attributes", permissions=CLOUD_PERMISSIONS if cloud else ALL_PERMISSIONS
            )
        if cloud:
            raise IdentityError(CLOUD_ANONYMOUS_ERROR)
        return ANONYMOUS_ADMIN
    if extra is not None:
        return Claims({**base.attributes, **extra}, permissions=base.permissions, source=base.source,
                      subject=base.subject)  # fmt: skip
    return base


def _cloud_bearer_claims(token: str, ctx: IdentityContext) -> Claims:
    """A bearer token on a cloud route: a (dev) JWT, or an opaque token configured in rill-emu.json."""
    if token.count(".") == 2:
        return claims_from_jwt(token)
    target = ctx.token_table().get(token)
    if target is None:
        # Rill Cloud passes a token its admin service does not know through to the runtime, which
        # fails to parse it as a JWT.
        raise TokenError("token contains an invalid number of segments")
    if isinstance(target, str):
        claims = mock_user_claims(ctx.mock_users, target, origin="rill-emu.json token", source="token")
        return Claims(
            claims.attributes, permissions=CLOUD_PERMISSIONS, source="token", subject=claims.subject
        )
    return Claims(dict(target), permissions=CLOUD_PERMISSIONS, source="token", subject=_token_label(token))


def _token_label(token: str) -> str:
    """A token as explain output shows it: its prefix and last characters only."""
    return token if len(token) <= 12 else f"{token[:9]}…{token[-3:]}"
