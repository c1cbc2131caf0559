"""python -m benchmarks: the performance targets of issue 8, measured in one run.

Every command runs as a user runs it, as a child process (``python -m generator``,
``python -m black``, a fresh ``python -c``), in throwaway copies of the tree under a
temporary directory, so nothing in the repository changes. Each row alternates our
command with its reference (ABAB...), repeats, and reports the median and the
min-max spread of each and the ratio of the medians, against the issue's target.
Times are CPU time of the measured process (see measure.py), wall time beside it.

Exit status: 0 every target met; 1 a target missed, or a measured command failed
(both named on stderr); 2 bad usage (argparse's own exit). ``--smoke`` runs tiny sizes once and judges no
target: it exits 0 when every row was measured.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from .measure import Run, Sample, run_command
from .synthetic import write_synthetic_tree

REPO = Path(__file__).resolve().parent.parent
FBGEMM_SPEC = "spec/fbgemm.toml"
FBGEMM_OUTPUT = "generated/fbgemm.py"

EXIT_OK = 0
EXIT_MISSED = 1

# The targets: our figure over the reference's, at most.
TARGET_CHECK = 1.5
TARGET_REGENERATE = 2.0
TARGET_LARGE_TIME = 11.0
TARGET_LARGE_MEMORY = 2.0
TARGET_FRESH_IMPORT = 1.05
TARGET_IN_PROCESS = 1.0
# The large synthetic spec is stopped once it has used this many times its time target:
# a runaway then, whose exact figure matters less than a bounded run.
STOP_LARGE = 2.0

# black checks the file in the mode the generator formats it with (generator/output.py:
# line length 88, Python 3.10 target), from a config file of its own, so neither this
# repository's [tool.black] nor a user-level black config changes what it does.
BLACK_CONFIG = """\
[tool.black]
line-length = 88
target-version = ["py310"]
"""

# What a fresh interpreter runs, importing and building each config once.
OURS_FRESH = """\
import importlib.util
spec = importlib.util.spec_from_file_location("fbgemm_backend_config", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.get_fbgemm_backend_config()
"""
TORCH_FRESH = """\
import torch.ao.quantization.backend_config.utils
from torch.ao.quantization.backend_config import get_fbgemm_backend_config
get_fbgemm_backend_config()
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
    target: float | None

    @property
    def ratio(self) -> float:
        return self.ours.median / self.reference.median

    @property
    def wall_ratio(self) -> float | None:
        ours, reference = self.ours.wall_median, self.reference.wall_median
        return None if ours is None or reference is None else ours / reference

    def verdict(self) -> str:
        """"met", "missed", or "not shown": a stopped run gives only a lower bound,
        which may still be within the target."""
        assert self.target is not None
        if self.ratio > self.target:
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


def _expect_success(what: str, run: Run) -> Run:
    if run.returncode != 0 and not run.stopped:
        tail = "\n".join(run.stderr.strip().splitlines()[-8:])
        raise BenchmarkError(f"{what} exited {run.returncode}:\n{tail}")
    return run


def _generator_flags(context: Context) -> tuple[str, ...]:
    """--no-cache when the generator has it: a full regeneration must not reuse earlier work."""
    done = subprocess.run([sys.executable, "-m", "generator", "--help"], cwd=REPO, env=context.generator_env(),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchmarkError(f"python -m generator --help exited {done.returncode}:\n{done.stderr.strip()}")
    return ("--no-cache",) if "--no-cache" in done.stdout else ()


# -- the rows ------------------------------------------------------------------


def bench_check(context: Context) -> Row:
    """`--check` on a fresh tree (a new copy every run) vs black --check, its cache warm."""
    settings = context.settings
    black_tree = context.fbgemm_tree()
    black_env = context.black_env(context.new_dir("black-cache-warm"))
    black = context.black_argv()
    _expect_success("black --check (warming its cache)", run_command(black, black_tree, black_env))
    ours = [sys.executable, "-m", "generator", "--check", FBGEMM_SPEC]

    def run_ours() -> Run:
        tree = context.fbgemm_tree()
        return _expect_success("python -m generator --check", run_command(ours, tree, context.generator_env()))

    def run_black() -> Run:
        return _expect_success("black --check", run_command(black, black_tree, black_env))

    if settings.warmup:
        run_ours()
        run_black()
    ours_seconds, black_seconds = Sample("s"), Sample("s")
    for repetition in range(settings.repetitions):
        context.note(f"--check vs black --check (cache warm): {repetition + 1}/{settings.repetitions}")
        ours_seconds.add_time(run_ours())
        black_seconds.add_time(run_black())
    return Row("`--check`, fresh tree, vs `black --check`, cache warm", ours_seconds, black_seconds, TARGET_CHECK)


def bench_regenerate(context: Context) -> Row:
    """A full regeneration (output missing) vs black --check with an empty cache every run."""
    settings = context.settings
    expected = (REPO / FBGEMM_OUTPUT).read_bytes()
    black_tree = context.fbgemm_tree()
    black = context.black_argv()
    ours = [sys.executable, "-m", "generator", *context.generator_flags, FBGEMM_SPEC]

    def run_ours() -> Run:
        tree = context.fbgemm_tree(with_output=False)
        run = _expect_success("python -m generator", run_command(ours, tree, context.generator_env()))
        if (tree / FBGEMM_OUTPUT).read_bytes() != expected:
            raise BenchmarkError(f"regenerating {FBGEMM_OUTPUT} did not reproduce the committed file")
        return run

    def run_black() -> Run:
        env = context.black_env(context.new_dir("black-cache-empty"))
        return _expect_success("black --check (no cache)", run_command(black, black_tree, env))

    if settings.warmup:
        run_ours()
        run_black()
    ours_seconds, black_seconds = Sample("s"), Sample("s")
    for repetition in range(settings.repetitions):
        context.note(f"regeneration vs black --check (no cache): {repetition + 1}/{settings.repetitions}")
        ours_seconds.add_time(run_ours())
        black_seconds.add_time(run_black())
    return Row(
        f"full regeneration of `{FBGEMM_OUTPUT}` vs `black --check`, cache disabled",
        ours_seconds,
        black_seconds,
        TARGET_REGENERATE,
    )


def _spec_limit() -> int | None:
    """The generator's spec size limit, to report a synthetic spec over it plainly.
    If it cannot be found here, the generator still refuses such a spec (exit 2)."""
    for module in ("generator.sources", "generator.loader"):
        try:
            return importlib.import_module(module).MAX_SPEC_BYTES
        except (ImportError, AttributeError):
            continue
    return None


def bench_scaling(context: Context) -> list[Row]:
    """Regeneration time and peak RSS of synthetic specs of three sizes.

    The small and medium sizes alternate; each repeats up to ``repetitions`` times,
    fewer when its runs would not fit in ``size_budget`` CPU seconds. The large size
    runs after them, and (when targets are judged) is stopped once it has used
    STOP_LARGE times its target (in CPU time, against the medium median).
    """
    settings = context.settings
    small, medium, large = settings.sizes
    limit = _spec_limit()
    specs = {}
    for count in settings.sizes:
        specs[count] = write_synthetic_tree(context.new_dir(f"synthetic-{count}"), count)
        size = specs[count].stat().st_size
        if limit is not None and size > limit:
            raise BenchmarkError(
                f"the synthetic spec of {count} pattern configs is {size} bytes, over the loader's {limit}"
            )
    times = {count: Sample("s") for count in settings.sizes}
    memory = {count: Sample("MB") for count in settings.sizes}

    def run_size(count: int, cpu_limit: float | None = None) -> Run:
        spec = specs[count]
        tree = spec.parent.parent
        for old in (tree / "generated").iterdir():
            old.unlink()
        argv = [sys.executable, "-m", "generator", *context.generator_flags, spec.relative_to(tree).as_posix()]
        run = _expect_success(f"python -m generator ({count} pattern configs)",
                              run_command(argv, tree, context.generator_env(), cpu_limit))
        if not run.stopped and not any((tree / "generated").iterdir()):
            raise BenchmarkError(f"python -m generator ({count} pattern configs) wrote no output")
        times[count].add_time(run)
        memory[count].add(run.peak_rss_bytes / 1e6)
        if run.stopped:
            times[count].stopped = memory[count].stopped = True
        return run

    def quota(first: Run) -> int:
        if first.stopped:
            return 1
        fits = int(settings.size_budget // first.cpu_seconds) if first.cpu_seconds > 0 else settings.repetitions
        return max(1, min(settings.repetitions, fits))

    if settings.warmup:
        run_size(small)
        times[small], memory[small] = Sample("s"), Sample("MB")
    context.note(f"synthetic specs of {small:,} and {medium:,} pattern configs: 1")
    quotas = {small: quota(run_size(small)), medium: quota(run_size(medium))}
    for repetition in range(1, max(quotas.values())):
        context.note(f"synthetic specs of {small:,} and {medium:,} pattern configs: {repetition + 1}")
        for count in (small, medium):
            if repetition < quotas[count]:
                run_size(count)

    cpu_limit = STOP_LARGE * TARGET_LARGE_TIME * times[medium].median if settings.enforce else None
    shown = f", stopped at {cpu_limit:.0f} CPU s" if cpu_limit else ""
    context.note(f"synthetic spec of {large:,} pattern configs: 1 (may take long{shown})")
    first = run_size(large, cpu_limit)
    for repetition in range(1, quota(first)):
        context.note(f"synthetic spec of {large:,} pattern configs: {repetition + 1}")
        if run_size(large, cpu_limit).stopped:
            break

    def label(big: int, reference: int, what: str) -> str:
        return f"synthetic spec regeneration, {big:,} vs {reference:,} pattern configs: {what}"

    return [
        Row(label(medium, small, "time"), times[medium], times[small], None),
        Row(label(medium, small, "peak RSS"), memory[medium], memory[small], None),
        Row(label(large, medium, "time"), times[large], times[medium], TARGET_LARGE_TIME),
        Row(label(large, medium, "peak RSS"), memory[large], memory[medium], TARGET_LARGE_MEMORY),
    ]


def bench_fresh_import(context: Context) -> Row:
    """A fresh interpreter importing and building each config once.

    Twice the repetitions of the other rows: importing torch is nearly all of either
    figure and varies by tens of percent from run to run, while the target is 1.05x.
    """
    settings = context.settings
    # (Smoke mode judges nothing: its single pair is enough.)
    repetitions = 2 * settings.repetitions if settings.enforce else settings.repetitions
    tree = context.fbgemm_tree()
    # torch's modules were compiled to byte code when torch was installed; a vendored
    # module is too, the first time it is imported. The warm-up run writes its .pyc
    # (PYTHONDONTWRITEBYTECODE, if set, would make every run compile it again).
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONWARNINGS"] = "ignore"
    ours = [sys.executable, "-c", OURS_FRESH.format(path=str(tree / FBGEMM_OUTPUT))]
    theirs = [sys.executable, "-c", TORCH_FRESH]

    def run(argv: list[str], what: str) -> Run:
        return _expect_success(what, run_command(argv, tree, env))

    if settings.warmup:
        run(ours, "import generated module")
        run(theirs, "import torch's module")
    ours_seconds, torch_seconds = Sample("s"), Sample("s")
    for repetition in range(repetitions):
        context.note(f"fresh interpreter, generated vs torch: {repetition + 1}/{repetitions}")
        ours_seconds.add_time(run(ours, "import generated module"))
        torch_seconds.add_time(run(theirs, "import torch's module"))
    return Row(
        "fresh interpreter, import + build: generated module vs torch's (with the `utils` work-around)",
        ours_seconds,
        torch_seconds,
        TARGET_FRESH_IMPORT,
    )


def bench_in_process(context: Context) -> Row:
    """``builds`` builds of each config in one interpreter, rounds alternating (ABBA)."""
    settings = context.settings
    context.note(f"{settings.builds:,} in-process builds of each, {settings.repetitions} rounds")
    tree = context.fbgemm_tree()
    argv = [
        sys.executable, str(REPO / "benchmarks" / "builds.py"), "--generated", str(tree / FBGEMM_OUTPUT),
        "--builds", str(settings.builds), "--rounds", str(settings.repetitions),
        "--warmup", str(20 if settings.warmup else 1),
    ]
    done = subprocess.run(argv, cwd=tree, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise BenchmarkError(f"in-process builds exited {done.returncode}:\n{tail}")
    seconds = json.loads(done.stdout)
    return Row(
        f"{settings.builds:,} in-process builds: generated module vs torch's",
        Sample("s", seconds["ours"]["cpu"], seconds["ours"]["wall"]),
        Sample("s", seconds["torch"]["cpu"], seconds["torch"]["wall"]),
        TARGET_IN_PROCESS,
    )


# -- the report ----------------------------------------------------------------


def _number(value: float, unit: str) -> str:
    if unit == "MB":
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _cell(sample: Sample) -> str:
    bound = "> " if sample.stopped else ""
    median = f"{bound}{_number(sample.median, sample.unit)} {sample.unit}"
    if len(sample) == 1:
        spread = "n=1, stopped" if sample.stopped else "n=1"
    else:
        spread = f"{_number(sample.low, sample.unit)}–{_number(sample.high, sample.unit)}, n={len(sample)}"
    return f"{median} ({spread})"


def _result(row: Row, enforce: bool) -> str:
    if row.target is None:
        return "(no target)"
    if not enforce:
        return "(smoke: not judged)"
    return {"met": "met", "missed": "**MISSED**", "not shown": "**not shown** (run stopped)"}[row.verdict()]


def _table(rows: list[Row], enforce: bool) -> list[list[str]]:
    header = ["measure", "ours: median (min–max, n)", "reference: median (min–max, n)", "ratio", "target",
              "result", "wall-time ratio"]
    lines = [header]
    for row in rows:
        bound = "> " if row.ours.stopped else ""
        target = "" if row.target is None else f"<= {row.target:g}x"
        wall = "" if row.wall_ratio is None else f"{bound}{row.wall_ratio:.2f}x"
        lines.append([row.label, _cell(row.ours), _cell(row.reference), f"{bound}{row.ratio:.2f}x",
                      target, _result(row, enforce), wall])
    return lines


def render_markdown(rows: list[Row], enforce: bool) -> str:
    table = _table(rows, enforce)
    out = [f"| {' | '.join(table[0])} |", f"|{'|'.join(['---'] * len(table[0]))}|"]
    out += [f"| {' | '.join(cells)} |" for cells in table[1:]]
    return "\n".join(out)


def render_text(rows: list[Row], enforce: bool) -> str:
    table = [[cell.replace("**", "").replace("`", "") for cell in cells] for cells in _table(rows, enforce)]
    widths = [max(len(cells[column]) for cells in table) for column in range(len(table[0]))]
    out = []
    for index, cells in enumerate(table):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip())
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def environment_line(context: Context, seconds: float) -> str:
    repetitions = context.settings.repetitions
    return (
        f"Times are CPU time (user + system) of the measured process; the last column compares wall times. "
        f"Measured {datetime.date.today().isoformat()} on {os.cpu_count()} cores ({platform.system()}, "
        f"1-minute load average up to {context.busiest:.1f}), Python {platform.python_version()}, "
        f"black {_version('black')}, torch {_version('torch')}; "
        f"{repetitions} repetition{'s' if repetitions != 1 else ''}; whole run {seconds:.0f} s."
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure the generator against its references (issue 8) and judge the targets.",
        epilog="exit status: 0 every target met; 1 a target missed or a command failed; 2 bad usage",
    )
    parser.add_argument("-r", "--repetitions", type=int, default=None,
                        help=f"runs of each command (default {DEFAULT.repetitions}; "
                        "the larger synthetic specs may run fewer, see README)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, one repetition, no warm-up, targets not judged: "
                        "checks that every row can be measured")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    settings = SMOKE if args.smoke else DEFAULT
    if args.repetitions is not None:
        if args.repetitions < 1:
            parser.error("--repetitions must be at least 1")
        settings = replace(settings, repetitions=args.repetitions)

    with tempfile.TemporaryDirectory(prefix="backendconfig-bench-") as root:
        context = Context(Path(root), settings)
        try:
            context.generator_flags = _generator_flags(context)
            if context.generator_flags:
                context.note(f"full regenerations run with {' '.join(context.generator_flags)}")
            rows = [bench_check(context), bench_regenerate(context), *bench_scaling(context),
                    bench_fresh_import(context), bench_in_process(context)]
        except BenchmarkError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_MISSED
        seconds = time.perf_counter() - context.started

    print(render_markdown(rows, settings.enforce) if args.markdown else render_text(rows, settings.enforce))
    print()
    print(environment_line(context, seconds))
    if context.busiest > (os.cpu_count() or 1):
        print(f"warning: other processes kept the machine busy (load average up to {context.busiest:.1f} "
              f"on {os.cpu_count()} cores): wall times are stretched, CPU times less so", file=sys.stderr)
    if not settings.enforce:
        return EXIT_OK
    failed = [row for row in rows if row.target is not None and row.verdict() != "met"]
    for row in failed:
        bound = "> " if row.ours.stopped else ""
        what = "missed" if row.verdict() == "missed" else "not shown met (its run was stopped at the time limit)"
        print(f"{what}: {row.label.replace('`', '')}: {bound}{row.ratio:.2f}x, target <= {row.target:g}x",
              file=sys.stderr)
    return EXIT_MISSED if failed else EXIT_OK
