"""Identity: Rill's local-mode claims, dev JWTs, and rill-emu's mock-user headers, --as and tokens."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from emulator.cli import main
from emulator.errors import BadRequest, EmuError
from emulator.identity import (
    ALL_PERMISSIONS,
    ANONYMOUS_ADMIN,
    CLOUD_PERMISSIONS,
    Claims,
    IdentityContext,
    IdentityError,
    TokenError,
    claims_from_authorization,
    decode_unverified_jwt,
    dev_jwt_attributes,
    issue_dev_jwt,
    load_tokens,
    mint_dev_jwt,
    mock_user_claims,
    parse_attributes_header,
    request_claims,
)
from emulator.project.resources import MockUser

ALICE = MockUser(
    "alice@acme.com",
    {
        "name": "Alice",
        "email": "alice@acme.com",
        "groups": ["emea"],
        "admin": False,
        "region": "EMEA",
        "domain": "acme.com",
    },
)
BOB = MockUser(
    "bob@acme.com",
    {"name": "Bob", "email": "bob@acme.com", "groups": [], "admin": True, "domain": "acme.com"},
)
USERS = (ALICE, BOB)


def b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwt(payload: Any, header: Any = None) -> str:
    return f"{b64(header or {'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


class TestLocalMode:
    """Rill's auth-disabled middleware (``runtime/server/auth/interceptors.go``)."""

    @pytest.mark.parametrize("header", [None, ""])
    def test_no_header_is_the_anonymous_admin_skipping_checks(self, header: str | None) -> None:
        claims = claims_from_authorization(header)
        assert claims is ANONYMOUS_ADMIN
        assert claims.skip_checks and claims.attributes == {"admin": True}
        assert claims.can("read_api")

    def test_a_dev_jwt_gives_its_attributes_and_applies_security(self) -> None:
        token = jwt({"attr": {"email": "x@y.com", "tenant": "t1"}, "perm": [25, 23]})
        claims = claims_from_authorization(f"Bearer {token}")
        assert claims.attributes == {"email": "x@y.com", "tenant": "t1"}
        assert not claims.skip_checks
        assert claims.permissions == {"read_api", "read_metrics"}
        assert (claims.source, claims.subject) == ("jwt", "x@y.com")

    def test_the_bearer_prefix_is_case_insensitive_and_trimmed(self) -> None:
        token = jwt({"attr": {"a": 1}})
        assert claims_from_authorization(f"bEaReR   {token}  ").attributes == {"a": 1}

    def test_a_jwt_without_perm_holds_every_permission_and_without_attr_no_attributes(self) -> None:
        claims = claims_from_authorization("Bearer " + jwt({}))
        assert claims.permissions == ALL_PERMISSIONS
        assert claims.attributes == {}

    def test_a_jwt_whose_perm_lacks_read_api_cannot_call_apis(self) -> None:
        assert not claims_from_authorization("Bearer " + jwt({"perm": [23]})).can("read_api")

    def test_signatures_and_expiry_are_not_checked(self) -> None:
        token = jwt({"attr": {"a": 1}, "exp": 1}, {"alg": "HS256", "typ": "JWT"})[:-1] + ".not-a-signature"
        assert claims_from_authorization("Bearer " + token).attributes == {"a": 1}

    @pytest.mark.parametrize(
        ("header", "message"),
        [
            ("Basic abc", "no bearer token found in authorization header"),
            ("Bearer    ", "no bearer token found in authorization header"),
            ("Bearer a.b", "token contains an invalid number of segments"),
            ("Bearer rill_usr_abc", "token contains an invalid number of segments"),
            ("Bearer a.b.c", "illegal base64 data at input byte 0"),
            ("Bearer ab!c.e30.", "illegal base64 data at input byte 2"),
            ("Bearer bearer x.e30.", "tokenstring should not contain 'bearer '"),
            ("Bearer " + b64(b"") + "x.e30.", "illegal base64 data at input byte 0"),
            (
                "Bearer " + b64([1]) + ".e30.",
                "json: cannot unmarshal array into Go value of type map[string]interface {}",
            ),
            (
                "Bearer " + b64({"alg": "none"}) + "." + b64([]) + ".",
                "json: cannot unmarshal array into Go value of type auth.devJWTClaims",
            ),
            ("Bearer " + b64({"alg": "none"}) + "." + b64(b"{") + ".", "unexpected end of JSON input"),
            ("Bearer " + b64({"typ": "JWT"}) + ".e30.", "signing method (alg) is unspecified."),
            ("Bearer " + b64({"alg": "rot13"}) + ".e30.", "signing method (alg) is unavailable."),
            (
                "Bearer " + jwt({"attr": "x"}),
                "json: cannot unmarshal string into Go struct field devJWTClaims.attr of type "
                "map[string]interface {}",
            ),
            (
                "Bearer " + jwt({"perm": 25}),
                "json: cannot unmarshal number into Go struct field devJWTClaims.perm of type "
                "[]runtime.Permission",
            ),
            (
                "Bearer " + jwt({"perm": ["x"]}),
                "json: cannot unmarshal string into Go struct field devJWTClaims.perm of type "
                "runtime.Permission",
            ),
        ],
    )
    def test_malformed_tokens_fail_with_golang_jwt_messages(self, header: str, message: str) -> None:
        with pytest.raises(TokenError) as err:
            claims_from_authorization(header)
        assert err.value.message == message
        assert err.value.status == 401


