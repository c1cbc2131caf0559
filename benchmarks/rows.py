"""The rows of the benchmark: each measures our command against its reference."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .context import (
    FBGEMM_OUTPUT,
    FBGEMM_SPEC,
    REPO,
    BenchmarkError,
    Context,
    Row,
    expect_success,
)
from .measure import Run, Sample, run_command
from .synthetic import write_synthetic_tree

# The targets: our figure over the reference's, at most.
# --check runs in a pre-commit hook on every commit: about what starting Python costs (issue 16).
TARGET_CHECK = 0.5
TARGET_REGENERATE = 2.0
TARGET_LARGE_TIME = 11.0
TARGET_LARGE_MEMORY = 2.0
TARGET_FRESH_IMPORT = 1.05
TARGET_IN_PROCESS = 1.0
# The resolve hook imports torch, so it costs at least what importing torch costs:
# at most this many CPU seconds more (issue 16).
MARGIN_RESOLVE = 0.5
# The large synthetic spec is stopped once it has used this many times its time target:
# a runaway then, whose exact figure matters less than a bounded run.
STOP_LARGE = 2.0

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


def generator_flags(context: Context) -> tuple[str, ...]:
    """--no-cache when the generator has it: a full regeneration must not reuse earlier work."""
    done = subprocess.run([sys.executable, "-m", "generator", "--help"], cwd=REPO, env=context.generator_env(),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchmarkError(f"python -m generator --help exited {done.returncode}:\n{done.stderr.strip()}")
    return ("--no-cache",) if "--no-cache" in done.stdout else ()


# -- the rows ------------------------------------------------------------------


def alternate(context: Context, what: str, run_ours: Callable[[], Run], run_reference: Callable[[], Run],
              repetitions: int | None = None) -> tuple[Sample, Sample]:
    """Our command and its reference, alternating (ours, reference, ours, ...), after
    one untimed run of each when the settings warm up: their CPU times."""
    count = context.settings.repetitions if repetitions is None else repetitions
    if context.settings.warmup:
        run_ours()
        run_reference()
    ours, reference = Sample("s"), Sample("s")
    for repetition in range(count):
        context.note(f"{what}: {repetition + 1}/{count}")
        ours.add_time(run_ours())
        reference.add_time(run_reference())
    return ours, reference


def bench_check(context: Context) -> Row:
    """`--check` on a fresh tree (a new copy every run) vs black --check, its cache warm."""
    black_tree = context.fbgemm_tree()
    black_env = context.black_env(context.new_dir("black-cache-warm"))
    black = context.black_argv()
    expect_success("black --check (warming its cache)", run_command(black, black_tree, black_env))
    ours = [sys.executable, "-m", "generator", "--check", FBGEMM_SPEC]

    def run_ours() -> Run:
        tree = context.fbgemm_tree()
        return expect_success("python -m generator --check", run_command(ours, tree, context.generator_env()))

    def run_black() -> Run:
        return expect_success("black --check", run_command(black, black_tree, black_env))

    ours_seconds, black_seconds = alternate(context, "--check vs black --check (cache warm)", run_ours, run_black)
    return Row("`--check`, fresh tree, vs `black --check`, cache warm", ours_seconds, black_seconds, TARGET_CHECK)


def bench_regenerate(context: Context) -> Row:
    """A full regeneration (output missing) vs black --check with an empty cache every run."""
    expected = (REPO / FBGEMM_OUTPUT).read_bytes()
    black_tree = context.fbgemm_tree()
    black = context.black_argv()
    ours = [sys.executable, "-m", "generator", *context.generator_flags, FBGEMM_SPEC]

    def run_ours() -> Run:
        tree = context.fbgemm_tree(with_output=False)
        run = expect_success("python -m generator", run_command(ours, tree, context.generator_env()))
        if (tree / FBGEMM_OUTPUT).read_bytes() != expected:
            raise BenchmarkError(f"regenerating {FBGEMM_OUTPUT} did not reproduce the committed file")
        return run

    def run_black() -> Run:
        env = context.black_env(context.new_dir("black-cache-empty"))
        return expect_success("black --check (no cache)", run_command(black, black_tree, env))

    ours_seconds, black_seconds = alternate(context, "regeneration vs black --check (no cache)", run_ours, run_black)
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
        run = expect_success(f"python -m generator ({count} pattern configs)",
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

    ours_seconds, torch_seconds = alternate(
        context, "fresh interpreter, generated vs torch",
        lambda: expect_success("import generated module", run_command(ours, tree, env)),
        lambda: expect_success("import torch's module", run_command(theirs, tree, env)),
        repetitions,
    )
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


def bench_resolve(context: Context) -> Row:
    """The resolve hook as pre-commit runs it (the console script, ``--resolve`` on
    the FBGEMM spec) vs a fresh ``python -c "import torch"``, which it cannot cost
    less than: CPU time of the process and the child it waited for (os.wait4)."""
    tree = context.fbgemm_tree()
    script = Path(sys.executable).with_name("backendconfig-gen")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "generator"]
    ours = [*command, "--resolve", FBGEMM_SPEC]
    env = {**context.generator_env(), "PYTHONWARNINGS": "ignore"}
    theirs = [sys.executable, "-c", "import torch"]

    ours_seconds, torch_seconds = alternate(
        context, "resolve hook vs import torch",
        lambda: expect_success("backendconfig-gen --resolve", run_command(ours, tree, env)),
        lambda: expect_success("python -c 'import torch'", run_command(theirs, tree, env)),
    )
    return Row("resolve hook: `backendconfig-gen --resolve spec/fbgemm.toml` vs `python -c \"import torch\"`",
               ours_seconds, torch_seconds, None, MARGIN_RESOLVE)


# -- the report ----------------------------------------------------------------
