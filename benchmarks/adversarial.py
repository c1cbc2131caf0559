"""Rows for hostile inputs (issue 17): each shape of spec at two sizes, ten times
apart, read by ``python -m generator --check``. A cost linear in the size can at
most multiply by ten (less, as start-up is the same for both); a quadratic one
multiplies by a hundred. Before issue 17, a comment of 30,000 letters took 4.4 s
and one of 60,000 took 17 s.

Each module is generated once, untimed, so that ``--check`` takes its fast path
(read, scan and parse every input, digest them, compare with the header), which
is what pre-commit runs on every commit; the many-keys shape is checked with
``--no-cache``, so that every key is validated every time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from .context import Context, Row, expect_success
from .measure import Run, Sample, run_command

# At most linear: ten times the size, at most ten times the time.
TARGET_LINEAR = 10.0
# A runaway (the larger size) is stopped once it has used this many times its
# target (in CPU time, against the smaller size's median).
STOP = 2.0

HEAD = """\
[backend]
name = "hostile"
getter = "get_hostile_backend_config"
output = "../generated/hostile.py"
torch_version = "2.13.0"

[dtype_configs.hostile_quint8_dtype_config]
input_dtype = "quint8"
output_dtype = "quint8"

[[backend.op_groups]]
name = "hostile"
dtype_configs = ["hostile_quint8_dtype_config"]

[op_groups.hostile]
sections = [{ patterns = [{ pattern = "torch.nn.ReLU" }] }]
"""
# A base64 blob has no dot: one run of key characters as long as the comment.
BLOB = "QmFja2VuZENvbmZpZ0dlbmVyYXRvcjEyMzQ1Njc4OQ"


def long_run(spec: Path, size: int) -> None:
    """``size`` letters and digits without a dot, in two runs: the name of an op
    group the backend does not use (where the scan must read a key), and a comment."""
    run = (BLOB * (size // len(BLOB) + 1))[: size // 2]
    group = f'[op_groups.g{run}]\nsections = [{{ patterns = [{{ pattern = "torch.nn.Tanh" }}] }}]\n'
    spec.write_text(HEAD + group + "# " + run + "\n", encoding="utf-8")


def many_keys(spec: Path, size: int) -> None:
    """Op groups of one pattern each, none of them used (every one is validated),
    ``size`` bytes of them."""
    line = 'g{:07d} = {{ sections = [{{ patterns = [{{ pattern = "torch.nn.M{:07d}" }}] }}] }}\n'
    count = size // len(line.format(0, 0))
    spec.write_text(HEAD + "[op_groups]\n" + "".join(line.format(index, index) for index in range(count)), encoding="utf-8")


def many_includes(spec: Path, count: int) -> None:
    """``count`` included files, each defining an op group the backend does not use."""
    directory = spec.parent / "groups"
    directory.mkdir()
    for index in range(count):
        (directory / f"g{index:05d}.toml").write_text(
            f'[op_groups.g{index:05d}]\nsections = [{{ patterns = [{{ pattern = "torch.nn.M{index:05d}" }}] }}]\n', encoding="utf-8"
        )
    names = ", ".join(f'"groups/g{index:05d}.toml"' for index in range(count))
    spec.write_text(f"include = [{names}]\n" + HEAD, encoding="utf-8")


# (label, spec builder, sizes (small, large) by run mode, --check flags)
SHAPES: list[tuple[str, Callable[[Path, int], None], dict[str, tuple[int, int]], tuple[str, ...]]] = [
    ("runs of letters (a key, a comment), {large:,} vs {small:,} bytes", long_run,
     {"default": (99_000, 990_000), "smoke": (1_000, 10_000)}, ()),
    ("many keys (unused op groups), {large:,} vs {small:,} bytes", many_keys,
     {"default": (99_000, 990_000), "smoke": (1_000, 10_000)}, ("--no-cache",)),
    ("many includes, {large:,} vs {small:,} files", many_includes,
     {"default": (1_000, 10_000), "smoke": (10, 100)}, ()),
]


def bench_adversarial(context: Context) -> list[Row]:
    mode = "default" if context.settings.enforce else "smoke"
    return [_shape(context, label, build, sizes[mode], flags) for label, build, sizes, flags in SHAPES]


def _shape(context: Context, label: str, build: Callable[[Path, int], None], sizes: tuple[int, int],
           flags: tuple[str, ...]) -> Row:
    settings = context.settings
    small_size, large_size = sizes
    shown = label.format(small=small_size, large=large_size)
    trees = {}
    for size in sizes:
        tree = context.new_dir(f"hostile-{size}")
        (tree / ".git").mkdir()
        (tree / "generated").mkdir()
        (tree / "spec").mkdir()
        build(tree / "spec" / "hostile.toml", size)
        trees[size] = tree
    times = {size: Sample("s") for size in sizes}
    generate = [sys.executable, "-m", "generator", *context.generator_flags, "spec/hostile.toml"]
    check = [sys.executable, "-m", "generator", "--check", *flags, "spec/hostile.toml"]

    def run(size: int, argv: list[str], cpu_limit: float | None = None) -> Run:
        found = run_command(argv, trees[size], context.generator_env(), cpu_limit)
        return expect_success(f"python -m generator {' '.join(argv[3:])} ({shown}: {size:,})", found)

    label = f"adversarial content, `--check`: {shown}"
    context.note(f"adversarial: {shown}: generating each module once")
    # Untimed, as every row's first runs (page cache, byte code); each is the base of
    # the runaway limit of the same command at the larger size.
    generated = run(small_size, generate)
    reference = run(small_size, check)
    for argv, base, what in ((generate, generated, "generating"), (check, reference, "`--check`")):
        limit = STOP * TARGET_LINEAR * base.cpu_seconds if settings.enforce else None
        first = run(large_size, argv, limit)
        if first.stopped:  # the runaway this row is here to catch: a lower bound
            times[small_size].add_time(base)
            times[large_size].add_time(first)
            times[large_size].stopped = True
            return Row(f"adversarial content, {what}: {shown}", times[large_size], times[small_size], TARGET_LINEAR)
    # (first and limit are now the larger --check run and its limit.) As the synthetic
    # specs: repeated only while the larger size's runs fit the budget.
    fits = int(settings.size_budget // first.cpu_seconds) if first.cpu_seconds > 0 else settings.repetitions
    repetitions = max(1, min(settings.repetitions, fits))
    for repetition in range(repetitions):
        context.note(f"adversarial: {shown}: {repetition + 1}/{repetitions}")
        times[small_size].add_time(run(small_size, check))
        found = run(large_size, check, limit)
        times[large_size].add_time(found)
        if found.stopped:
            times[large_size].stopped = True
            break
    return Row(label, times[large_size], times[small_size], TARGET_LINEAR)