class TestDevJWT:
    """``POST /v1/dev-jwt`` (Rill's ``IssueDevJWT``) and the JWT it returns."""

    def test_attributes_are_built_as_rill_builds_them(self) -> None:
        attrs = dev_jwt_attributes(name="Ann", email="ann@sub.example.com", groups=["a"], attributes={"t": 1})
        assert attrs == {
            "name": "Ann",
            "email": "ann@sub.example.com",
            "groups": ["a"],
            "admin": False,
            "t": 1,
            "domain": "sub.example.com",
        }

    def test_empty_groups_become_null_and_custom_attributes_win(self) -> None:
        attrs = dev_jwt_attributes(email="a@b.c", attributes={"domain": "custom.io", "admin": "yes"})
        assert attrs["groups"] is None
        assert (attrs["domain"], attrs["admin"]) == ("custom.io", "yes")
        assert dev_jwt_attributes(email="a@b.c", attributes={"domain": None})["domain"] == "b.c"
        assert "domain" not in dev_jwt_attributes(attributes={"email": 42})
        assert dev_jwt_attributes(email="no-at-sign")["domain"] == "no-at-sign"

    def test_the_token_is_unsigned_and_encoded_as_go_encodes_it(self) -> None:
        token = mint_dev_jwt({"name": "Zoë", "b": "<&>", "a": 1.0})
        header, payload, signature = token.split(".")
        assert header == "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}
        assert signature == ""
        raw = base64.urlsafe_b64decode(payload + "==")
        assert raw == (
            b'{"attr":{"a":1,"b":"\\u003c\\u0026\\u003e","name":"Zo\xc3\xab"},'
            b'"perm":[1,17,18,32,19,20,21,22,23,24,25,26,27,28]}'
        )
        claims = claims_from_authorization("Bearer " + token)
        assert claims.attributes == {"a": 1, "b": "<&>", "name": "Zoë"}
        assert claims.permissions == ALL_PERMISSIONS

    def test_issue_dev_jwt_from_the_ui_request(self) -> None:
        body = {
            "name": "Mock User",
            "email": "m@x.io",
            "admin": True,
            "groups": ["g"],
            "attributes": {"k": "v"},
        }
        payload = decode_unverified_jwt(issue_dev_jwt(body))
        assert payload["attr"] == {
            "name": "Mock User",
            "email": "m@x.io",
            "admin": True,
            "groups": ["g"],
            "k": "v",
            "domain": "x.io",
        }
        assert decode_unverified_jwt(issue_dev_jwt(None))["attr"]["groups"] is None

    @pytest.mark.parametrize(
        ("body", "fragment"),
        [
            ([1], "syntax error"),
            ({"nope": 1}, 'unknown field "nope"'),
            ({"email": 3}, "string field"),
            ({"admin": "yes"}, "bool field admin"),
            ({"groups": "g"}, "string field groups"),
            ({"attributes": []}, "message field attributes"),
        ],
    )
    def test_issue_dev_jwt_rejects_wrong_types(self, body: Any, fragment: str) -> None:
        with pytest.raises(BadRequest) as err:
            issue_dev_jwt(body)
        assert fragment in err.value.message


