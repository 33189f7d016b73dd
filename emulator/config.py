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
