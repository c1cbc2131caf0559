"""The command line: backendconfig-gen [SPEC ...] [-o OUT] [--check] [--diff] [--stdout] [--verify] ...

Also ``python -m generator`` in this repository; ``diff`` and ``extract`` are
subcommands (compare/cli.py, extract/cli.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .child_limits import Limits, add_limit_options, limits_of
from .configuration import CONFIG_FILE, TABLE, ConfigurationError, configured_specs, expand_arguments, find_configuration
from .errors import SpecError, Terminated
from .freshness import FRESH, unified_diff, verdict
from .header import TOOL_NAME
from .invocation import HelpFormatter, examples, invoked_as
from .jobs import Job, UsageError, check_outputs, plan
from .output import OutputError, tidy, write_output
from .program import EXIT_BAD_INPUT, EXIT_INTERNAL_ERROR, SIGNALS, StreamError, handle_signals, internal_error, run
from .sources import BUILTIN_PREFIX
from .text import printable

if TYPE_CHECKING:
    from .model import Origin

EXIT_OK = 0
EXIT_DIFFERENT = 1
EXIT_INTERRUPTED = 128 + signal.SIGINT

USAGE = """\
%(prog)s [options] [SPEC ...]
       %(prog)s diff OLD NEW [--format text|json|markdown]
       %(prog)s extract MODULE:FUNCTION [-o SPEC] [--base SPEC] [--getter NAME] [--output-module PATH] [--force]"""

DESCRIPTION = f"""\
Generate a plain Python module holding a torch.ao.quantization BackendConfig
from a TOML spec. Without a mode flag, each spec's module is (re)written to the
output the spec names (backend.output), only when its content changed.

SPEC is a path to a spec, a directory (its *.toml files that have a [backend]
table), a glob (quoted: 'spec/*.toml'), or builtin:NAME for a spec shipped with
the generator (builtin:fbgemm.toml, builtin:x86.toml, ...; needs -o). Without
SPEC, the specs of the nearest {CONFIG_FILE} (from here up to the repository's
root) with a [tool.{TABLE}] table:

  [tool.{TABLE}]
  specs = ["spec/*.toml"]    # paths, globs or directories, relative to the file

commands:
  [SPEC ...]               generate, or check (--check, --diff, --verify, --resolve)
  diff OLD NEW             compare two BackendConfigs in spec terms (diff --help)
  extract MODULE:FUNCTION  write a spec for an existing BackendConfig (extract --help)
"""

EXIT_STATUS = """\
exit status:
  0    success; with --check, every output is fresh
  1    --check: an output is stale, hand-edited or missing; --verify: the config
       differs from torch's; --exit-non-zero-on-write: an output was written
  2    bad spec, configuration or usage (nothing is written), an output that
       cannot or must not be written, a symbol --resolve cannot find, code
       --verify or --resolve runs that exits, is killed or exceeds --timeout or
       --memory-limit, or standard output or error that cannot be written
  123  internal error of the generator (please report it)
  130  interrupted (SIGINT, Ctrl-C); 143: terminated (SIGTERM); 129: hung up (SIGHUP)
  141  the reader of standard output or error went away (a closed pipe)
