"""``backendconfig-gen diff OLD NEW [--format text|json|markdown]``."""

from __future__ import annotations

import argparse
import sys

from .. import isolation
from ..child_limits import add_limit_options, limits_of
from ..invocation import HelpFormatter, examples, invoked_as
from ..text import printable
from .codec import CodecError, decode_config
from .differ import compare
from .json_report import json_report
from .mapping_cli import mapping_report, mapping_side, with_mappings
from .mapping_compare import PairingError, pair_sides
from .markdown_report import markdown_report
from .side_names import problems_before_running
from .text_report import text_report

EXIT_EQUAL = 0
EXIT_DIFFERENT = 1
EXIT_BAD_INPUT = 2

DESCRIPTION = """\
Compare two BackendConfigs pattern by pattern, field by field, in spec terms
(public dotted paths, patterns in forward order, ObservationType member names).
Direction is OLD -> NEW. Fusers and node getters are compared by what they do.
The QConfigMappings of the sides are compared entry by entry, keyword by keyword:
a spec's or module's getters by name, or two functions returning a QConfigMapping.
"""

EPILOG = """\
each side is one of:
  spec/fbgemm.toml                  a spec, built as its generated module would be
  builtin:NAME                      a spec shipped with the generator, e.g. builtin:x86.toml
  REV:spec/fbgemm.toml              a spec at a git revision, e.g. HEAD~1:spec/fbgemm.toml
                                    (the path from the repository root, or ./ from here)
  generated/fbgemm.py               a generated module (its getter: the one function in its __all__
                                    that returns a BackendConfig, not a QConfigMapping)
  MODULE:FUNCTION                   a function returning a BackendConfig, e.g.
                                    torch.ao.quantization.backend_config:get_native_backend_config
                                    or a QConfigMapping (compared with the other side's
                                    mapping of the same name, or its only one)

exit status:
  0  the configs are equal
  1  they differ (or a side names a symbol the installed torch lacks)
  2  bad input: unknown module, bad spec, missing file, neither a BackendConfig nor a
     QConfigMapping, a mapping whose regex does not compile or whose observers do not
     build, a mapping side that pairs with none of the other side's, bad usage,
     a revision whose tree holds entries git would not check out (.., .git, ...);
     code of a side that exits, raises a BaseException, is killed, runs out of time
     (--timeout) or memory (--memory-limit): it runs in a child process, and its own
     output is shown on stderr, marked "user output" (docs/isolation.md)
"""


def _examples(prog: str) -> str:
    return examples(prog, [
        ("spec/fbgemm.toml torch.ao.quantization.backend_config:get_native_backend_config", ""),
        ("HEAD:spec/fbgemm.toml spec/fbgemm.toml --format markdown", "review a spec change"),
        ("torch.ao.quantization:get_default_qconfig_mapping mypackage.quantization:my_mapping", "two QConfigMappings"),
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
    add_limit_options(parser)
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    # What is wrong without torch or the user's code is said before the child starts
    # (importing torch takes seconds): a mistyped path, a spec that does not load.
    problems = [line for side in (args.old, args.new) for line in problems_before_running(side)]
    if problems:
        return _bad_input(problems)
    # The sides are loaded and described in a child process (generator/isolation.py):
    # they run the user's code. This process compares the descriptions it gets back.
    run = isolation.run_child({"kind": "diff", "sides": [args.old, args.new]}, limits_of(args))
    if run.failure is not None:
        return _bad_input([run.failure.line("diff")])
    try:
        answer = isolation.only_answer(run)
        if "errors" in answer:
            return _bad_input(isolation.answer_lines(answer, "errors"))
        descriptions = answer.get("descriptions")
        configs = None if descriptions is None else [decode_config(data) for data in isolation.answer_field(answer, "descriptions", list)]
        old_side, new_side = (mapping_side(data) for data in isolation.answer_field(answer, "sides", list))
        torch_release = isolation.answer_field(answer, "torch", str)
    except (isolation.BadAnswer, CodecError, ValueError, TypeError) as error:
        return _bad_input([f"diff: the child process did not answer with two descriptions ({error})"])
    try:
        mappings = pair_sides(old_side, new_side)
    except PairingError as error:
        return _bad_input([str(error)])
    notes = [f"built with the installed torch {torch_release}"]
    if configs is None:
        sys.stdout.write(mapping_report(args.format, old_side, new_side, mappings, notes))
        return EXIT_EQUAL if mappings.equal else EXIT_DIFFERENT
    old, new = configs
    comparison = compare(old, new)
    report = {"text": text_report, "json": json_report, "markdown": markdown_report}[args.format]
    sys.stdout.write(with_mappings(args.format, report(comparison, notes), mappings))
    return EXIT_EQUAL if comparison.equal and mappings.equal else EXIT_DIFFERENT


def _bad_input(lines: list[str]) -> int:
    for line in lines:
        print(printable(f"error: {line}"), file=sys.stderr)
    return EXIT_BAD_INPUT
