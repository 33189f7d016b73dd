"""Sprig regex functions: Go (RE2) semantics on Python's re, Go's replacement syntax and errors."""

from __future__ import annotations

import pytest

from tests.templating._util import render

CASES = [
    (
        "regexMatch",
        '{{ regexMatch "^[0-9]+$" "123" }} {{ regexMatch "^[0-9]+$" "12a" }} {{ regexMatch "(" "x" }}',
        "true false false",
    ),
    ("regex $ is end of text", '{{ regexMatch "a$" "a\\n" }}', "false"),
    ("regexFind", '{{ regexFind "[0-9]+" "abc123def456" }}|{{ regexFind "z" "abc" }}', "123|"),
    (
        "regexFindAll",
        '{{ regexFindAll "[0-9]" "a1b2c3" 2 }} {{ regexFindAll "[0-9]" "a1b2c3" -1 }} {{ regexFindAll "z" '
        '"a" -1 }}',
        "[1 2] [1 2 3] []",
    ),
    ("regexReplaceAll", '{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}', "-W-xxW-"),
    ("regexReplaceAll named", '{{ regexReplaceAll "(?P<n>[0-9])" "a1" "<$n>" }}', "a<1>"),
    ("regexReplaceAllLiteral", '{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }}', "-${1}-${1}-"),
    ("regexSplit", '{{ regexSplit "z+" "pizza" -1 }} {{ regexSplit "z+" "pizza" 1 }}', "[pi a] [pizza]"),
    (
        "regex errors as Go words them",
        '{{ regexFind "a**" "x" }}',
        'ERR: template: t:1:3: executing "t" at <regexFind "a**" "x">: error calling regexFind: '
        "regexp: Compile(`a**`): error parsing regexp: invalid nested repetition operator: `**`",
    ),
    ("regexQuoteMeta", '{{ regexQuoteMeta "1.5+x" }}', "1\\.5\\+x"),
    (
        "regex compile error",
        '{{ regexFind "(" "x" }}',
        'ERR: template: t:1:3: executing "t" at <regexFind "(" "x">: error calling regexFind: '
        "regexp: Compile(`(`): error parsing regexp: missing closing ): `(`",
    ),
]


@pytest.mark.parametrize(("case", "source", "want"), CASES, ids=[c[0] for c in CASES])
def test_regex_functions(case: str, source: str, want: str) -> None:
    assert render(source) == want