"""


def _epilog(prog: str) -> str:
    return EXIT_STATUS + "\n" + examples(prog, [
        ("", "regenerate every configured module"),
        ("spec/fbgemm.toml", "regenerate one spec's module"),
        ("--check", "exit 1 if a configured module is stale"),
        ("--check --diff", "... and show what would change"),
        ("--verify spec/fbgemm.toml", "compare with installed torch's config"),
        ("builtin:x86.toml -o vendor/x86_backend_config.py", "torch's x86 config, into your repository"),
        ("diff OLD NEW", "compare two configs"),
        ("extract MODULE:FUNCTION -o SPEC", "write a spec for an existing BackendConfig"),
    ])


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        usage=USAGE,
        description=DESCRIPTION,
        epilog=_epilog(prog),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("specs", metavar="SPEC", nargs="*",
                        help=f"backend spec: a path, a directory, a glob or builtin:NAME (default: the {CONFIG_FILE}'s specs)")
    parser.add_argument("-o", "--output", type=Path, metavar="OUT", help="write the module here instead of the spec's backend.output (one SPEC only)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if any output differs from what its spec generates, "
        "saying whether it is missing, stale (its inputs changed) or hand-edited",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="write nothing; print a patch (git apply accepts it) of what regenerating would change "
        "(exit 0 unless combined with --check)",
    )
    parser.add_argument("--stdout", action="store_true", help="write nothing; print the generated module to standard output")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="write nothing; import the generated module with the installed torch and compare "
        "its config, pattern by pattern and field by field, with torch's own (exit 1 on any difference)",
    )
    parser.add_argument(
        "--resolve",
        action="store_true",
        help="write nothing; import every symbol the spec names with the installed torch and "
        "report each one that does not exist, with its spec file and key (exit 2)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="do not trust the digests in existing outputs' headers: always render, format and compare bytes",
    )
    parser.add_argument(
        "--exit-non-zero-on-write",
        action="store_true",
        help="exit 1 when an output was written (for the pre-commit hook: the commit stops "
        "so that the regenerated module can be reviewed and added)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing output even when it was not generated by this tool",
    )
    add_limit_options(parser)
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print no 'unchanged:' or 'wrote:' line and no --check summary; errors, warnings and "
        "stale outputs are still reported",
    )
    parser.add_argument("-V", "--version", action="version", version=f"{TOOL_NAME} {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; its exit status. A program runs it through
    program.run(), which also answers for signals at start-up and for the standard
    streams (see Note [Signals and standard streams])."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    previous = handle_signals({signal.SIGINT: signal.default_int_handler, **{signum: _terminate for signum in SIGNALS[1:]}})
    try:
        return _main(arguments)
    except KeyboardInterrupt:
        return _interrupted()
    except StreamError:
        raise  # standard output cannot be written: program.run() reports it
    except MemoryError:  # every input is bounded: the process may use less memory than they need
        _error("out of memory")
        return EXIT_BAD_INPUT
    except Exception as error:
        signalled = _signal_status(error)
        if signalled is not None:  # a signal, turned into another error on its way (e.g. by __set_name__)
            return _interrupted() if signalled == EXIT_INTERRUPTED else signalled
        # A bug: one line, a distinct status, never a silent success.
        print(printable(internal_error(error)), file=sys.stderr)
        return EXIT_INTERNAL_ERROR
    finally:
        handle_signals(previous)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM and SIGHUP (a closed terminal) raise SystemExit, so that temporary
    files are removed on the way out."""
    raise Terminated(128 + signum)


