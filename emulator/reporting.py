"""What the server tells the developer: URLs on start, problems as they appear and when fixed."""

from __future__ import annotations

import json
import sys
import time
from typing import TextIO

from emulator.project.resources import Problem
from emulator.runtime import Runtime


class Reporter:
    """Prints to a stream in ``console`` (human) or ``json`` (one object per line) format, or nothing."""

    def __init__(self, fmt: str = "console", stream: TextIO | None = None) -> None:
        self.fmt = fmt
        self.stream = stream or sys.stderr

    def _emit(self, event: str, text: str, **fields: object) -> None:
        if self.fmt == "quiet":
            return
        if self.fmt == "json":
            line = json.dumps({"time": round(time.time(), 3), "event": event, "message": text, **fields})
        else:
            line = text
        print(line, file=self.stream, flush=True)

    def startup(self, runtime: Runtime, base_url: str) -> None:
        """The URL of every API and of the OpenAPI document, then every problem."""
        api_base = f"{base_url}/v1/instances/default/api"
        names = sorted(api.name for api in runtime.project.apis.values())
        self._emit(
            "ready",
            f"rill-emu serving {runtime.project.root} at {base_url} "
            f"({len(names)} APIs, built in {runtime.build_ms:.0f} ms)",
            apis=names,
            url=base_url,
        )
        for name in names:
            self._emit("api", f"  API      {api_base}/{name}", name=name, url=f"{api_base}/{name}")
        self._emit("openapi", f"  OpenAPI  {api_base}/openapi", url=f"{api_base}/openapi")
        for problem in runtime.problems:
            self.problem(problem)

    def problem(self, problem: Problem) -> None:
        """One problem, as ``path:line: message``."""
        self._emit(
            "problem",
            f"{problem.severity}: {problem}",
            path=problem.path,
            line=problem.line,
            severity=problem.severity,
            detail=problem.message,
        )

    def reload(self, old: Runtime, new: Runtime) -> None:
        """A reload: its generation and what changed, new problems, and the problems now fixed."""
        self._emit(
            "reload",
            f"reloaded (generation {new.generation}, {new.build_ms:.0f} ms): "
            + (", ".join(new.changed) if new.changed else "no resource changed"),
            generation=new.generation,
            changed=list(new.changed),
        )
        before, after = set(old.problems), set(new.problems)
        for problem in new.problems:
            if problem not in before:
                self.problem(problem)
        for problem in old.problems:
            if problem not in after:
                self._emit("fixed", f"fixed: {problem}", path=problem.path, line=problem.line)

    def error(self, text: str) -> None:
        """An unexpected error the server survived."""
        self._emit("error", f"error: {text}")
