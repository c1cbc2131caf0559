"""Problems found in a spec, reported together and without a traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    key: str  # dotted key path, e.g. "backend.op_groups[2].name"; "" for the whole file
    message: str  # what is wrong and what was expected
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.key:
            where = f"{where}: {self.key}"
        return f"{where}: {self.message}"


class SpecError(Exception):
    """A spec is invalid; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems
