"""A fuzz run's step program, kept as plain tables and written as a scenario file.

Every step the state machine takes is recorded here exactly as the scenario model reads it, so
the file of a failing run replays the same steps at the same instants (``python -m scenarios
replay FILE``) and reproduces the same violation.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scenarios.model import Scenario, Step, parse, step

FUZZ_ID = "fuzz-found"


@dataclass
class Program:
    venue: str
    subject: str
    seed: int
    convergence_ms: int
    steps: list[dict[str, Any]] = field(default_factory=list)

    def add(self, table: dict[str, Any]) -> Step:
        """Record one step (an ``[[action]]`` table) and return it as the model reads it."""
        read = step(table, f"fuzz step #{len(self.steps) + 1}")
        self.steps.append(table)
        return read

    def scenario(self, *, duration_ms: int, violations: tuple[str, ...] = (), scenario_id: str = FUZZ_ID) -> Scenario:
        text = self.toml(duration_ms=duration_ms, violations=violations, scenario_id=scenario_id)
        return parse(tomllib.loads(text), Path(f"{scenario_id}.toml"))

    def toml(self, *, duration_ms: int, violations: tuple[str, ...] = (), scenario_id: str = FUZZ_ID) -> str:
        lines = [
            f'id = "{scenario_id}"',
            f'title = "Found by the fuzzer: {self.subject} on {self.venue}, seed {self.seed}"',
            'story = """',
            f"A step program the fuzzer generated and shrank ({len(self.steps)} steps). Replayed with seed"
            f" {self.seed}: python -m scenarios replay THIS_FILE --seed {self.seed}.",
            '"""',
            f'venue = "{self.venue}"',
            f"duration_ms = {duration_ms}",
            f"convergence_ms = {self.convergence_ms}",
        ]
        for table in self.steps:
            lines += ["", "[[action]]"] + [f"{key} = {_value(value)}" for key, value in table.items()]
        if violations:
            lines += ["", "[[expect]]", f'subject = "{self.subject}"', "passes = false",
                      f"violations = {_value(list(violations))}"]
        return "\n".join(lines) + "\n"

    def lines(self) -> list[str]:
        """The program, one step a line, for a failure message."""
        return [f"T+{t['at_ms']:>8} ms  {t['do']}" + "".join(f" {k}={v}" for k, v in t.items() if k not in ("at_ms", "do"))
                for t in self.steps]


def _value(value: Any) -> str:
    """A TOML value: strings, whole numbers, floats, booleans, lists and inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"a step table holds strings, numbers, booleans, lists and tables; got {value!r}")