class TestRequestClaims:
    """rill-emu's identity resolution over Rill's: headers, --as, cloud routes, tokens."""

    ctx = IdentityContext(
        mock_users=USERS, tokens={"rill_usr_a": "alice@acme.com", "rill_svc_x": {"svc": "x"}}
    )

    def test_anonymous_locally(self) -> None:
        assert request_claims({}, self.ctx) is ANONYMOUS_ADMIN

    def test_x_rill_user_selects_a_mock_user_case_insensitively(self) -> None:
        claims = request_claims({"x-rill-user": " ALICE@acme.com "}, self.ctx)
        assert claims.attributes == ALICE.attributes
        assert not claims.skip_checks
        assert (claims.source, claims.subject) == ("mock_user", "alice@acme.com")

    def test_a_mock_user_with_no_groups_sees_null_groups_as_through_a_dev_jwt(self) -> None:
        assert request_claims({"x-rill-user": "bob@acme.com"}, self.ctx).attributes["groups"] is None

    def test_an_unknown_user_lists_the_known_ones(self) -> None:
        with pytest.raises(IdentityError) as err:
            request_claims({"x-rill-user": "eve@acme.com"}, self.ctx)
        assert err.value.status == 401
        assert err.value.message == (
            'unknown mock user "eve@acme.com" (X-Rill-User header); '
            "known mock users: alice@acme.com, bob@acme.com"
        )
        with pytest.raises(IdentityError, match=r"known mock users: none \(add mock_users to rill.yaml\)"):
            mock_user_claims((), "eve@acme.com", origin="--as")

    def test_ad_hoc_attributes_alone_are_the_whole_identity(self) -> None:
        claims = request_claims({"x-rill-attributes": '{"tenant": "t9"}'}, self.ctx)
        assert claims == Claims({"tenant": "t9"}, source="attributes")

    def test_ad_hoc_attributes_merge_over_a_mock_user_or_a_jwt(self) -> None:
        merged = request_claims(
            {"x-rill-user": "alice@acme.com", "x-rill-attributes": '{"region": "APAC"}'}, self.ctx
        )
        assert merged.attributes == {**ALICE.attributes, "region": "APAC"}
        token = jwt({"attr": {"a": 1}})
        merged = request_claims(
            {"authorization": "Bearer " + token, "x-rill-attributes": '{"b": 2}'}, self.ctx
        )
        assert merged.attributes == {"a": 1, "b": 2}

    def test_the_authorization_header_wins_over_x_rill_user(self) -> None:
        token = jwt({"attr": {"a": 1}})
        claims = request_claims(
            {"authorization": "Bearer " + token, "x-rill-user": "alice@acme.com"}, self.ctx
        )
        assert claims.attributes == {"a": 1}

    def test_the_default_user_applies_only_without_identity_headers(self) -> None:
        ctx = IdentityContext(mock_users=USERS, default_user="alice@acme.com")
        assert request_claims({}, ctx).source == "default_user"
        assert request_claims({}, ctx).attributes == ALICE.attributes
        assert request_claims({"x-rill-user": "bob@acme.com"}, ctx).subject == "bob@acme.com"
        assert request_claims({"x-rill-attributes": "{}"}, ctx).attributes == {}
        with pytest.raises(IdentityError, match=r"\(--as\)"):
            request_claims({}, IdentityContext(mock_users=USERS, default_user="gone@acme.com"))

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (
                "{nope",
                "invalid X-Rill-Attributes header: "
                "Expecting property name enclosed in double quotes at character 1",
            ),
            ("[1]", "invalid X-Rill-Attributes header: expected a JSON object"),
        ],
    )
    def test_malformed_attributes_are_a_bad_request(self, value: str, message: str) -> None:
        with pytest.raises(BadRequest) as err:
            request_claims({"x-rill-attributes": value}, self.ctx)
        assert err.value.message == message
        assert err.value.status == 400

    def test_attribute_headers_may_carry_utf8(self) -> None:
        as_received = '{"name": "Zoë"}'.encode().decode("latin-1")  # how ASGI servers decode header bytes
        assert parse_attributes_header(as_received) == {"name": "Zoë"}

    def test_cloud_routes_need_an_identity(self) -> None:
        with pytest.raises(IdentityError) as err:
            request_claims({}, self.ctx, cloud=True)
        assert err.value.message == "does not have permission to access the production deployment"
        assert request_claims({"x-rill-user": "bob@acme.com"}, self.ctx, cloud=True).subject == "bob@acme.com"
        ctx = IdentityContext(mock_users=USERS, default_user="bob@acme.com")
        assert request_claims({}, ctx, cloud=True).subject == "bob@acme.com"

    def test_cloud_opaque_tokens_map_to_a_mock_user_or_attributes(self) -> None:
        user = request_claims({"authorization": "Bearer rill_usr_a"}, self.ctx, cloud=True)
        assert user.attributes == ALICE.attributes
        assert (user.source, user.subject, user.permissions) == ("token", "alice@acme.com", CLOUD_PERMISSIONS)
        service = request_claims({"authorization": "Bearer rill_svc_x"}, self.ctx, cloud=True)
        assert service.attributes == {"svc": "x"} and not service.skip_checks

    def test_cloud_routes_accept_dev_jwts_and_refuse_unknown_tokens_as_rill_cloud_does(self) -> None:
        token = jwt({"attr": {"a": 1}})
        assert request_claims({"authorization": "Bearer " + token}, self.ctx, cloud=True).attributes == {
            "a": 1
        }
        with pytest.raises(TokenError, match=r"^token contains an invalid number of segments$"):
            request_claims({"authorization": "Bearer rill_usr_unknown"}, self.ctx, cloud=True)

    def test_opaque_tokens_are_not_accepted_on_local_routes(self) -> None:
        with pytest.raises(TokenError):
            request_claims({"authorization": "Bearer rill_usr_a"}, self.ctx)


