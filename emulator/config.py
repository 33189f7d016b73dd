"""Server configuration: what the CLI parses and the app factory consumes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from emulator.project.resources import Environment

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9009
INSTANCE_ID = "default"
#: Rill's default result cache budget: 256 MiB.
DEFAULT_CACHE_BYTES = 256 * 2**20
#: Largest request body accepted (``serve --max-body-size``); larger ones get 413.
DEFAULT_MAX_BODY_BYTES = 2**20
#: Seconds a query may run before it is interrupted (``serve --query-timeout``). Rill gives metrics
#: queries 3 minutes and SQL APIs no limit; a minute is plenty for an API on a laptop and frees the
#: machine from a runaway join sooner.
DEFAULT_QUERY_TIMEOUT = 60.0


@dataclass(frozen=True)
class EmuConfig:
    """Everything a rill-emu server needs to start."""

    project: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    environment: Environment = "dev"
    log_format: Literal["console", "json", "quiet"] = "console"
    watch: bool = True
    model_timeout: float | None = None
    #: ``serve --as EMAIL``: the mock user a request without identity headers runs as.
    default_user: str | None = None
    #: Keep query answers in the result cache (``serve --no-cache`` turns it off).
    cache: bool = True
    #: The result cache's budget in bytes (``serve --cache-size``).
    cache_bytes: int = DEFAULT_CACHE_BYTES
    #: Largest request body accepted, in bytes (``serve --max-body-size``; 0: no limit).
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: Seconds a query may run (``serve --query-timeout``; None or 0: no limit).
    query_timeout: float | None = DEFAULT_QUERY_TIMEOUT
    #: ``serve --strict-args``: a missing arg is a 400 naming it instead of ``<no value>``.
    strict_args: bool = False
    #: ``serve --validate-requests``: args checked against the API's ``openapi`` block.
    validate_requests: bool = False
