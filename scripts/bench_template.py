"""Benchmark: render time of typical API templates, against an f-string and Jinja2 baseline.

Usage: ``python scripts/bench_template.py [--number N]``. Prints µs per render (best of several
repeats) for each template with three engines measured in the same run: ``emulator.templating``
(Go text/template semantics), a hand-written Python function producing the same text (the floor),
and Jinja2 rendering an equivalent template. Ratios are emulator / baseline.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import jinja2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from emulator.templating import compile_template, rill_funcs


@dataclass(frozen=True)
class Case:
    """One template in three spellings, and the data it renders."""

    name: str
    go: str
    jinja: str
    python: Callable[[Mapping[str, Any]], str]
    data: Mapping[str, Any]


def _typical(d: Mapping[str, Any]) -> str:
    args = d["args"]
    where = f" WHERE domain = '{args['domain']}' " if "domain" in args else ""
    limit = args.get("limit") or 10
    return f"SELECT * FROM t {where} LIMIT {limit}"


def _row_filter(d: Mapping[str, Any]) -> str:
    return f"domain = '{d['user']['domain']}'"


def _report(d: Mapping[str, Any]) -> str:
    args = d["args"]
    ids = "(" + ", ".join("'" + x.replace("'", "''") + "'" for x in args["ids"]) + ")"
    cols = "".join(f", SUM({c}) AS total_{c}" for c in args["measures"])
    admin = " , SUM(revenue) AS revenue" if d["user"].get("admin") else ""
    page = args.get("pageSize") or 20
    return f"SELECT publisher{cols}{admin} FROM ad_bids WHERE publisher IN {ids} GROUP BY 1 LIMIT {page}"


BASE = {"user": {"domain": "example.com", "admin": True}, "env": {}, "vars": {}, "environment": "dev",
        "export": False, "state": {}, "self": {}}  # fmt: skip

CASES = [
    Case(
        "typical API SQL (brief)",
        "SELECT * FROM t {{ if hasKey .args \"domain\" }} WHERE domain = '{{ .args.domain }}' {{ end }} "
        "LIMIT {{ default 10 .args.limit }}",
        "SELECT * FROM t {% if 'domain' in args %} WHERE domain = '{{ args.domain }}' {% endif %} "
        "LIMIT {{ args.limit or 10 }}",
        _typical,
        {**BASE, "args": {"domain": "x.com", "limit": "25"}},
    ),
    Case(
        "row filter (security)",
        "domain = '{{ .user.domain }}'",
        "domain = '{{ user.domain }}'",
        _row_filter,
        BASE,
    ),
    Case(
        "report with range and as_sql_list",
        "SELECT publisher{{ range .args.measures }}, SUM({{ . }}) AS total_{{ . }}{{ end }}"
        "{{ if .user.admin }} , SUM(revenue) AS revenue{{ end }} FROM ad_bids "
        "WHERE publisher IN {{ as_sql_list .args.ids }} GROUP BY 1 LIMIT {{ default 20 .args.pageSize }}",
        "SELECT publisher{% for m in args.measures %}, SUM({{ m }}) AS total_{{ m }}{% endfor %}"
        "{% if user.admin %} , SUM(revenue) AS revenue{% endif %} FROM ad_bids "
        "WHERE publisher IN ({% for i in args.ids %}{% if not loop.first %}, {% endif %}"
        "'{{ i | replace(\"'\", \"''\") }}'{% endfor %}) GROUP BY 1 LIMIT {{ args.pageSize or 20 }}",
        _report,
        {
            **BASE,
            "args": {"ids": ["Yahoo", "Google", "o'hare"], "measures": ["bids", "clicks"], "pageSize": "50"},
        },
    ),
]


def best_us(fn: Callable[[], object], number: int, repeat: int = 5) -> float:
    """Best-of-``repeat`` time of one call, in microseconds."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000, help="renders per timing (default 20000)")
    opts = parser.parse_args(argv)
    env = jinja2.Environment(autoescape=False)  # SQL text, not HTML
    funcs = rill_funcs("dev")
    print(f"Python {sys.version.split()[0]}, jinja2 {jinja2.__version__}, {opts.number} renders per timing\n")
    columns = ("emulator", "f-string", "jinja2", "vs f-str", "vs jinja2", "compile")
    header = f"{'template':<36}" + "".join(f" {c:>9}" for c in columns)
    print(header)
    print("-" * len(header))
    for case in CASES:
        compile_us = best_us(partial(compile_template, case.go, funcs=funcs), max(1, opts.number // 100))
        template = compile_template(case.go, funcs=funcs)
        jinja = env.from_string(case.jinja)
        expected = case.python(case.data)
        got, jinja_got = template.render(case.data), jinja.render(case.data)
        if got != expected or jinja_got != expected:
            print(f"mismatch in {case.name!r}: {got!r} / {expected!r} / {jinja_got!r}")
            return 1
        ours = best_us(partial(template.render, case.data), opts.number)
        base = best_us(partial(case.python, case.data), opts.number)
        jin = best_us(partial(jinja.render, case.data), opts.number)
        cells = (
            f"{ours:.2f}µs",
            f"{base:.2f}µs",
            f"{jin:.2f}µs",
            f"{ours / base:.1f}x",
            f"{ours / jin:.2f}x",
        )
        print(f"{case.name:<36}" + "".join(f" {c:>9}" for c in cells) + f" {compile_us:>7.0f}µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
