"""The command line: python -m generator SPEC [SPEC ...] [-o OUT] [--check] [--diff] [--stdout] [--verify]."""

from __future__ import annotations

import argparse
import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import SpecError
from .loader import display_base, display_path, load_backend
from .model import Backend
from .output import format_source, header_digest, header_generator_version, write_if_changed
from .render import TOOL_NAME, inputs_digest, pattern_text, regenerate_command, render

EXIT_OK = 0
EXIT_DIFFERENT = 1
EXIT_BAD_INPUT = 2

DESCRIPTION = """\
Generate a plain Python module holding a torch.ao.quantization BackendConfig
from a TOML spec. Without a mode flag, each spec's module is (re)written to the
output the spec names (backend.output), only when its content changed.
"""

EPILOG = """\
exit status:
  0  success; with --check, every output is fresh
  1  --check: an output is stale or hand-edited; --verify: the config differs from torch's
  2  bad spec or bad usage (nothing is written), or an output cannot be written

examples:
  python -m generator spec/fbgemm.toml              regenerate generated/fbgemm.py
  python -m generator --check spec/*.toml           fail (exit 1) if any output is out of date
  python -m generator --check --diff spec/*.toml    ... and show what would change
  python -m generator --verify spec/fbgemm.toml     compare with the installed torch's config
  python -m generator diff OLD NEW                  compare two configs (python -m generator diff --help)
"""


@dataclass
class _Job:
    """One spec, loaded and rendered, and where its module goes."""

    spec: Path
    backend: Backend
    output: Path
    output_display: str
    regenerate: str  # the command that regenerates this output
    source: str


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m generator",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("specs", metavar="SPEC", nargs="+", type=Path, help="backend spec (TOML)")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="write the module here instead of the spec's backend.output (one SPEC only)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if any output differs from what its spec generates, "
        "saying whether it is stale (its inputs changed) or hand-edited",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="write nothing; print a unified diff of what regenerating would change "
        "(exit 0 unless combined with --check)",
    )
    parser.add_argument(
        "--stdout", action="store_true", help="write nothing; print the generated module to standard output"
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="write nothing; import the generated module with the installed torch and compare "
        "its config, pattern by pattern and field by field, with torch's own (exit 1 on any difference)",
    )
    parser.add_argument("--version", action="version", version=f"{TOOL_NAME} {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["diff"]:
        from .compare.cli import main as diff_main

        return diff_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.output is not None and len(args.specs) > 1:
        parser.error("-o/--output takes one SPEC only")
    if args.stdout and (args.check or args.diff or args.verify):
        parser.error("--stdout cannot be combined with --check, --diff or --verify")

    jobs = []
    failed = False
    for spec in args.specs:
        try:
            jobs.append(_prepare(spec, args.output))
        except SpecError as error:
            failed = True
            for problem in error.problems:
                print(f"error: {problem}", file=sys.stderr)
    if failed:
        # One bad spec writes nothing at all: the outputs stay as they were.
        return EXIT_BAD_INPUT
    for job in jobs:
        for shadowed in job.backend.shadowed:
            winner, replaced = shadowed.winner, shadowed.replaced
            print(
                f"warning: {winner.origin.file}: {winner.origin.key}: pattern {pattern_text(winner)} "
                f"is registered again and replaces {replaced.origin.key} "
                "(BackendConfig keeps one config per pattern)",
                file=sys.stderr,
            )

    if args.stdout:
        for job in jobs:
            sys.stdout.write(job.source)
        return EXIT_OK
    if args.check or args.diff or args.verify:
        status = EXIT_OK
        if args.check or args.diff:
            status = _check(jobs, show_diff=args.diff, fail=args.check)
        if args.verify:
            status = max(status, _verify(jobs))
        return status
    status = EXIT_OK
    for job in jobs:
        try:
            wrote = write_if_changed(job.output, job.source)
        except OSError as error:
            print(f"error: {job.output_display}: cannot write: {error.strerror or error}", file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        print(f"{'wrote' if wrote else 'unchanged'}: {job.output_display}", file=sys.stderr)
    return status


def _prepare(spec: Path, output: Path | None) -> _Job:
    backend = load_backend(spec)
    base = display_base(spec)
    default_output = Path(backend.default_output)
    target = output if output is not None else default_output
    output_display = display_path(target, base)
    custom = output is not None and target.resolve() != default_output.resolve()
    command = regenerate_command(backend.files[0].display_path, output_display if custom else None)
    source = format_source(render(backend, command))
    return _Job(spec, backend, target, output_display, command, source)


def _check(jobs: list[_Job], show_diff: bool, fail: bool) -> int:
    stale = 0
    for job in jobs:
        try:
            current = job.output.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        except (OSError, UnicodeDecodeError) as error:
            current = f"<unreadable: {error}>"
        if current == job.source:
            continue
        stale += 1
        if show_diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    (current or "").splitlines(keepends=True),
                    job.source.splitlines(keepends=True),
                    fromfile=f"a/{job.output_display}",
                    tofile=f"b/{job.output_display}",
                )
            )
        if fail:
            print(f"{job.output_display}: {_why_stale(job, current)}; regenerate with: {job.regenerate}", file=sys.stderr)
    if fail:
        fresh = len(jobs) - stale
        print(f"{stale} stale, {fresh} fresh", file=sys.stderr)
        return EXIT_DIFFERENT if stale else EXIT_OK
    return EXIT_OK


def _why_stale(job: _Job, current: str | None) -> str:
    if current is None:
        return "missing"
    if header_digest(current) != inputs_digest(job.backend):
        return "stale (its spec inputs changed since it was generated)"
    if header_generator_version(current) != __version__:
        return f"stale (generated by {TOOL_NAME} {header_generator_version(current)}, this is {__version__})"
    return "hand-edited (its body no longer matches what its spec generates)"


def _verify(jobs: list[_Job]) -> int:
    try:
        from .verify import verify_source
    except ImportError as error:
        print(f"error: --verify needs torch installed ({error})", file=sys.stderr)
        return EXIT_BAD_INPUT
    status = EXIT_OK
    for job in jobs:
        status = max(status, verify_source(job.backend, job.source))
    return status


def entry_point() -> None:
    """The installed console script."""
    sys.exit(main())
