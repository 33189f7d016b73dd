"""Sprig string, encoding and hash functions."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.templating._util import render

DATA: dict[str, Any] = {"n": None, "f": 1.5, "words": ["b", "a", None, "c"], "l": [1.0, "x"]}

CASES = [
    ("trim", '[{{ trim "  a b \\n\\t" }}]', "[a b]"),
    ("trimAll", '{{ trimAll "$" "$5.00$" }}', "5.00"),
    ("trimPrefix and trimSuffix", '{{ trimPrefix "-" "-a-" }} {{ trimSuffix "-" "-a-" }}', "a- -a"),
    ("upper lower", '{{ upper "héllo" }} {{ lower "ÀB" }}', "HÉLLO àb"),
    ("upper keeps sharp s", '{{ upper "ß" }}', "ß"),
    ("title", '{{ title "hello wORLD-foo_bar" }}', "Hello WORLD-Foo_bar"),
    ("untitle", '{{ untitle "Hello World" }}', "hello World"),
    ("repeat", '{{ repeat 3 "ab" }}|{{ "x" | repeat 2 }}', "ababab|xx"),
    (
        "repeat negative",
        '{{ repeat -1 "a" }}',
        'ERR: template: t:1:3: executing "t" at <repeat -1 "a">: error calling repeat: strings: negative '
        "Repeat count",
    ),
    (
        "substr",
        '{{ substr 0 5 "hello world" }}|{{ substr 6 -1 "hello world" }}|{{ substr -1 2 "hello" }}',
        "hello|world|he",
    ),
    (
        "trunc",
        '{{ trunc 5 "hello world" }}|{{ trunc -5 "hello world" }}|{{ trunc 50 "hi" }}',
        "hello|world|hi",
    ),
    (
        "contains hasPrefix hasSuffix",
        '{{ contains "cat" "catch" }} {{ hasPrefix "cat" "catch" }} {{ hasSuffix "ch" "catch" }}',
        "true true true",
    ),
    ("cat", '{{ cat "hello" "beautiful" nil "world" 1 }}', "hello beautiful world 1"),
    ("indent", '{{ indent 2 "a\\nb" }}|{{ nindent 2 "a" }}', "  a\n  b|\n  a"),
    ("replace", '{{ replace " " "-" "I Am Henry VIII" }}', "I-Am-Henry-VIII"),
    ("plural", '{{ plural "one" "many" 1 }} {{ plural "one" "many" 2 }}', "one many"),
    ("quote", r'{{ quote "a\"b" "c\nd" 1 nil "é" }}', '"a\\"b" "c\\nd" "1" "é"'),
    ("squote does not escape", '{{ squote "it\'s" 1.5 nil }}', "'it's' '1.5'"),
    ("nospace", '{{ nospace "a b\\tc" }}', "abc"),
    ("initials", '{{ initials "First Try" }}', "FT"),
    ("swapcase", '{{ swapcase "Hello" }}', "hELLO"),
    ("abbrev", '{{ abbrev 5 "hello world" }}|{{ abbrev 3 "hello" }}', "he...|hello"),
    ("wrap", '{{ wrap 5 "hello world foo" }}', "hello\nworld\nfoo"),
    (
        "snakecase kebabcase camelcase",
        '{{ snakecase "FirstName" }} {{ kebabcase "FirstName" }} {{ camelcase "http_server" }}',
        "first_name first-name HttpServer",
    ),
    ("split", '{{ split "," "a,b" }} {{ (split "," "a,b")._1 }}', "map[_0:a _1:b] b"),
    ("splitn", '{{ splitn "," 2 "a,b,c" }}', "map[_0:a _1:b,c]"),
    ("splitList", '{{ splitList "," "a,b,,c" }} {{ len (splitList "," "") }}', "[a b  c] 1"),
    ("splitList empty separator", '{{ splitList "" "abc" }}', "[a b c]"),
    (
        "join",
        '{{ join "-" .words }}|{{ join ", " (list 1 2) }}|{{ join "," "x" }}|{{ join "," .nope }}',
        "b-a-c|1, 2|x|",
    ),
    ("sortAlpha", "{{ sortAlpha .words }} {{ sortAlpha (list 3 1 2) }}", "[a b c] [1 2 3]"),
    ("toString", "{{ toString 1.5 }} {{ toString .l }} {{ toString nil }}", "1.5 [1 x] <nil>"),
    ("toStrings", "{{ toStrings .l }} {{ typeOf (toStrings .l) }}", "[1 x] []string"),
    (
        "b64",
        '{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }} {{ b64dec "!!" }}',
        "aGVsbG8= hello illegal base64 data at input byte 0",
    ),
    ("b32", '{{ b32enc "hi" }} {{ b32dec "NBUQ====" }}', "NBUQ==== hi"),
    (
        "hashes",
        '{{ sha1sum "hello" }} {{ adler32sum "hello" }}',
        "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d 103547413",
    ),
    (
        "sha256sum",
        '{{ sha256sum "hello" }}',
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    ),
    ("hello", "{{ hello }}", "Hello!"),
    (
        "fail",
        '{{ fail "boom" }}',
        'ERR: template: t:1:3: executing "t" at <fail "boom">: error calling fail: boom',
    ),
    (
        "typed parameter",
        "{{ upper .f }}",
        'ERR: template: t:1:9: executing "t" at <.f>: wrong type for value; expected string; got float64',
    ),
    (
        "int parameter",
        '{{ repeat "2" "a" }}',
        'ERR: template: t:1:10: executing "t" at <"2">: expected integer; found "2"',
    ),
]


@pytest.mark.parametrize(("case", "source", "want"), CASES, ids=[c[0] for c in CASES])
def test_string_functions(case: str, source: str, want: str) -> None:
    assert render(source, DATA) == want


def test_random_functions_have_the_right_shape() -> None:
    out = render(
        "{{ uuidv4 }}|{{ randAlphaNum 8 }}|{{ randNumeric 5 }}|{{ randAlpha 3 }}|{{ len (randBytes 6) }}"
    )
    uid, alnum, num, alpha, nbytes = out.split("|")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", uid)
    assert re.fullmatch(r"[A-Za-z0-9]{8}", alnum)
    assert re.fullmatch(r"[0-9]{5}", num)
    assert re.fullmatch(r"[A-Za-z]{3}", alpha)
    assert nbytes == "8"
    assert sorted(render('{{ shuffle "abc" }}')) == ["a", "b", "c"]


def test_huge_strings_fail_instead_of_exhausting_memory() -> None:
    out = render('{{ repeat 100000000 "abcdefgh" }}')
    assert out.startswith("ERR: ") and "emulator limit" in out
