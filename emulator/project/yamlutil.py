"""Safe YAML loading that keeps the line of every key, decoded the way Go's yaml.v3 decodes Rill files.

Rill decodes project YAML with ``gopkg.in/yaml.v3``, which follows YAML 1.2 more closely than PyYAML:
``yes``/``no``/``on``/``off`` and timestamps stay strings, only ``true``/``false`` (any case style) are
booleans, integers accept ``_`` separators and Go's base prefixes, and duplicate keys are errors. This
module composes the document with PyYAML and builds plain Python values itself, recording for every
path (a tuple of keys and list indexes) the line of the key, the first line of the value's content and
the raw text of scalars.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from emulator.errors import ProjectError
from emulator.gotypes import yaml_tag as yaml_kind

__all__ = ["KeyPath", "YamlDoc", "YamlError", "deep_merge", "load_yaml", "type_error", "yaml_kind"]

KeyPath = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """A SafeLoader whose implicit resolvers follow yaml.v3 rather than YAML 1.1."""


_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver(_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(
    _INT,
    re.compile(r"^[-+]?(?:[0-9][0-9_]*|0[bB][01_]+|0[oO][0-7_]+|0[xX][0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)
_Loader.add_implicit_resolver(_MERGE, re.compile(r"^<<$"), ["<"])


class YamlError(ProjectError):
    """A YAML syntax or decoding error, with the line it was found on."""


def type_error(value: Any, target: str, line: int | None) -> YamlError:
    """A yaml.v3-style ``cannot unmarshal`` error for ``value`` decoded into the Go type ``target``."""
    kind = yaml_kind(value)
    shown = kind if kind in ("!!map", "!!seq") else f"{kind} `{_scalar_text(value)}`"
    where = f"line {line}: " if line is not None else ""
    return YamlError(f"yaml: unmarshal errors:\n  {where}cannot unmarshal {shown} into {target}", line=line)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


@dataclass
class YamlDoc:
    """A decoded YAML document: its value plus, per path, key lines, value lines and raw scalar text."""

    value: Any
    key_lines: dict[KeyPath, int] = field(default_factory=dict)
    value_lines: dict[KeyPath, int] = field(default_factory=dict)
    raws: dict[KeyPath, str] = field(default_factory=dict)

    def line(self, *path: str | int) -> int | None:
        """The 1-based line of the key (or list item) at ``path``, or of its nearest known ancestor."""
        p: KeyPath = tuple(path)
        while p:
            if p in self.key_lines:
                return self.key_lines[p]
            p = p[:-1]
        return None

    def value_line(self, *path: str | int) -> int | None:
        """The 1-based line on which the content of the value at ``path`` starts."""
        p: KeyPath = tuple(path)
        if p in self.value_lines:
            return self.value_lines[p]
        return self.line(*p)

    def raw(self, *path: str | int) -> str | None:
        """The raw source text of the scalar at ``path`` (``None`` for collections or unknown paths)."""
        return self.raws.get(tuple(path))


def load_yaml(text: str) -> YamlDoc:
    """Parse the first YAML document of ``text``; raise YamlError (with a line) on syntax errors.

    An empty document decodes to ``None``.
    """
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError:  # the reader checks the whole text first
        raise YamlError("yaml: control characters are not allowed") from None
    try:
        node = loader.get_node() if loader.check_node() else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = _go_message(exc.problem or exc.context or "invalid YAML")
        prefix = f"yaml: line {line}: " if line is not None else "yaml: "
        raise YamlError(prefix + problem, line=line) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"yaml: {exc}") from None
    finally:
        loader.dispose()
    doc = YamlDoc(value=None)
    if node is not None:
        doc.value = _Builder(loader, doc).build(node, ())
    return doc


# PyYAML wording -> yaml.v3 wording, for the messages both libraries report.
_GO_MESSAGES = (
    ("mapping values are not allowed here", "mapping values are not allowed in this context"),
    ("expected <block end>", "did not find expected key"),
    ("that cannot start any token", "found character that cannot start any token"),
    ("could not find expected ':'", "could not find expected ':'"),
    ("found undefined alias", "unknown anchor referenced"),
)


def _go_message(problem: str) -> str:
    for needle, go in _GO_MESSAGES:
        if needle in problem:
            return go
    return problem


class _Builder:
    def __init__(self, loader: _Loader, doc: YamlDoc) -> None:
        self.loader = loader
        self.doc = doc

    def build(self, node: Node, path: KeyPath) -> Any:
        if isinstance(node, ScalarNode):
            self.doc.raws[path] = node.value
            self.doc.value_lines[path] = _content_line(node)
            return _scalar(node)
        self.doc.value_lines[path] = node.start_mark.line + 1
        if isinstance(node, SequenceNode):
            out: list[Any] = []
            for i, item in enumerate(node.value):
                sub = (*path, i)
                self.doc.key_lines[sub] = item.start_mark.line + 1
                out.append(self.build(item, sub))
            return out
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        return None  # pragma: no cover - PyYAML only produces the three node kinds

    def _mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = _key_text(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise YamlError(
                    f'yaml: unmarshal errors:\n  line {line}: mapping key "{key}" already defined at line '
                    f"{seen[key]}",
                    line=line,
                )
            seen[key] = line
        try:
            self.loader.flatten_mapping(node)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            line = mark.line + 1 if mark is not None else None
            raise YamlError(f"yaml: line {line}: {exc.problem}", line=line) from None
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _key_text(key_node)
            sub = (*path, key)
            if key in seen and seen[key] != key_node.start_mark.line + 1:
                # A key merged in through "<<" that the mapping itself overrides.
                continue
            self.doc.key_lines.setdefault(sub, key_node.start_mark.line + 1)
            out[key] = self.build(value_node, sub)
        return out


def _key_text(node: Node) -> str:
    if isinstance(node, ScalarNode):
        return str(node.value)
    return yaml_kind([] if isinstance(node, SequenceNode) else {})


def _content_line(node: ScalarNode) -> int:
    # Block scalars ("|" and ">") start on the line after their indicator.
    if node.style in ("|", ">"):
        return node.start_mark.line + 2
    return node.start_mark.line + 1


def _scalar(node: ScalarNode) -> Any:
    text = node.value
    tag = node.tag
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return text.lower() == "true"
    if tag == _INT:
        parsed = _parse_int(text)
        return parsed if parsed is not None else text
    if tag == _FLOAT:
        return _parse_float(text)
    return text


def _parse_int(text: str) -> int | None:
    s = text.replace("_", "")
    sign = -1 if s.startswith("-") else 1
    s = s.lstrip("+-")
    try:
        low = s.lower()
        if low.startswith("0x"):
            return sign * int(s[2:], 16)
        if low.startswith("0o"):
            return sign * int(s[2:], 8)
        if low.startswith("0b"):
            return sign * int(s[2:], 2)
        if len(s) > 1 and s.startswith("0"):
            return sign * int(s[1:], 8)  # Go's base-0 parsing reads a leading 0 as octal
        return sign * int(s)
    except ValueError:
        return None


def _parse_float(text: str) -> float | str:
    low = text.lower()
    if low.endswith(".inf"):
        return -math.inf if low.startswith("-") else math.inf
    if low == ".nan":
        return math.nan
    try:
        return float(text.replace("_", ""))
    except ValueError:
        return text


def deep_merge(base: Any, overlay: Any) -> Any:
    """Merge ``overlay`` onto ``base``: maps merge key by key (recursively), anything else replaces.

    This approximates yaml.v3 decoding a node into an already-populated Go struct.
    """
    if isinstance(base, Mapping) and isinstance(overlay, Mapping):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = deep_merge(out[key], value) if key in out else value
        return out
    return overlay
