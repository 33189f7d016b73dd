"""Sprig date functions and Go's time layouts, with the machine zone set to Europe/Paris."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator

import pytest

from tests.templating._util import render

PARIS_DAY = '(toDate "2006-01-02" "2024-03-05")'


@pytest.fixture(autouse=True)
def paris(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


CASES = [
    ("toDate prints like Go", '{{ toDate "2006-01-02" "2024-03-05" }}', "2024-03-05 00:00:00 +0100 CET"),
    (
        "toDate in summer",
        '{{ toDate "2006-01-02 15:04" "2024-07-01 12:30" }}',
        "2024-07-01 12:30:00 +0200 CEST",
    ),
    ("toDate failure is the zero time", '{{ toDate "2006-01-02" "x" }}', "0001-01-01 00:00:00 +0000 UTC"),
    (
        "toDate with offset",
        '{{ toDate "2006-01-02T15:04:05Z07:00" "2024-03-05T10:00:00Z" | unixEpoch }}',
        "1709632800",
    ),
    (
        "toDate with Z is UTC, other offsets are fixed zones",
        '{{ toDate "2006-01-02T15:04Z07:00" "2024-03-05T10:00Z" }} {{ toDate "2006-01-02T15:04Z07:00" '
        '"2024-03-05T10:00+05:30" }}',
        "2024-03-05 10:00:00 +0000 UTC 2024-03-05 10:00:00 +0530 +0530",
    ),
    ("unixEpoch", f"{{{{ {PARIS_DAY} | unixEpoch }}}}", "1709593200"),
    (
        "date layout",
        f'{{{{ {PARIS_DAY} | date "Mon Jan 2 15:04:05 MST 2006" }}}}',
        "Tue Mar 5 00:00:00 CET 2024",
    ),
    ("date long names", f'{{{{ {PARIS_DAY} | date "Monday, January 02" }}}}', "Tuesday, March 05"),
    (
        "date layout details",
        '{{ toDate "2006-01-02 15:04:05.000" "2024-03-05 14:07:09.120" | date "Jan _2 3:04PM .000 .999 '
        'Z0700 -07:00 __2 06" }}',
        "Mar  5 2:07PM .120 .12 +0100 +01:00  65 24",
    ),
    ("date from unix seconds", '{{ date "2006-01-02T15:04:05Z07:00" 0 }}', "1970-01-01T01:00:00+01:00"),
    (
        "dateInZone",
        '{{ dateInZone "2006-01-02 15:04 MST" 0 "UTC" }} {{ dateInZone "15:04" 0 "Asia/Tokyo" }}',
        "1970-01-01 00:00 UTC 09:00",
    ),
    ("dateInZone unknown zone is UTC", '{{ dateInZone "15:04 MST" 0 "Nowhere/Zone" }}', "00:00 UTC"),
    ("htmlDate", '{{ htmlDate 0 }} {{ htmlDateInZone 0 "Asia/Tokyo" }}', "1970-01-01 1970-01-01"),
    ("dateModify", f'{{{{ {PARIS_DAY} | dateModify "36h" | date "2006-01-02 15:04" }}}}', "2024-03-06 12:00"),
    (
        "dateModify negative",
        f'{{{{ {PARIS_DAY} | dateModify "-1.5h" | date "2006-01-02 15:04" }}}}',
        "2024-03-04 22:30",
    ),
    (
        "dateModify ignores bad durations",
        f'{{{{ {PARIS_DAY} | dateModify "bad" | date "2006-01-02" }}}}',
        "2024-03-05",
    ),
    (
        "mustDateModify reports them",
        f'{{{{ {PARIS_DAY} | mustDateModify "bad" }}}}',
        'ERR: template: t:1:40: executing "t" at <mustDateModify "bad">: error calling mustDateModify: '
        'time: invalid duration "bad"',
    ),
    (
        "mustToDate",
        '{{ mustToDate "2006-01-02" "x" }}',
        'ERR: template: t:1:3: executing "t" at <mustToDate "2006-01-02" "x">: error calling mustToDate: '
        'parsing time "x" as "2006-01-02": cannot parse "x" as "2006"',
    ),
    ("duration", '{{ duration "95" }} {{ duration (int64 3600) }} {{ duration 95 }}', "1m35s 1h0m0s 0s"),
    (
        "durationRound",
        '{{ durationRound "2h10m" }} {{ durationRound "90s" }} {{ durationRound "400h" }} {{ durationRound '
        '"x" }}',
        "2h 1m 16d 0s",
    ),
    (
        "time methods",
        f"{{{{ {PARIS_DAY}.Year }}}} {{{{ {PARIS_DAY}.Month }}}} {{{{ {PARIS_DAY}.Weekday }}}}",
        "2024 March Tuesday",
    ),
    (
        "time method with argument",
        f'{{{{ {PARIS_DAY}.Format "02/01" }}}} {{{{ ({PARIS_DAY}.AddDate 0 1 0).Format "2006-01-02" }}}}',
        "05/03 2024-04-05",
    ),
    (
        "dateModify needs a time",
        '{{ dateModify "1h" "2024" }}',
        'ERR: template: t:1:19: executing "t" at <"2024">: can\'t handle "2024" for arg of type time.Time',
    ),
    ("toJson of a time", f"{{{{ toJson {PARIS_DAY} }}}}", '"2024-03-05T00:00:00+01:00"'),
]


@pytest.mark.parametrize(("case", "source", "want"), CASES, ids=[c[0] for c in CASES])
def test_date_functions(case: str, source: str, want: str) -> None:
    assert render(source) == want


def test_now() -> None:
    year = str(dt.datetime.now().year)
    assert render('{{ now | date "2006" }}') == year
    assert render('{{ date "2006" 1.5 }}') == year  # a float is not a date: Sprig uses now
    printed = render("{{ now }}")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0[12]00 CES?T m=\+\d+\.\d{9}", printed)
    assert render("{{ ago now }}") == "0s"
