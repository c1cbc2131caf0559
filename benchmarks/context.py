"""What a benchmark run shares: its settings, its throwaway trees, and a measured row."""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .measure import Run, Sample

REPO = Path(__file__).resolve().parent.parent
FBGEMM_SPEC = "spec/fbgemm.toml"
FBGEMM_OUTPUT = "generated/fbgemm.py"

# black checks the file in the mode the generator formats it with (generator/formatting.py:
# line length 79, Python 3.10 target), from a config file of its own, so neither this
# repository's [tool.black] nor a user-level black config changes what it does.
BLACK_CONFIG = """\
[tool.black]
line-length = 79
target-version = ["py310"]
"""


@dataclass(frozen=True)
class Settings:
    repetitions: int
    sizes: tuple[int, int, int]  # synthetic specs: small, medium, large (pattern configs)
    builds: int  # in-process builds of each config per repetition
    enforce: bool  # judge the targets (not in smoke mode)
    warmup: bool  # one untimed run of each command first (page cache, .pyc files)
    # A synthetic size repeats only while its runs fit in this many CPU seconds (at least once).
    size_budget: float


DEFAULT = Settings(repetitions=5, sizes=(200, 2_000, 20_000), builds=1_000, enforce=True,
                   warmup=True, size_budget=25.0)
SMOKE = Settings(repetitions=1, sizes=(10, 20, 40), builds=10, enforce=False, warmup=False,
                 size_budget=0.0)


class BenchmarkError(Exception):
    """A measured command did not do what it is measured doing."""


@dataclass
class Row:
    label: str
    ours: Sample
    reference: Sample
    target: float | None  # the most our median may be, as a multiple of the reference's
    # ... or, instead, how many seconds (or MB) more than the reference's it may be.
    margin: float | None = None

    @property
    def ratio(self) -> float:
        return self.ours.median / self.reference.median

    @property
    def excess(self) -> float:
        return self.ours.median - self.reference.median

    @property
    def judged(self) -> bool:
        return self.target is not None or self.margin is not None

    @property
    def wall_ratio(self) -> float | None:
        ours, reference = self.ours.wall_median, self.reference.wall_median
        return None if ours is None or reference is None else ours / reference

    def target_text(self) -> str:
        if self.margin is not None:
            return f"<= +{self.margin:g} {self.ours.unit}"
        return "" if self.target is None else f"<= {self.target:g}x"

    def figure_text(self) -> str:
        """What the verdict judged: the ratio, or the excess over the reference."""
        bound = "> " if self.ours.stopped else ""
        if self.margin is not None:
            return f"{bound}{self.excess:+.2f} {self.ours.unit}"
        return f"{bound}{self.ratio:.2f}x"

    def verdict(self) -> str:
        """"met", "missed", or "not shown": a stopped run gives only a lower bound,
        which may still be within the target."""
        assert self.judged
        over = self.excess > self.margin if self.margin is not None else self.ratio > (self.target or 0.0)
        if over:
            return "missed"
        return "not shown" if self.ours.stopped else "met"


@dataclass
class Context:
    """Where a run keeps its throwaway trees, and how it starts each command."""

    root: Path
    settings: Settings
    started: float = field(default_factory=time.perf_counter)
    generator_flags: tuple[str, ...] = ()
    # The highest 1-minute load average seen: other work competing for the cores.
    busiest: float = 0.0
    _count: int = 0

    def note(self, message: str) -> None:
        self.busiest = max(self.busiest, os.getloadavg()[0])
        print(f"[{time.perf_counter() - self.started:5.0f} s] {message}", file=sys.stderr, flush=True)

    def new_dir(self, name: str) -> Path:
        self._count += 1
        path = self.root / f"{self._count:04d}-{name}"
        path.mkdir()
        return path

    def fbgemm_tree(self, with_output: bool = True) -> Path:
        """A fresh copy of the project's spec/ and generated/, marked as a repository root
        (byte-code caches left behind: each row decides what is warm)."""
        tree = self.new_dir("tree")
        (tree / ".git").mkdir()
        for name in ("spec", "generated"):
            shutil.copytree(REPO / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        if not with_output:
            (tree / FBGEMM_OUTPUT).unlink()
        return tree

    def generator_env(self) -> dict[str, str]:
        """This checkout's generator, with an empty user cache directory every run."""
        path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        return {**os.environ, "PYTHONPATH": path, "XDG_CACHE_HOME": str(self.new_dir("xdg-cache"))}

    def black_env(self, cache: Path) -> dict[str, str]:
        # BLACK_CACHE_DIR is black's documented way to place its cache.
        return {**os.environ, "BLACK_CACHE_DIR": str(cache)}

    def black_argv(self) -> list[str]:
        config = self.root / "black.toml"
        if not config.exists():
            config.write_text(BLACK_CONFIG, encoding="utf-8")
        return [sys.executable, "-m", "black", "--config", str(config), "--check", FBGEMM_OUTPUT]


def expect_success(what: str, run: Run) -> Run:
    if run.returncode != 0 and not run.stopped:
        tail = "\n".join(run.stderr.strip().splitlines()[-8:])
        raise BenchmarkError(f"{what} exited {run.returncode}:\n{tail}")
    return run
