"""The ``security:`` block translated into Rill's generic rules (behaviour reference §6.2)."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.errors import ProjectError
from emulator.project.node import Lines
from emulator.project.resources import SecurityPolicy, SecurityRule
from emulator.project.security import parse_security
from emulator.project.yamlutil import load_yaml
from emulator.templating import rill_funcs


def _parse(text: str) -> SecurityPolicy | None:
    doc = load_yaml(text)
    return parse_security(doc.value.get("security"), funcs=rill_funcs("dev"), line_of=Lines(doc))


def _shape(policy: SecurityPolicy | None) -> list[dict[str, Any]]:
    """The rules without their compiled templates, for comparisons."""
    assert policy is not None
    out = []
    for rule in policy.rules:
        shape: dict[str, Any] = {"type": rule.type}
        if rule.allow is not None:
            shape["allow"] = rule.allow
        if rule.condition_source is not None:
            shape["if"] = rule.condition_source
            assert rule.condition is not None
        if rule.names:
            shape["names"] = list(rule.names)
        if rule.all_fields:
            shape["all"] = True
        if rule.sql_source is not None:
            shape["sql"] = rule.sql_source
            assert rule.sql is not None
        out.append(shape)
    return out


def test_no_block_means_no_policy() -> None:
    assert _parse("type: api\n") is None
    assert _parse("security:\n") is None


def test_block_without_access_denies_everyone() -> None:
    assert _shape(_parse("security: {}\n")) == [{"type": "access", "allow": False}]
    assert _shape(_parse("security:\n  row_filter: a = 1\n")) == [
        {"type": "access", "allow": False},
        {"type": "row_filter", "sql": "a = 1"},
    ]


def test_access_becomes_a_conditional_allow_rule() -> None:
    policy = _parse("security:\n  access: \"{{ .user.admin }} OR '{{ .user.domain }}' = 'x.com'\"\n")
    assert _shape(policy) == [
        {"type": "access", "allow": True, "if": "{{ .user.admin }} OR '{{ .user.domain }}' = 'x.com'"}
    ]


def test_yaml_booleans_become_template_text() -> None:
    assert _shape(_parse("security:\n  access: true\n")) == [{"type": "access", "allow": True, "if": "true"}]
    assert _shape(_parse("security:\n  access: false\n")) == [
        {"type": "access", "allow": True, "if": "false"}
    ]


def test_full_translation_order() -> None:
    policy = _parse(
        """
security:
  access: true
  row_filter: "domain = '{{ .user.domain }}'"
  include:
    - if: "{{ .user.admin }}"
      names: '*'
    - if: "true"
      names: [publisher, domain]
  exclude:
    - if: "'{{ .user.domain }}' != 'msn.com'"
      names: [total volume]
  rules:
    - type: access
      action: deny
      if: "'{{ .user.domain }}' = 'evil.com'"
    - type: field_access
      action: allow
      names: [publisher]
    - type: field_access
      action: deny
      all: true
    - type: row_filter
      sql: "country = 'US'"
"""
    )
    assert _shape(policy) == [
        {"type": "access", "allow": True, "if": "true"},
        {"type": "row_filter", "sql": "domain = '{{ .user.domain }}'"},
        {"type": "field_access", "allow": True, "if": "{{ .user.admin }}", "all": True},
        {"type": "field_access", "allow": True, "if": "true", "names": ["publisher", "domain"]},
        {
            "type": "field_access",
            "allow": False,
            "if": "'{{ .user.domain }}' != 'msn.com'",
            "names": ["total volume"],
        },
        {"type": "access", "allow": False, "if": "'{{ .user.domain }}' = 'evil.com'"},
        {"type": "field_access", "allow": True, "names": ["publisher"]},
        {"type": "field_access", "allow": False, "all": True},
        {"type": "row_filter", "sql": "country = 'US'"},
    ]


def test_excludes_without_includes_allow_all_fields_first() -> None:
    policy = _parse("security:\n  access: true\n  exclude:\n    - if: 'true'\n      names: [a]\n")
    assert _shape(policy) == [
        {"type": "access", "allow": True, "if": "true"},
        {"type": "field_access", "allow": True, "all": True},
        {"type": "field_access", "allow": False, "if": "true", "names": ["a"]},
    ]
    assert policy is not None
    assert policy.rules[1] == SecurityRule(type="field_access", allow=True, all_fields=True)


@pytest.mark.parametrize(
    ("block", "message", "line"),
    [
        (
            "  include:\n    - names: [a]\n",
            "invalid 'security': 'if' condition expression error: cannot evaluate empty expression",
            4,
        ),
        (
            "  include:\n    - if: 'true'\n",
            "invalid 'security': 'include' must have 'all: true' or a valid 'names' list",
            4,
        ),
        (
            "  exclude:\n    - if: 'true'\n      names: a\n",
            "invalid 'security': 'exclude' names: unexpected scalar \"a\"",
            5,
        ),
        (
            "  exclude:\n    - if: 'true'\n      names:\n        - {x: 1}\n",
            "invalid 'security': 'exclude' names: unexpected non-string list entry on line 6",
            6,
        ),
        ("  rules:\n    - type: nope\n", 'invalid security rule type "nope"', 4),
        (
            "  rules:\n    - type: access\n",
            'invalid security rule of type "access": must specify an action',
            4,
        ),
        ("  rules:\n    - type: access\n      action: maybe\n", 'invalid security rule action "maybe"', 5),
        (
            "  rules:\n    - type: field_access\n      action: allow\n",
            "invalid security rule of type \"field_access\": must have 'all: true' or a valid 'names'",
            4,
        ),
        (
            "  rules:\n    - type: field_access\n      action: allow\n      all: true\n      names: [a]\n",
            "\"field_access\": cannot have both 'all: true' and specific 'names'",
            4,
        ),
        (
            "  rules:\n    - type: row_filter\n      action: allow\n      sql: x\n",
            'invalid security rule of type "row_filter": cannot specify an action',
            4,
        ),
        (
            "  rules:\n    - type: row_filter\n",
            "invalid security rule of type \"row_filter\": must provide a 'sql' property",
            4,
        ),
        (
            "  rules:\n    - type: field_access\n      action: deny\n      names: '*'\n",
            "cannot unmarshal !!str `*` into []string",
            6,
        ),
        ("  access: [1]\n", "cannot unmarshal !!seq into string", 3),
    ],
)
def test_validation_errors(block: str, message: str, line: int) -> None:
    with pytest.raises(ProjectError) as err:
        _parse("type: metrics_view\nsecurity:\n" + block)
    assert message in err.value.message
    assert err.value.line == line
