"""The default function table: Go builtins, Sprig's text functions (minus env/expandenv), Rill's."""

from __future__ import annotations

from functools import cache

from emulator.templating.builtins import BUILTINS
from emulator.templating.funcs import GoFunc, as_gofunc
from emulator.templating.rill import rill_funcs
from emulator.templating.sprig_data import DATA
from emulator.templating.sprig_dates import DATES
from emulator.templating.sprig_numeric import NUMERIC
from emulator.templating.sprig_regex import REGEX
from emulator.templating.sprig_strings import STRINGS

DEFAULT_ENVIRONMENT = "dev"  # the emulator runs projects as `rill start` does


@cache
def default_funcs() -> dict[str, GoFunc]:
    """All default functions by name; Sprig's override Go's builtins of the same name (``slice``)."""
    table: dict[str, GoFunc] = dict(BUILTINS)
    for group in (STRINGS, REGEX, NUMERIC, DATA, DATES):
        table.update(group)
    table.update({k: as_gofunc(v) for k, v in rill_funcs(DEFAULT_ENVIRONMENT).items()})
    return table
