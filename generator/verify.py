"""``--verify``: compare a spec's generated config with the installed torch's own (needs torch).

OLD is the spec, as its generated module builds it; NEW is ``backend.torch_getter``
of the installed torch. The comparison and the report are the ``diff`` command's
(generator/compare/).
"""

from __future__ import annotations

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
from .compare.text_report import text_report
from .model import Backend

EXIT_SAME = 0
EXIT_DIFFERENT = 1
EXIT_BAD_INPUT = 2


def verify_source(backend: Backend, source: str) -> int:
    """Run the generated ``source``, compare its config with torch's, print the report.
    Returns the exit status: 0 same, 1 different, 2 torch's getter cannot be called."""
    spec = backend.files[0].display_path
    try:
        ours = load_generated(backend, source, spec, "spec")
    except SideBuildError as error:
        for line in error.lines:
            print(f"error: {line}")
        return EXIT_DIFFERENT
    if backend.torch_getter is None:
        print(f"{spec}: builds {len(ours.config.configs)} pattern configs; no torch_getter to compare with")
        for missing in ours.missing:
            print(f"error: {missing} (torch {installed_torch()})")
        return EXIT_DIFFERENT if ours.missing else EXIT_SAME
    getter = backend.torch_getter.path
    module, _, function = getter.rpartition(".")
    try:
        theirs = load_function_side(module, function, f"{getter}()", "torch's own config", installed_torch())
    except SideError as error:
        for line in error.lines:
            print(f"error: {spec}: backend.torch_getter: {line}")
        return EXIT_BAD_INPUT
    comparison = compare(*describe_sides(ours, theirs))
    notes = _version_notes(backend.torch_version, comparison.equal)
    if comparison.equal:
        print(
            f"{spec} (torch_version {backend.torch_version}): same as {getter}() of the installed torch "
            f"{installed_torch()}: {len(ours.config.configs)} pattern configs, every field equal"
        )
        for note in notes:
            print(f"note: {note}")
        return EXIT_SAME
    print(text_report(comparison, notes), end="")
    return EXIT_DIFFERENT


def _version_notes(spec_version: str, equal: bool) -> list[str]:
    """What to do when the installed torch is not the release the spec targets."""
    release = installed_torch()
    if release == spec_version:
        return []
    mismatch = f"the spec targets torch {spec_version}, the installed torch is {release}"
    if equal:
        return [f'{mismatch}; the config is unchanged: set backend.torch_version = "{release}" (README, "Another torch")']
    return [
        f"{mismatch}. If these differences are torch's, change the spec to match, set "
        f'backend.torch_version = "{release}", regenerate, and update the test pin (README, "Another torch")'
    ]
