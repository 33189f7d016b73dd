"""``serve --strict-args``: a missing argument is a 400 naming it, not ``<no value>`` in the SQL.

Rill prints a missing ``.args.x`` as ``<no value>`` (``missingkey=default``) and the query usually
returns nothing or fails far from the cause. With the flag, an API's template renders with args that
remember which keys were looked up and missing; when the SQL then contains ``<no value>``, the
request fails with ``missing argument "x"``. Guards still work: ``default``, ``hasKey``, ``if``
see the key as missing, exactly as without the flag. Without the flag nothing here runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from emulator.memo import Memo
from emulator.project.resources import ApiSpec
from emulator.templating import Template, TemplateError, arg_uses

__all__ = ["MissingArgument", "StrictArgs", "strict_api", "strict_template"]

#: What Go prints for a missing key.
NO_VALUE = "<no value>"


class MissingArgument(TemplateError):
    """A template printed an arg the request did not give (``--strict-args``): 400."""


class StrictArgs(dict[str, Any]):
    """The ``.args`` map, recording every key looked up but missing (templates see no difference)."""

    __slots__ = ("missed",)

    def __init__(self, args: Mapping[str, Any]) -> None:
        super().__init__(args)
        self.missed: list[str] = []

    def __missing__(self, key: str) -> Any:
        self.missed.append(key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """``dict.get``, recording a missing key."""
        if key not in self:
            self.missed.append(key)
        return super().get(key, default)


def strict_template(template: Template) -> Template:
    """A template rendering as ``template`` does, failing with MissingArgument instead of ``<no value>``."""
    uses = arg_uses(template)
    # Keys every read of which is guarded (``default .args.x``): their absence never prints <no value>.
    guarded = frozenset(u.name for u in uses) - {u.name for u in uses if not u.guarded}

    def render(data: Mapping[str, Any]) -> str:
        given = data.get("args")
        args = StrictArgs(given if isinstance(given, Mapping) else {})
        out = template.render({**data, "args": args})
        if args.missed and NO_VALUE in out:
            names = sorted(set(args.missed) - guarded)
            if not names:  # the <no value> came from elsewhere (.user, .env)
                return out
            listed = ", ".join(f'"{name}"' for name in names)
            plural = "s" if len(names) > 1 else ""
            raise MissingArgument(f"missing argument{plural} {listed}")
        return out

    return Template(template.source, template.name, render, template.refs, template.uses_templating)


def strict_api(api: ApiSpec, memo: Memo | None = None) -> ApiSpec:
    """``api`` with its template made strict (remembered in ``memo``, the snapshot's, when given)."""
    template = api.template
    if template is None:
        return api

    def build() -> ApiSpec:
        assert template is not None
        return dataclasses.replace(api, template=strict_template(template))

    if memo is None:
        return build()
    return memo.get(("rill-emu.strict-args", api.name), build)
