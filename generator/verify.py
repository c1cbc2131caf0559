"""``--verify``: compare a spec's generated config with the installed torch's own.

OLD is the spec, as its generated module builds it; NEW is ``backend.torch_getter``
of the installed torch. Each QConfigMapping the spec defines is compared with its
own ``torch_getter`` too (verify_mappings.py). The comparison and the report are the ``diff`` command's
(generator/compare/). Both configs are built and described in a child process
(tasks.verify); this process imports neither torch nor the code it runs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import isolation
from .child_limits import Limits
from .compare.codec import CodecError, decode_config
from .compare.differ import compare
from .compare.spec_module import SpecModule
from .compare.text_report import text_report, wrapped
from .jobs import Job
from .model import Backend
from .packaged import builtin_root
from .text import count, printable
from .verify_mappings import (
    EXIT_BAD_INPUT,
    EXIT_DIFFERENT,
    EXIT_SAME,
    Verdicts,
    mapping_items,
    print_wrapped,
    report_mappings,
)


@dataclass
class Tally(Verdicts):
    """The verdicts of a run over several specs, told once at its end."""

    outdated: list[str] = field(default_factory=list)  # equal specs that target another torch
    release: str = ""  # the installed torch's, as the child found it
    mappings: Verdicts = field(default_factory=Verdicts)

    def line(self) -> str:
        return self.summary("spec")

    def report(self) -> list[str]:
        """The run's last lines: one note for every equal spec that targets another
        torch, then the tally."""
        lines = []
        if self.outdated:
            verb = "targets" if len(self.outdated) == 1 else "target"
            lines += wrapped(
                f"note: {count(len(self.outdated), 'equal spec')} ({', '.join(self.outdated)}) {verb} another "
                f'torch than the installed {self.release}: set backend.torch_version = "{self.release}" in them'
            )
        if self.mappings.total():
            lines.append(self.mappings.summary("qconfig mapping"))
        return [*lines, self.line()]


def verify_jobs(jobs: list[Job], limits: Limits) -> int:
    """Compare each job's generated module with torch's config, printing a report
    each; several specs are separated by a blank line and end with a tally. The
    modules and torch's getters run in a child process (generator/isolation.py).
    Returns the exit status: 0 same, 1 different, 2 a torch getter cannot be called
    or the child ended without an answer."""
    items = []
    for job in jobs:
        assert job.backend is not None
        getter = job.backend.torch_getter
        module = SpecModule.of(job.backend).to_json()
        item = {"spec": _spec(job), "module": module, "source": job.source, "torch_getter": getter and getter.path}
        items.append({**item, "mappings": mapping_items(job.backend)})
    run = isolation.run_each("verify", items, limits)
    several = len(jobs) > 1
    tally = Tally()
    status = EXIT_SAME
    for number, (job, (answer, failure)) in enumerate(zip(jobs, run.results)):
        if number:
            print()
        if failure is not None:
            print(printable(f"error: {failure.line(_spec(job))}"), file=sys.stderr)
            tally.errors += 1
            status = max(status, EXIT_BAD_INPUT)
            continue
        try:
            status = max(status, _report(job, answer, tally, several))
        except (isolation.BadAnswer, CodecError, ValueError) as error:
            print(printable(f"error: {_spec(job)}: the child process did not answer with a comparison ({error})"), file=sys.stderr)
            tally.errors += 1
            status = max(status, EXIT_BAD_INPUT)
    if run.stopped is not None:
        print(printable(f"error: {run.stopped.line('--verify')}"), file=sys.stderr)
        tally.errors += len(jobs) - len(run.results)
        status = max(status, EXIT_BAD_INPUT)
    if several:
        print()
        for line in tally.report():
            print(printable(line))
    return status


def _spec(job: Job) -> str:
    assert job.backend is not None
    return job.backend.files[0].display_path


def _report(job: Job, answer: object, tally: Tally, several: bool) -> int:
    """Print what the child found for one spec and count it in ``tally``; its exit
    status. In a run of ``several`` specs the advice for an equal spec that targets
    another torch is left to the tally."""
    backend = job.backend
    assert backend is not None
    if not isinstance(answer, dict):
        raise isolation.BadAnswer("expected an object")
    spec = _spec(job)
    release = isolation.answer_field(answer, "torch", str)
    tally.release = release
    if "build_errors" in answer:
        for line in isolation.answer_lines(answer, "build_errors"):
            print(printable(f"error: {line}"), file=sys.stderr)
        tally.errors += 1
        return EXIT_DIFFERENT
    if "mapping_errors" in answer:
        for line in isolation.answer_lines(answer, "mapping_errors"):
            print(printable(f"error: {line}"), file=sys.stderr)
        tally.errors += 1
        return EXIT_BAD_INPUT
    status = _report_config(job, answer, tally, several)
    if status == EXIT_DIFFERENT and backend.qconfig_mappings:
        print()  # the mappings' verdicts apart from the report of differences above
    return max(status, report_mappings(backend, spec, answer, tally.mappings))


def _report_config(job: Job, answer: dict, tally: Tally, several: bool) -> int:
    """The backend config's part of _report."""
    backend = job.backend
    assert backend is not None
    spec = _spec(job)
    release = tally.release
    patterns = isolation.answer_field(answer, "patterns", int)
    if backend.torch_getter is None:
        print(f"{spec}: builds {patterns} pattern configs; no torch_getter to compare with")
        missing = isolation.answer_lines(answer, "missing")
        for line in missing:
            print(printable(f"error: {line} (torch {release})"), file=sys.stderr)
        tally.not_compared += 1
        return EXIT_DIFFERENT if missing else EXIT_SAME
    getter = backend.torch_getter.path
    if "getter_errors" in answer:
        for line in isolation.answer_lines(answer, "getter_errors"):
            print(printable(f"error: {spec}: backend.torch_getter: {line}"), file=sys.stderr)
        tally.errors += 1
        return EXIT_BAD_INPUT
    ours, theirs = (decode_config(data) for data in isolation.answer_field(answer, "descriptions", list))
    comparison = compare(ours, theirs)
    notes = _version_notes(backend, release, comparison.equal)
    if comparison.equal:
        tally.equal += 1
        same = (
            f"{spec} (torch_version {backend.torch_version}): same as {getter}() of the installed torch "
            f"{release}: {patterns} pattern configs, every field equal"
        )
        print_wrapped(same)
        if notes and several:
            tally.outdated.append(spec)
        for note in notes if not several else ():
            print_wrapped(f"note: {note}")
        return EXIT_SAME
    tally.different += 1
    print(text_report(comparison, notes), end="")
    return EXIT_DIFFERENT


def _ours(backend: Backend) -> bool:
    """Whether the spec is one of this project's own (shipped with the generator),
    whose torch release the test suite pins too."""
    path = Path(backend.files[0].identity) if backend.files[0].identity else None
    return path is not None and path.resolve().is_relative_to(builtin_root().resolve())


def _version_notes(backend: Backend, release: str, equal: bool) -> list[str]:
    """What to do when the installed torch (``release``) is not the release the spec
    targets: one line, which says to update the test pin only for this project's
    own specs."""
    spec_version = backend.torch_version
    if release == spec_version:
        return []
    mismatch = f"the spec targets torch {spec_version}, the installed torch is {release}"
    if equal:
        return [f'unchanged in torch {release}: set backend.torch_version = "{release}" (the spec targets {spec_version})']
    steps = f'change the spec to match, set backend.torch_version = "{release}" and regenerate'
    if _ours(backend):
        steps = f'change the spec to match, set backend.torch_version = "{release}", regenerate, and update the test pin (README, "Another torch")'
    return [f"{mismatch}. If these differences are torch's, {steps}"]