class TestSettingsFile:
    """Tokens from ``rill-emu.json``, a file Rill never reads."""

    def test_tokens_are_read_and_reread_when_the_file_changes(self, tmp_path: Path) -> None:
        assert load_tokens(tmp_path) == {}
        path = tmp_path / "rill-emu.json"
        path.write_text(
            json.dumps(
                {
                    "tokens": {
                        "t1": "alice@acme.com",
                        "t2": {"user": "bob@acme.com"},
                        "t3": {"attributes": {"k": 1}},
                    }
                }
            )
        )
        assert load_tokens(tmp_path) == {"t1": "alice@acme.com", "t2": "bob@acme.com", "t3": {"k": 1}}
        path.write_text(json.dumps({"tokens": {"t4": "alice@acme.com"}}))
        os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
        assert list(load_tokens(tmp_path)) == ["t4"]
        ctx = IdentityContext(mock_users=USERS, settings_root=tmp_path)
        assert request_claims({"authorization": "Bearer t4"}, ctx, cloud=True).subject == "alice@acme.com"

    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("{", "Expecting property name"),
            ("[]", "expected a JSON object"),
            ('{"tokens": []}', '"tokens" must be an object'),
            ('{"tokens": {"t": 1}}', 'token "t" must map to an e-mail'),
            ('{"tokens": {"t": {"user": "a", "x": 1}}}', 'token "t" must map to an e-mail'),
        ],
    )
    def test_a_malformed_file_is_a_server_error(self, tmp_path: Path, text: str, fragment: str) -> None:
        (tmp_path / "rill-emu.json").write_text(text)
        with pytest.raises(EmuError) as err:
            load_tokens(tmp_path)
        assert err.value.status == 500
        assert err.value.message.startswith("invalid rill-emu.json: ")
        assert fragment in err.value.message


class TestCommandLine:
    """``rill-emu token EMAIL`` prints a mock user's dev JWT; ``serve --as EMAIL`` checks the e-mail."""

    RILL_YAML = """
mock_users:
  - email: ann@shop.eu
    name: Ann
    groups: [sales]
    region: EMEA
"""

    def test_prints_the_dev_jwt_of_a_mock_user(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (tmp_path / "rill.yaml").write_text(self.RILL_YAML)
        assert main(["token", "ann@shop.eu", str(tmp_path), "--attr", "tier=2", "--attr", "note=hi"]) == 0
        token = capsys.readouterr().out.strip()
        claims = claims_from_authorization("Bearer " + token)
        assert claims.attributes == {
            "name": "Ann",
            "email": "ann@shop.eu",
            "groups": ["sales"],
            "admin": False,
            "region": "EMEA",
            "domain": "shop.eu",
            "tier": 2,
            "note": "hi",
        }
        assert claims.permissions == ALL_PERMISSIONS

    def test_an_unknown_email_fails_listing_the_mock_users(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (tmp_path / "rill.yaml").write_text(self.RILL_YAML)
        assert main(["token", "bob@shop.eu", str(tmp_path)]) == 1
        assert "known mock users: ann@shop.eu" in capsys.readouterr().err

    def test_serve_as_an_unknown_user_refuses_to_start(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (tmp_path / "rill.yaml").write_text(self.RILL_YAML)
        assert main(["serve", str(tmp_path), "--no-watch", "--port", "0", "--as", "bob@shop.eu"]) == 2
        assert (
            'unknown mock user "bob@shop.eu" (--as); known mock users: ann@shop.eu' in capsys.readouterr().err
        )
