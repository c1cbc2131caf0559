"""Problems found in a spec, reported together and without a traceback."""

from __future__ import annotations

from typing import NamedTuple

from .text import printable


# Note [No dataclasses on the fast path]: importing dataclasses (and with it
# inspect) costs a fresh --check more than the rest of its imports together; the
# types a fast check needs are NamedTuples or plain classes.
class Problem(NamedTuple):
    file: str
    key: str  # dotted key path, e.g. "backend.op_groups[2].name"; "" for the whole file
    message: str  # what is wrong and what was expected
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.key:
            where = f"{where}: {self.key}"
        # File names, keys and values come from the spec: never let them reach the
        # terminal with raw newlines or escape sequences.
        return printable(f"{where}: {self.message}")


class SpecError(Exception):
    """A spec is invalid; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


class Reporter:
    """Collects problems in the order found, each once."""

    def __init__(self) -> None:
        self._problems: dict[Problem, None] = {}
        # Counts every report, repeats included, so a caller can tell whether its
        # own checks failed even when the problem was already listed.
        self.reported = 0

    def add(self, file: str, key: str, message: str, line: int | None = None) -> None:
        self.reported += 1
        self._problems.setdefault(Problem(file, key, message, line), None)

    @property
    def problems(self) -> list[Problem]:
        return list(self._problems)

    def __bool__(self) -> bool:
        return bool(self._problems)

    def raise_if_any(self) -> None:
        if self._problems:
            raise SpecError(self.problems)


class Terminated(SystemExit):
    """SIGTERM or SIGHUP: the run stops (and removes its temporary files)."""
