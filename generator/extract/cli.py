"""``backendconfig-gen extract MODULE:FUNCTION [-o SPEC] [--getter NAME] [--output-module PATH] [--force]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..invocation import HelpFormatter, examples, invoked_as
from ..sources import ROOT_MARKERS, project_root
from ..text import count

EXIT_WRITTEN = 0
EXIT_BAD_INPUT = 2

DESCRIPTION = """\
Write a spec that regenerates the BackendConfig a function returns. Runs of its
patterns that a shared op group (builtin:op_groups/*.toml) expands to become uses
of that group; every other pattern is written out in an op group of the spec's
own. Dtype configs are declared once each, named as the function's module names
them. Without -o the spec is printed.
"""

EPILOG = """\
backend.output (where `backendconfig-gen SPEC` writes the module), relative to
the spec: ../generated/NAME.py when the spec is in a directory named spec/ below
the project root (the nearest directory holding .git, .hg or pyproject.toml; this
project's layout), else NAME.py beside the spec; --output-module chooses another.

exit status:
  0    the spec was written (warnings allowed: each names a function of your
       own that the spec references by its import path)
  2    bad input: unknown module or function, not a BackendConfig, something
       the spec format cannot express (a lambda or closure as fuser), an
       existing file that is not an extracted spec (without --force), bad usage
  123  internal error of the generator (please report it)
"""


def _examples(prog: str) -> str:
    """Extract, generate, and confirm that the module builds the same config."""
    getter = "torch.ao.quantization.backend_config:get_fbgemm_backend_config"
    return examples(prog, [
        (f"extract {getter} -o spec/my_fbgemm.toml", ""),
        ("spec/my_fbgemm.toml", ""),
        (f"diff spec/my_fbgemm.toml {getter}", ""),
    ])


def _parser() -> argparse.ArgumentParser:
    program = invoked_as()
    parser = argparse.ArgumentParser(
        prog=f"{program} extract",
        description=DESCRIPTION,
        epilog=EPILOG + "\n" + _examples(program),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("target", metavar="MODULE:FUNCTION", help="a function returning a BackendConfig")
    parser.add_argument("-o", "--output", type=Path, metavar="SPEC", help="write the spec here (default: print it)")
    parser.add_argument("--getter", help="the name of the function the generated module defines (default: FUNCTION)")
    parser.add_argument("--output-module", type=Path, metavar="PATH", help="backend.output: where the spec's module goes (relative to here)")
    parser.add_argument("--force", action="store_true", help="replace an existing file that is not an extracted spec")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        from ..output import OutputError, read_output, write_output
        from ..sources import display_base, display_path
        from ..text import printable
        from .document import is_extracted
        from .dtypes import identifier_prefix
        from .extractor import Extractor
        from .live import ExtractError, load_target
    except ImportError as error:
        print(f"error: extract needs torch installed ({error})", file=sys.stderr)
        return EXIT_BAD_INPUT

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
        stem = spec.stem
    else:
        spec_display = "SPEC"
        stem = None
    try:
        target = load_target(args.target)
        name = stem or identifier_prefix(str(target.config.name))
        extraction = Extractor(target, spec_display, _module_path(spec, name, args.output_module), args.getter).run()
    except ExtractError as problem:
        return error(str(problem))
    for warning in extraction.warnings:
        print(printable(f"warning: {warning}"), file=sys.stderr)
    if spec is not None and project_root(spec) is None:
        print(
            printable(
                f"note: no project root ({', '.join(ROOT_MARKERS)}) above {shown}: the spec's paths and "
                "commands are relative to its own directory"
            ),
            file=sys.stderr,
        )
    own = len(extraction.uses) - extraction.shared_groups
    patterns = sum(count for _, count in extraction.uses)
    print(
        f"extracted {args.target}: {count(patterns, 'pattern')}: "
        f"{count(extraction.shared_groups, 'use')} of shared op groups, "
        f"{count(extraction.explicit_patterns, 'explicit pattern')} in {count(own, 'op group')} of the spec's own, "
        f"{count(len(extraction.dtype_configs), 'dtype config')}",
        file=sys.stderr,
    )
    if spec is None:
        sys.stdout.write(extraction.text)
        return EXIT_WRITTEN
    try:
        wrote = write_output(spec, extraction.text, force=True)
    except (OutputError, OSError) as problem:
        return error(f"{shown}: cannot write: {getattr(problem, 'strerror', None) or problem}")
    print(f"{'wrote' if wrote else 'unchanged'}: {printable(shown)}", file=sys.stderr)
    return EXIT_WRITTEN


def _module_path(spec: Path | None, name: str, chosen: Path | None) -> str:
    """backend.output, relative to the spec's directory (see EPILOG)."""
    directory = Path(os.path.abspath(spec)).parent if spec is not None else Path.cwd()
    if chosen is not None:
        return Path(os.path.relpath(os.path.abspath(chosen), directory)).as_posix()
    root = project_root(directory / "spec.toml")
    if directory.name == "spec" and root is not None and root != directory:
        return f"../generated/{name}.py"
    return f"{name}.py"
