"""``backendconfig-gen extract MODULE:FUNCTION [-o SPEC] [--base SPEC] [--getter NAME] [--output-module PATH] [--force]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import isolation
from ..child_limits import add_limit_options, limits_of
from ..invocation import HelpFormatter, examples, invoked_as
from ..output import OutputError, read_output, write_output
from ..sources import ROOT_MARKERS, display_base, display_path, project_root
from ..text import printable
from .document import is_extracted

EXIT_WRITTEN = 0
EXIT_BAD_INPUT = 2

DESCRIPTION = """\
Write the shortest spec that regenerates the BackendConfig a function returns:
one that extends a base spec (--base; by default the nearest builtin spec) and
says what differs, or, without a close base, one whose runs of patterns that a
shared op group (builtin:op_groups/*.toml) expands to, whole or in part, become
uses of that group, every other pattern written out in an op group of the spec's
own. Dtype configs are declared once each, named as the function's module names
them. Without -o the spec is printed.

A function returning a QConfigMapping gets a spec of that mapping (and a backend
config without patterns): the shared catalog's qconfigs, constructors and object
type groups (builtin:qconfigs/common.toml) named where they match, every other
qconfig defined in the spec, the function as the mapping's torch_getter (so that
--verify compares the two). --base and --getter do not apply to it.
"""

EPILOG = """\
backend.output (where `backendconfig-gen SPEC` writes the module), relative to
the spec: ../generated/NAME.py when the spec is in a directory named spec/ below
the project root (the nearest directory holding .git, .hg or pyproject.toml; this
project's layout), else NAME.py beside the spec; --output-module chooses another.

exit status:
  0    the spec was written (warnings allowed: each names a function of your
       own that the spec references by its import path)
  2    bad input: unknown module or function, neither a BackendConfig nor a
       QConfigMapping, a mapping whose regex does not compile or whose observer
       does not build (an unknown keyword), something
       the spec format cannot express (a lambda or closure as fuser), an
       existing file that is not an extracted spec (without --force), bad usage;
       a function that exits, is killed or exceeds --timeout or --memory-limit
       (it runs in a child process; docs/isolation.md)
  123  internal error of the generator (please report it)
"""


def _examples(prog: str) -> str:
    """Extract, generate, and confirm that the module builds the same config."""
    getter = "torch.ao.quantization.backend_config:get_fbgemm_backend_config"
    return examples(prog, [
        (f"extract {getter} -o spec/my_fbgemm.toml", ""),
        ("spec/my_fbgemm.toml", ""),
        (f"diff spec/my_fbgemm.toml {getter}", ""),
        ("extract mypackage.quantization:get_backend_config --base builtin:x86.toml -o spec/mine.toml", "x86 plus what differs"),
        ("extract mypackage.quantization:get_qconfig_mapping -o spec/my_mapping.toml", "a spec from a QConfigMapping"),
    ])


def _parser() -> argparse.ArgumentParser:
    program = invoked_as()
    parser = argparse.ArgumentParser(
        prog=f"{program} extract",
        description=DESCRIPTION,
        epilog=EPILOG + "\n" + _examples(program),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("target", metavar="MODULE:FUNCTION", help="a function returning a BackendConfig or a QConfigMapping")
    parser.add_argument("-o", "--output", type=Path, metavar="SPEC", help="write the spec here (default: print it)")
    parser.add_argument(
        "--base",
        default="nearest",
        metavar="SPEC",
        help="the spec to extend (a path or builtin:NAME); 'nearest' (default): the builtin spec with the fewest "
        "edits, if that is shorter; 'none': no extends",
    )
    parser.add_argument("--getter", help="the name of the function the generated module defines (default: FUNCTION)")
    parser.add_argument("--output-module", type=Path, metavar="PATH", help="backend.output: where the spec's module goes (relative to here)")
    parser.add_argument("--force", action="store_true", help="replace an existing file that is not an extracted spec")
    add_limit_options(parser)
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)

    def error(message: str) -> int:
        print(printable(f"error: {message}"), file=sys.stderr)
        return EXIT_BAD_INPUT

    spec: Path | None = args.output
    if spec is not None:
        shown = display_path(spec, Path.cwd()) if not spec.is_absolute() else spec.as_posix()
        try:
            current = read_output(spec)
        except OutputError as problem:
            return error(f"{shown}: {problem}")
        if current is not None and not is_extracted(current) and not args.force:
            return error(f"{shown}: exists and is not a spec written by extract; pass --force to replace it")
        spec_display = display_path(spec, display_base(spec))
    else:
        spec_display = "SPEC"
    # The whole extraction runs in a child process (generator/isolation.py): it
    # imports and calls the user's function. This process writes what it answers,
    # where this process was told to, whatever directory the function changed to.
    output, directory = _module_output(spec, args.output_module)
    task = {
        "kind": "extract",
        "target": args.target,
        "spec_display": spec_display,
        "stem": spec.stem if spec is not None else None,
        "output": output,
        "output_directory": directory,
        "getter": args.getter,
        # Absolute: the user's function may change the child's working directory.
        "base": _absolute_base(args.base),
        "spec_directory": os.path.abspath(spec.parent) if spec is not None else os.getcwd(),
    }
    run = isolation.run_child(task, limits_of(args))
    if run.failure is not None:
        return error(run.failure.line(args.target))
    try:
        answer = isolation.only_answer(run)
        if "error" in answer:
            return error(isolation.answer_field(answer, "error", str))
        text = isolation.answer_field(answer, "text", str)
        warnings = isolation.answer_lines(answer, "warnings")
        summary = isolation.answer_field(answer, "summary", str)
    except isolation.BadAnswer as problem:
        return error(f"{args.target}: the child process did not answer with a spec ({problem})")
    for warning in warnings:
        print(printable(f"warning: {warning}"), file=sys.stderr)
    if spec is not None and project_root(spec) is None:
        print(
            printable(
                f"note: no project root ({', '.join(ROOT_MARKERS)}) above {shown}: the spec's paths and "
                "commands are relative to its own directory"
            ),
            file=sys.stderr,
        )
    print(printable(f"extracted {args.target}: {summary}"), file=sys.stderr)
    if spec is None:
        sys.stdout.write(text)
        return EXIT_WRITTEN
    try:
        wrote = write_output(spec, text, force=True)
    except (OutputError, OSError) as problem:
        return error(f"{shown}: cannot write: {getattr(problem, 'strerror', None) or problem}")
    print(f"{'wrote' if wrote else 'unchanged'}: {printable(shown)}", file=sys.stderr)
    return EXIT_WRITTEN


def _module_output(spec: Path | None, chosen: Path | None) -> tuple[str | None, str]:
    """backend.output, relative to the spec's directory (see EPILOG): (the path, None)
    with --output-module; else (None, the directory NAME.py goes to), NAME being the
    spec's name, or the config's when the spec is printed."""
    directory = Path(os.path.abspath(spec)).parent if spec is not None else Path.cwd()
    if chosen is not None:
        return Path(os.path.relpath(os.path.abspath(chosen), directory)).as_posix(), ""
    root = project_root(directory / "spec.toml")
    if directory.name == "spec" and root is not None and root != directory:
        return None, "../generated/"
    return None, ""


def _absolute_base(base: str) -> str:
    """--base as the child reads it: the words and builtin:NAME as given, a path made
    absolute here."""
    if base in ("nearest", "none") or base.startswith("builtin:"):
        return base
    return os.path.abspath(base)
