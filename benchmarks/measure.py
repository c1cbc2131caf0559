"""Run one command as a child process and measure it: wall time and its own peak RSS.

``resource.getrusage(RUSAGE_CHILDREN)`` is the maximum over every child ever
waited for, so it cannot tell one run from the next. Each child is instead reaped
with ``os.wait4``, whose rusage belongs to that child alone.
"""

from __future__ import annotations

import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Run:
    """One finished (or stopped) child process."""

    seconds: float
    peak_rss_bytes: int
    returncode: int
    stopped: bool  # killed because it reached its time limit
    stderr: str


def _peak_rss_bytes(usage) -> int:
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    return usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024


def run_command(
    argv: list[str], cwd: Path, env: dict[str, str], limit: float | None = None
) -> Run:
    """Run ``argv`` to completion (or until ``limit`` seconds have passed, then kill it).

    Output goes to temporary files, not pipes, so a chatty child never blocks and
    the parent does no work while the child runs.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        stopped = False
        if limit is not None and hasattr(os, "pidfd_open"):
            # Wait on a pidfd: the child is killed only while it is still unreaped,
            # so its pid cannot have been reused by then.
            pidfd = os.pidfd_open(child.pid)
            try:
                ready, _, _ = select.select([pidfd], [], [], limit)
            finally:
                os.close(pidfd)
            if not ready:
                child.kill()
                stopped = True
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return Run(seconds, _peak_rss_bytes(usage), child.returncode, stopped, stderr)


@dataclass
class Sample:
    """Repeated measurements of one quantity, in one unit."""

    unit: str  # "s" or "MB"
    values: list[float] = field(default_factory=list)
    # True when the last run was stopped at its time limit: its value is a lower bound.
    stopped: bool = False

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def __len__(self) -> int:
        return len(self.values)
