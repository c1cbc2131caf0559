"""Run one command as a child process and measure it: CPU time, wall time, its own peak RSS.

``resource.getrusage(RUSAGE_CHILDREN)`` is the maximum over every child ever
waited for, so it cannot tell one run from the next. Each child is instead reaped
with ``os.wait4``, whose rusage belongs to that child alone.

Times are judged as CPU time (user + system) of the child: this 2-core machine is
shared, and another process running at the same time stretches wall time by any
amount but CPU time hardly at all. Wall time is kept beside it, for comparison.
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

# How often a child with a CPU-time limit is looked at, in seconds.
_POLL = 0.2


@dataclass(frozen=True)
class Run:
    """One finished (or stopped) child process."""

    cpu_seconds: float  # user + system time of the child alone
    wall_seconds: float
    peak_rss_bytes: int
    returncode: int
    stopped: bool  # killed because it reached its CPU-time limit
    stderr: str


def _peak_rss_bytes(usage) -> int:
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    return usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024


def _cpu_so_far(pid: int) -> float | None:
    """CPU time a running process has used so far (Linux /proc), or None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            fields = stream.read().rpartition(b")")[2].split()
    except OSError:
        return None
    # After "pid (comm)": state is field 3, utime 14 and stime 15 (proc(5)).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until(child: subprocess.Popen, cpu_limit: float) -> bool:
    """Wait for ``child`` to exit; kill it once it has used ``cpu_limit`` CPU seconds.
    Returns whether it was killed. The child is killed only while still unreaped
    (a pidfd says when it has exited), so its pid cannot have been reused."""
    pidfd = os.pidfd_open(child.pid)
    try:
        while True:
            ready, _, _ = select.select([pidfd], [], [], _POLL)
            if ready:
                return False
            used = _cpu_so_far(child.pid)
            if used is not None and used >= cpu_limit:
                child.kill()
                return True
    finally:
        os.close(pidfd)


def run_command(
    argv: list[str], cwd: Path, env: dict[str, str], cpu_limit: float | None = None
) -> Run:
    """Run ``argv`` to completion, or until it has used ``cpu_limit`` CPU seconds.

    Output goes to temporary files, not pipes, so a chatty child never blocks and,
    without a limit, the parent does nothing while the child runs.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        stopped = False
        if cpu_limit is not None and hasattr(os, "pidfd_open"):
            stopped = _wait_until(child, cpu_limit)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    cpu = usage.ru_utime + usage.ru_stime
    return Run(cpu, wall, _peak_rss_bytes(usage), child.returncode, stopped, stderr)


@dataclass
class Sample:
    """Repeated measurements of one quantity, in one unit: CPU seconds ("s") or MB."""

    unit: str
    values: list[float] = field(default_factory=list)
    # For times: the wall time of each run, beside its CPU time in ``values``.
    wall: list[float] = field(default_factory=list)
    # True when a run was stopped at its limit: the figures are lower bounds.
    stopped: bool = False

    def add_time(self, run: Run) -> None:
        self.values.append(run.cpu_seconds)
        self.wall.append(run.wall_seconds)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def wall_median(self) -> float | None:
        return statistics.median(self.wall) if self.wall else None

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def __len__(self) -> int:
        return len(self.values)
