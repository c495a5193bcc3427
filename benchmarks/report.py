"""What a benchmark script prints: each line shown as it is measured, and kept for ``--out``."""

from __future__ import annotations


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def write(self, path: str | None) -> None:
        """Also keep the report in ``path`` (nothing without one)."""
        if path:
            with open(path, "w", encoding="utf-8") as out:
                out.write("\n".join(self.lines) + "\n")
