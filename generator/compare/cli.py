"""``backendconfig-gen diff OLD NEW [--format text|json|markdown]``."""

from __future__ import annotations

import argparse
import sys

from ..invocation import HelpFormatter, examples, invoked_as

EXIT_EQUAL = 0
EXIT_DIFFERENT = 1
EXIT_BAD_INPUT = 2

DESCRIPTION = """\
Compare two BackendConfigs pattern by pattern, field by field, in spec terms
(public dotted paths, patterns in forward order, ObservationType member names).
Direction is OLD -> NEW. Fusers and node getters are compared by what they do.
"""

EPILOG = """\
each side is one of:
  spec/fbgemm.toml                  a spec, built as its generated module would be
  builtin:NAME                      a spec shipped with the generator, e.g. builtin:x86.toml
  REV:spec/fbgemm.toml              a spec at a git revision, e.g. HEAD~1:spec/fbgemm.toml
                                    (the path from the repository root, or ./ from here)
  generated/fbgemm.py               a generated module (its getter: the one function its __all__ names)
  MODULE:FUNCTION                   a function returning a BackendConfig, e.g.
                                    torch.ao.quantization.backend_config:get_native_backend_config

exit status:
  0  the configs are equal
  1  they differ (or a side names a symbol the installed torch lacks)
  2  bad input: unknown module, bad spec, missing file, not a BackendConfig, bad usage
"""


def _examples(prog: str) -> str:
    return examples(prog, [
        ("spec/fbgemm.toml torch.ao.quantization.backend_config:get_native_backend_config", ""),
        ("HEAD:spec/fbgemm.toml spec/fbgemm.toml --format markdown", "review a spec change"),
    ])


def _parser() -> argparse.ArgumentParser:
    prog = f"{invoked_as()} diff"
    parser = argparse.ArgumentParser(
        prog=prog,
        description=DESCRIPTION,
        epilog=EPILOG + "\n" + _examples(prog),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("old", metavar="OLD", help="the config before the change")
    parser.add_argument("new", metavar="NEW", help="the config after the change")
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text (default) for a terminal, json for tools, markdown for a pull-request comment",
    )
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        from .differ import compare
        from .json_report import json_report
        from .markdown_report import markdown_report
        from .sides import SideError, describe_sides, installed_torch, load_side
        from .text_report import text_report
    except ImportError as error:
        print(f"error: diff needs torch installed ({error})", file=sys.stderr)
        return EXIT_BAD_INPUT

    sides = []
    failed = False
    for argument in (args.old, args.new):
        try:
            sides.append(load_side(argument))
        except SideError as error:
            failed = True
            for line in error.lines:
                print(f"error: {line}", file=sys.stderr)
    if failed:
        return EXIT_BAD_INPUT
    comparison = compare(*describe_sides(*sides))
    report = {"text": text_report, "json": json_report, "markdown": markdown_report}[args.format]
    sys.stdout.write(report(comparison, [f"built with the installed torch {installed_torch()}"]))
    return EXIT_EQUAL if comparison.equal else EXIT_DIFFERENT
