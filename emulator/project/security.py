"""The ``security:`` block of metrics views and APIs, translated into Rill's generic rules.

Follows ``runtime/parser/parse_partial_security_policy.go`` (behaviour reference §6.2): ``access`` becomes
a conditional allow rule (or a deny-all rule when the block has no ``access``), then the row filter,
then ``include`` (allow field rules), an allow-all-fields rule when there are excludes but no includes,
``exclude`` (deny field rules), and finally the generic ``rules:``. Conditions and SQL are compiled as
templates here; evaluating them is the security layer's job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from emulator.errors import ProjectError
from emulator.project.resources import SecurityPolicy, SecurityRule
from emulator.project.yamlutil import type_error
from emulator.templating import Template, TemplateError, compile_template

__all__ = ["LineOf", "parse_security", "template_text"]

LineOf = Callable[..., "int | None"]
"""``line_of(*path)``: the line of a key path such as ``("security", "access")``; ``value_line=True``
asks for the first line of the value's content (used to map template errors to file lines)."""

_Funcs = Mapping[str, Callable[..., Any]]


def template_text(value: Any, line: int | None = None) -> str:
    """A YAML scalar decoded into a Go string field: bools print ``true``/``false``, null is ``""``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise type_error(value, "string", line)
    return str(value)


def parse_security(
    block: Any,
    *,
    funcs: _Funcs,
    line_of: LineOf,
    prefix: tuple[str | int, ...] = ("security",),
) -> SecurityPolicy | None:
    """Translate a decoded ``security:`` value into a SecurityPolicy (``None`` when there is none).

    ``line_of`` locates keys for error lines. Raises ProjectError with Rill's messages.
    """
    if block is None:
        return None
    if not isinstance(block, Mapping):
        raise type_error(block, "parser.SecurityPolicyYAML", line_of(*prefix))

    def at(*path: str | int) -> tuple[str | int, ...]:
        return (*prefix, *path)

    rules: list[SecurityRule] = []
    access = template_text(block.get("access"), line_of(*at("access")))
    if access:
        cond = _compile(
            access, "invalid 'security': 'access' templating is not valid: ", funcs, line_of, at("access")
        )
        rules.append(SecurityRule(type="access", allow=True, condition=cond, condition_source=access))
    else:
        rules.append(SecurityRule(type="access", allow=False))

    row_filter = template_text(block.get("row_filter"), line_of(*at("row_filter")))
    if row_filter:
        sql = _compile(
            row_filter,
            "invalid 'security': 'row_filter' templating is not valid: ",
            funcs,
            line_of,
            at("row_filter"),
        )
        rules.append(SecurityRule(type="row_filter", sql=sql, sql_source=row_filter))

    includes = _list(
        block.get("include"), "[]*struct { Condition string; Names yaml.Node }", line_of, at("include")
    )
    excludes = _list(
        block.get("exclude"), "[]*struct { Condition string; Names yaml.Node }", line_of, at("exclude")
    )
    for i, item in enumerate(includes):
        if item is not None:
            rules.append(_field_rule(item, "include", True, funcs, line_of, at("include", i)))
    if not includes and excludes:
        rules.append(SecurityRule(type="field_access", allow=True, all_fields=True))
    for i, item in enumerate(excludes):
        if item is not None:
            rules.append(_field_rule(item, "exclude", False, funcs, line_of, at("exclude", i)))

    for i, item in enumerate(_list(block.get("rules"), "[]*parser.SecurityRuleYAML", line_of, at("rules"))):
        if item is not None:
            rules.append(_generic_rule(item, funcs, line_of, at("rules", i)))
    return SecurityPolicy(rules=tuple(rules))


def _list(value: Any, go_type: str, line_of: LineOf, path: tuple[str | int, ...]) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise type_error(value, go_type, line_of(*path))
    for i, item in enumerate(value):
        if item is not None and not isinstance(item, Mapping):
            raise type_error(item, go_type.removeprefix("[]*").removeprefix("[]"), line_of(*path, i))
    return value


def _compile(
    source: str, prefix: str, funcs: _Funcs, line_of: LineOf, path: tuple[str | int, ...]
) -> Template:
    try:
        return compile_template(source, name="", funcs=funcs)
    except TemplateError as exc:
        first = line_of(*path, value_line=True)
        line = first + exc.line - 1 if first is not None and exc.line is not None else first
        raise ProjectError(prefix + exc.message, line=line) from None


def _field_rule(
    item: Mapping[str, Any],
    what: str,
    allow: bool,
    funcs: _Funcs,
    line_of: LineOf,
    path: tuple[str | int, ...],
) -> SecurityRule:
    condition = template_text(item.get("if"), line_of(*path, "if"))
    cond = _compile(
        condition,
        "invalid 'security': 'if' condition templating is not valid: ",
        funcs,
        line_of,
        (*path, "if"),
    )
    if not condition:
        # Rill evaluates the condition for a dummy user at parse time; an empty one cannot be evaluated.
        raise ProjectError(
            "invalid 'security': 'if' condition expression error: cannot evaluate empty expression",
            line=line_of(*path),
        )
    names, all_fields = _names(item.get("names"), what, line_of, (*path, "names"))
    if not all_fields and not names:
        raise ProjectError(
            f"invalid 'security': '{what}' must have 'all: true' or a valid 'names' list", line=line_of(*path)
        )
    return SecurityRule(
        type="field_access",
        allow=allow,
        condition=cond,
        condition_source=condition,
        names=names,
        all_fields=all_fields,
    )


def _names(
    value: Any, what: str, line_of: LineOf, path: tuple[str | int, ...]
) -> tuple[tuple[str, ...], bool]:
    line = line_of(*path)
    if value is None:
        return (), False
    if isinstance(value, list):
        names = []
        for i, item in enumerate(value):
            if isinstance(item, (Mapping, list)):
                item_line = line_of(*path, i)
                raise ProjectError(
                    f"invalid 'security': '{what}' names: "
                    f"unexpected non-string list entry on line {item_line}",
                    line=item_line,
                )
            names.append(template_text(item))
        return tuple(names), False
    if isinstance(value, Mapping):
        raise ProjectError(f"invalid 'security': '{what}' names: invalid field names", line=line)
    text = template_text(value)
    if text == "*":
        return (), True
    raise ProjectError(f"invalid 'security': '{what}' names: unexpected scalar \"{text}\"", line=line)


def _generic_rule(
    item: Mapping[str, Any], funcs: _Funcs, line_of: LineOf, path: tuple[str | int, ...]
) -> SecurityRule:
    condition = template_text(item.get("if"), line_of(*path, "if"))
    cond = None
    if condition:
        cond = _compile(condition, "invalid 'if': templating is not valid: ", funcs, line_of, (*path, "if"))
    action = template_text(item.get("action"), line_of(*path, "action"))
    allow: bool | None = None
    if action == "allow":
        allow = True
    elif action == "deny":
        allow = False
    elif action:
        raise ProjectError(f'invalid security rule action "{action}"', line=line_of(*path, "action"))
    rule_type = template_text(item.get("type"), line_of(*path, "type"))
    line = line_of(*path)

    if rule_type == "access":
        if allow is None:
            raise ProjectError(
                f'invalid security rule of type "{rule_type}": must specify an action', line=line
            )
        return SecurityRule(type="access", allow=allow, condition=cond, condition_source=condition or None)
    if rule_type == "field_access":
        if allow is None:
            raise ProjectError(
                f'invalid security rule of type "{rule_type}": must specify an action', line=line
            )
        raw_names = item.get("names")
        if raw_names is not None and not isinstance(raw_names, list):
            raise type_error(raw_names, "[]string", line_of(*path, "names"))
        names = tuple(template_text(n, line_of(*path, "names", i)) for i, n in enumerate(raw_names or []))
        all_fields = _bool(item.get("all"), line_of(*path, "all"))
        if all_fields and names:
            raise ProjectError(
                f"invalid security rule of type \"{rule_type}\": cannot have both 'all: true' and specific "
                "'names' fields",
                line=line,
            )
        if not all_fields and not names:
            raise ProjectError(
                f'invalid security rule of type "{rule_type}": '
                "must have 'all: true' or a valid 'names' list",
                line=line,
            )
        return SecurityRule(
            type="field_access",
            allow=allow,
            condition=cond,
            condition_source=condition or None,
            names=names,
            all_fields=all_fields,
        )
    if rule_type == "row_filter":
        if allow is not None:
            raise ProjectError(
                f'invalid security rule of type "{rule_type}": cannot specify an action', line=line
            )
        sql_text = template_text(item.get("sql"), line_of(*path, "sql"))
        if not sql_text:
            raise ProjectError(
                f"invalid security rule of type \"{rule_type}\": must provide a 'sql' property", line=line
            )
        sql = _compile(sql_text, "invalid 'sql': templating is not valid: ", funcs, line_of, (*path, "sql"))
        return SecurityRule(
            type="row_filter",
            condition=cond,
            condition_source=condition or None,
            sql=sql,
            sql_source=sql_text,
        )
    raise ProjectError(f'invalid security rule type "{rule_type}"', line=line_of(*path, "type"))


def _bool(value: Any, line: int | None) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "yes", "on", "y", "false", "no", "off", "n"):
        return value.lower() in ("true", "yes", "on", "y")
    raise type_error(value, "bool", line)
