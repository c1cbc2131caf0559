"""``--verify``: compare a spec's generated config with the installed torch's own.

OLD is the spec, as its generated module builds it; NEW is ``backend.torch_getter``
of the installed torch. The comparison and the report are the ``diff`` command's
(generator/compare/). Both configs are built and described in a child process
(tasks.verify); this process imports neither torch nor the code it runs.
"""

from __future__ import annotations

import sys

from . import isolation
from .child_limits import Limits
from .compare.codec import CodecError, decode_config
from .compare.differ import compare
from .compare.spec_module import SpecModule
from .compare.text_report import text_report
from .jobs import Job
from .text import printable

EXIT_SAME = 0
EXIT_DIFFERENT = 1
EXIT_BAD_INPUT = 2


def verify_jobs(jobs: list[Job], limits: Limits) -> int:
    """Compare each job's generated module with torch's config, printing a report
    each. The modules and torch's getters run in a child process
    (generator/isolation.py). Returns the exit status: 0 same, 1 different, 2 a
    torch getter cannot be called or the child ended without an answer."""
    items = []
    for job in jobs:
        assert job.backend is not None
        getter = job.backend.torch_getter
        module = SpecModule.of(job.backend).to_json()
        items.append({"spec": _spec(job), "module": module, "source": job.source, "torch_getter": getter and getter.path})
    run = isolation.run_each("verify", items, limits)
    status = EXIT_SAME
    for job, (answer, failure) in zip(jobs, run.results):
        if failure is not None:
            print(printable(f"error: {failure.line(_spec(job))}"), file=sys.stderr)
            status = max(status, EXIT_BAD_INPUT)
            continue
        try:
            status = max(status, _report(job, answer))
        except (isolation.BadAnswer, CodecError, ValueError) as error:
            print(printable(f"error: {_spec(job)}: the child process did not answer with a comparison ({error})"), file=sys.stderr)
            status = max(status, EXIT_BAD_INPUT)
    if run.stopped is not None:
        print(printable(f"error: {run.stopped.line('--verify')}"), file=sys.stderr)
        status = max(status, EXIT_BAD_INPUT)
    return status


def _spec(job: Job) -> str:
    assert job.backend is not None
    return job.backend.files[0].display_path


def _report(job: Job, answer: object) -> int:
    """Print what the child found for one spec; its exit status."""
    backend = job.backend
    assert backend is not None
    if not isinstance(answer, dict):
        raise isolation.BadAnswer("expected an object")
    spec = _spec(job)
    release = isolation.answer_field(answer, "torch", str)
    if "build_errors" in answer:
        for line in isolation.answer_lines(answer, "build_errors"):
            print(printable(f"error: {line}"))
        return EXIT_DIFFERENT
    patterns = isolation.answer_field(answer, "patterns", int)
    if backend.torch_getter is None:
        print(f"{spec}: builds {patterns} pattern configs; no torch_getter to compare with")
        missing = isolation.answer_lines(answer, "missing")
        for line in missing:
            print(printable(f"error: {line} (torch {release})"))
        return EXIT_DIFFERENT if missing else EXIT_SAME
    getter = backend.torch_getter.path
    if "getter_errors" in answer:
        for line in isolation.answer_lines(answer, "getter_errors"):
            print(printable(f"error: {spec}: backend.torch_getter: {line}"))
        return EXIT_BAD_INPUT
    ours, theirs = (decode_config(data) for data in isolation.answer_field(answer, "descriptions", list))
    comparison = compare(ours, theirs)
    notes = _version_notes(backend.torch_version, release, comparison.equal)
    if comparison.equal:
        print(
            f"{spec} (torch_version {backend.torch_version}): same as {getter}() of the installed torch "
            f"{release}: {patterns} pattern configs, every field equal"
        )
        for note in notes:
            print(f"note: {note}")
        return EXIT_SAME
    print(text_report(comparison, notes), end="")
    return EXIT_DIFFERENT


def _version_notes(spec_version: str, release: str, equal: bool) -> list[str]:
    """What to do when the installed torch (``release``) is not the release the spec targets."""
    if release == spec_version:
        return []
    mismatch = f"the spec targets torch {spec_version}, the installed torch is {release}"
    if equal:
        return [f'{mismatch}; the config is unchanged: set backend.torch_version = "{release}" (README, "Another torch")']
    return [
        f"{mismatch}. If these differences are torch's, change the spec to match, set "
        f'backend.torch_version = "{release}", regenerate, and update the test pin (README, "Another torch")'
    ]
