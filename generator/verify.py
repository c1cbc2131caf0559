"""``--verify``: compare a spec's generated config with the installed torch's own (needs torch).

OLD is the spec, as its generated module builds it; NEW is ``backend.torch_getter``
of the installed torch. The comparison and the report are the ``diff`` command's
(generator/compare/).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Importing these imports torch: generator/cli.py reports its absence.
from .compare.differ import compare
from .compare.sides import (
    SideBuildError,
    SideError,
    describe_sides,
    installed_torch,
    load_function_side,
    load_generated,
)
from .compare.text_report import text_report, wrapped
from .model import Backend
from .packaged import builtin_root
from .text import count

EXIT_SAME = 0
EXIT_DIFFERENT = 1
EXIT_BAD_INPUT = 2


@dataclass
class Tally:
    """The verdicts of a run over several specs, told once at its end."""

    equal: int = 0
    different: int = 0
    errors: int = 0
    not_compared: int = 0  # no torch_getter
    outdated: list[str] = field(default_factory=list)  # equal specs that target another torch

    def line(self) -> str:
        parts = [f"{self.equal} equal", f"{self.different} {'differs' if self.different == 1 else 'differ'}", count(self.errors, "error")]
        if self.not_compared:
            parts.append(f"{self.not_compared} without a torch_getter")
        return f"verified {count(sum((self.equal, self.different, self.errors, self.not_compared)), 'spec')}: {', '.join(parts)}"

    def report(self) -> list[str]:
        """The run's last lines: one note for every equal spec that targets another
        torch, then the tally."""
        lines = []
        if self.outdated:
            release = installed_torch()
            verb = "targets" if len(self.outdated) == 1 else "target"
            lines += wrapped(f'note: {count(len(self.outdated), "equal spec")} ({", ".join(self.outdated)}) {verb} another '
                             f'torch than the installed {release}: set backend.torch_version = "{release}" in them')
        return [*lines, self.line()]


def verify_source(backend: Backend, source: str, tally: Tally | None = None) -> int:
    """Run the generated ``source``, compare its config with torch's, print the report.
    Returns the exit status: 0 same, 1 different, 2 torch's getter cannot be called.
    With a ``tally`` (a run over several specs) the verdict is counted, and the advice
    for an equal spec that targets another torch is left to the tally's notes."""
    several = tally is not None
    tally = tally if tally is not None else Tally()
    spec = backend.files[0].display_path
    try:
        ours = load_generated(backend, source, spec, "spec")
    except SideBuildError as error:
        for line in error.lines:
            print(f"error: {line}")
        tally.errors += 1
        return EXIT_DIFFERENT
    if backend.torch_getter is None:
        print(f"{spec}: builds {len(ours.config.configs)} pattern configs; no torch_getter to compare with")
        for missing in ours.missing:
            print(f"error: {missing} (torch {installed_torch()})")
        tally.not_compared += 1
        return EXIT_DIFFERENT if ours.missing else EXIT_SAME
    getter = backend.torch_getter.path
    module, _, function = getter.rpartition(".")
    try:
        theirs = load_function_side(module, function, f"{getter}()", "torch's own config", installed_torch())
    except SideError as error:
        for line in error.lines:
            print(f"error: {spec}: backend.torch_getter: {line}")
        tally.errors += 1
        return EXIT_BAD_INPUT
    comparison = compare(*describe_sides(ours, theirs))
    notes = _version_notes(backend, comparison.equal)
    if comparison.equal:
        tally.equal += 1
        same = (
            f"{spec} (torch_version {backend.torch_version}): same as {getter}() of the installed torch "
            f"{installed_torch()}: {len(ours.config.configs)} pattern configs, every field equal"
        )
        print(*wrapped(same), sep="\n")
        if notes and several:
            tally.outdated.append(spec)
        for note in notes if not several else ():
            print(*wrapped(f"note: {note}"), sep="\n")
        return EXIT_SAME
    tally.different += 1
    print(text_report(comparison, notes), end="")
    return EXIT_DIFFERENT


def _ours(backend: Backend) -> bool:
    """Whether the spec is one of this project's own (shipped with the generator),
    whose torch release the test suite pins too."""
    path = Path(backend.files[0].identity) if backend.files[0].identity else None
    return path is not None and path.resolve().is_relative_to(builtin_root().resolve())


def _version_notes(backend: Backend, equal: bool) -> list[str]:
    """What to do when the installed torch is not the release the spec targets: one
    line, which says to update the test pin only for this project's own specs."""
    release, spec_version = installed_torch(), backend.torch_version
    if release == spec_version:
        return []
    mismatch = f"the spec targets torch {spec_version}, the installed torch is {release}"
    if equal:
        return [f'unchanged in torch {release}: set backend.torch_version = "{release}" (the spec targets {spec_version})']
    steps = f'change the spec to match, set backend.torch_version = "{release}" and regenerate'
    if _ours(backend):
        steps = f'change the spec to match, set backend.torch_version = "{release}", regenerate, and update the test pin (README, "Another torch")'
    return [f"{mismatch}. If these differences are torch's, {steps}"]