def _interrupted() -> int:
    print("error: interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def _signal_status(error: BaseException) -> int | None:
    """The exit status of a signal that ``error`` was raised from, if any."""
    seen = set()
    found: BaseException | None = error
    while found is not None and id(found) not in seen:
        seen.add(id(found))
        if isinstance(found, KeyboardInterrupt):
            return EXIT_INTERRUPTED
        if isinstance(found, Terminated) and isinstance(found.code, int):
            return found.code
        found = found.__cause__ or found.__context__
    return None


def _main(argv: list[str]) -> int:
    if argv[:1] == ["diff"]:
        from .compare.cli import main as diff_main

        return diff_main(argv[1:])
    if argv[:1] == ["extract"]:
        from .extract.cli import main as extract_main

        return extract_main(argv[1:])
    parser = _parser(invoked_as())
    args = parser.parse_args(argv)
    if args.stdout and (args.check or args.diff or args.verify or args.resolve):
        parser.error("--stdout cannot be combined with --check, --diff, --verify or --resolve")
    try:
        named = _specs(args.specs)
    except ConfigurationError as error:
        for problem in error.problems:
            _error(str(problem))
        return EXIT_BAD_INPUT
    if named is None:
        parser.error(f"no SPEC given, and no {CONFIG_FILE} from here up to the repository's root has a "
                     f"[tool.{TABLE}] table; name the specs, or list them there: specs = [\"spec/*.toml\"]")
    if args.output is not None and len(named) > 1:
        parser.error("-o/--output takes one SPEC only")
    writes = not (args.check or args.diff or args.stdout or args.verify or args.resolve)
    fast = not (args.no_cache or args.stdout or args.verify or args.resolve)
    # --resolve alone needs each spec loaded, not its module rendered and formatted:
    # black would cost the resolve hook more than the rest of its work but torch.
    renders = writes or args.stdout or args.check or args.diff or args.verify

    jobs: list[Job] = []
    failed = False
    # The same spec named twice (spec/a.toml ./spec/a.toml) is one job, as in black.
    specs: dict[str, str] = {}
    for spec in named:
        specs.setdefault(spec if spec.startswith(BUILTIN_PREFIX) else os.path.realpath(spec), spec)
    for spec in specs.values():
        try:
            job = plan(spec, args.output, fast)
            if not job.fresh and renders:
                job.load()
            jobs.append(job)
        except SpecError as error:
            failed = True
            for problem in error.problems:
                _error(str(problem))
        except (UsageError, OutputError) as error:
            failed = True
            _error(str(error))
    if failed:
        # One bad spec writes nothing at all: the outputs stay as they were.
        return EXIT_BAD_INPUT
    try:
        check_outputs(jobs)
    except UsageError as error:
        _error(str(error))
        return EXIT_BAD_INPUT
    _warn_shadowed(jobs)

    if args.stdout:
        for job in jobs:
            sys.stdout.flush()
            sys.stdout.buffer.write((job.source or "").encode("utf-8"))
        return EXIT_OK
    if writes:
        status, wrote = _write(jobs, args.force, args.quiet)
        return EXIT_DIFFERENT if status == EXIT_OK and wrote and args.exit_non_zero_on_write else status
    status = EXIT_OK
    if args.check or args.diff:
        status = _check(jobs, show_diff=args.diff, fail=args.check, quiet=args.quiet)
    if args.resolve:
        status = max(status, _resolve(jobs, limits_of(args)))
    if args.verify:
        status = max(status, _verify(jobs, limits_of(args)))
    return status


def _specs(arguments: list[str]) -> list[str] | None:
    """The specs of the run: the arguments expanded, else the configured ones;
    None when there are neither."""
    if arguments:
        return expand_arguments(arguments)
    configuration = find_configuration(Path.cwd())
    return None if configuration is None else configured_specs(configuration)


def _error(message: str) -> None:
    print(printable(f"error: {message}"), file=sys.stderr)


def _warn_shadowed(jobs: list[Job]) -> None:
    """Warn about a later registration that replaces an earlier one, unless the
    spec marks it as intended (replaces_earlier = true)."""
    for job in jobs:
        if job.backend is None:
            continue
        for shadowed in job.backend.shadowed:
            if shadowed.intended:
                continue
            winner, replaced = shadowed.winner, shadowed.replaced
            print(
                printable(
                    f"warning: {winner.origin.file}: {winner.origin.key}: pattern {winner.pattern_text} "
                    f"(from {winner.origin.use}) is registered again and replaces the one "
                    f"from {replaced.origin.use} ({_where(replaced.origin, winner.origin.file)}); "
                    "BackendConfig keeps one config per pattern: mark it replaces_earlier = true if intended"
                ),
                file=sys.stderr,
            )


def _where(origin: Origin, file: str) -> str:
    """An origin's key, with its file when that is another file."""
    return origin.key if origin.file == file else f"{origin.file}: {origin.key}"


def _write(jobs: list[Job], force: bool, quiet: bool) -> tuple[int, bool]:
    """Write every stale output; (status, whether anything was written)."""
    status = EXIT_OK
    written = False
    for job in jobs:
        if job.fresh:
            tidy(job.output)
            if not quiet:
                print(f"unchanged: {printable(job.output_display)}", file=sys.stderr)
            continue
        try:
            wrote = write_output(job.output, job.source or "", force=force)
        except OutputError as error:
            _error(f"{job.output_display}: {error}")
            status = EXIT_BAD_INPUT
            continue
        except OSError as error:
            _error(f"{job.output_display}: cannot write: {error.strerror or error}")
            status = EXIT_BAD_INPUT
            continue
        written = written or wrote
        if not quiet:
            print(f"{'wrote' if wrote else 'unchanged'}: {printable(job.output_display)}", file=sys.stderr)
    return status, written


def _check(jobs: list[Job], show_diff: bool, fail: bool, quiet: bool) -> int:
    stale = 0
    for job in jobs:
        if job.fresh:
            continue
        assert job.source is not None
        why = verdict(job.current, job.source, job.inputs, job.files)
        if why == FRESH:
            continue
        stale += 1
        if show_diff:
            sys.stdout.flush()
            sys.stdout.buffer.write(unified_diff(job.current, job.source, job.patch_path))
            sys.stdout.buffer.flush()
        if fail:
            print(printable(f"{job.output_display}: {why}; regenerate with: {job.command}"), file=sys.stderr)
    if not fail:
        return EXIT_OK
    if not quiet:
        print(f"{stale} stale, {len(jobs) - stale} fresh", file=sys.stderr)
    return EXIT_DIFFERENT if stale else EXIT_OK


def _resolve(jobs: list[Job], limits: Limits) -> int:
    from .resolve import missing_symbols

    backends = [job.backend for job in jobs if job.backend is not None]
    missing = missing_symbols(backends, limits)
    for line in missing:
        _error(line)
    return EXIT_BAD_INPUT if missing else EXIT_OK


def _verify(jobs: list[Job], limits: Limits) -> int:
    from .verify import verify_jobs

    return verify_jobs(jobs, limits)


def entry_point() -> None:
    """What console scripts installed by 0.3.0 and before call (see program.run)."""
    run()
