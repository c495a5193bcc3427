"""What a named replay reports: its timeline, and which of its findings held."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Replay:
    timeline: list[str] = field(default_factory=list)
    findings: dict[str, bool] = field(default_factory=dict)

    @property
    def reproduced(self) -> bool:
        return bool(self.findings) and all(self.findings.values())
