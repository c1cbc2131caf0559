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
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from .adversarial import bench_adversarial
from .context import DEFAULT, SMOKE, BenchmarkError, Context
from .report import environment_line, render_markdown, render_text
from .rows import (
    bench_check,
    bench_fresh_import,
    bench_in_process,
    bench_regenerate,
    bench_resolve,
    bench_scaling,
    generator_flags,
)

EXIT_OK = 0
EXIT_MISSED = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure the generator against its references (issue 8) and judge the targets.",
        epilog="exit status: 0 every target met; 1 a target missed or a command failed; 2 bad usage",
    )
    parser.add_argument("-r", "--repetitions", type=int, default=None,
                        help=f"runs of each command (default {DEFAULT.repetitions}; "
                        "the larger synthetic specs may run fewer, see docs/performance.md)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, one repetition, no warm-up, targets not judged: "
                        "checks that every row can be measured")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for docs/performance.md)")
    parser.add_argument("--adversarial", action="store_true",
                        help="only the rows of hostile inputs (issue 17): linear time on long runs of letters, "
                        "many keys, many includes")
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
            context.generator_flags = generator_flags(context)
            if context.generator_flags:
                context.note(f"full regenerations run with {' '.join(context.generator_flags)}")
            if args.adversarial:
                rows = bench_adversarial(context)
            else:
                rows = [bench_check(context), bench_regenerate(context), *bench_scaling(context),
                        bench_fresh_import(context), bench_in_process(context), bench_resolve(context),
                        *bench_adversarial(context)]
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
    failed = [row for row in rows if row.judged and row.verdict() != "met"]
    for row in failed:
        what = "missed" if row.verdict() == "missed" else "not shown met (its run was stopped at the time limit)"
        print(f"{what}: {row.label.replace('`', '')}: {row.figure_text()}, target {row.target_text()}",
              file=sys.stderr)
    return EXIT_MISSED if failed else EXIT_OK
