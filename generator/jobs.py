"""One job per spec on the command line: where its module goes, the command that
regenerates it, and whether the existing module is fresh.

A job first tries the fast path (find the inputs, read the existing module's
header); it loads, renders and formats the spec only when it has to.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Problem, SpecError
from .freshness import fast_verdict
from .header import TOOL_NAME, inputs_digest
from .inputs import find_inputs
from .output import OutputError, read_output
from .sources import Document, SpecFile, display_base, display_path, locate
from .text import command as shell_command
from .text import printable

if TYPE_CHECKING:
    from .model import Backend

# The fast path (a module known fresh from its header) imports neither the loader
# nor the model: they are imported where a spec is loaded.


class UsageError(Exception):
    """The command line asks for something that must not be done; nothing is written."""


def regenerate_command(spec_display: str, output_display: str | None) -> str:
    """The command that writes exactly this output. It names the console script:
    ``python -m generator`` would run a repository's own generator.py or generator/."""
    words = [TOOL_NAME, _not_an_option(spec_display)]
    return shell_command(*words) if output_display is None else shell_command(*words, "-o", _not_an_option(output_display))


def _not_an_option(path: str) -> str:
    """A relative path that starts with "-" would be read as an option."""
    return f"./{path}" if path.startswith("-") else path


class Job:
    """One spec to generate or check (see Note [No dataclasses on the fast path]
    in errors.py)."""

    def __init__(
        self,
        spec: str,
        output: Path,
        output_display: str,
        command: str,
        current: bytes | None,
        files: tuple[SpecFile, ...],
        inputs: str,
        fresh: bool,
        documents: dict[str, Document | bytes] | None = None,
        patch_path: str = "",
    ) -> None:
        self.spec = spec  # as the user gave it
        self.output = output
        # How messages name the output: as given with -o, else relative to the project root.
        self.output_display = output_display
        self.command = command  # regenerates this output, from the project root
        self.current = current  # the existing output's bytes
        self.files = files
        self.inputs = inputs  # the inputs digest
        self.fresh = fresh  # known fresh from the header alone
        self.backend: Backend | None = None
        self.source: str | None = None
        self.documents = documents  # the spec's files, as the fast path read them
        self.patch_path = patch_path  # the output relative to the project root: --diff's a/ and b/ paths

    def load(self) -> None:
        """Load, render and format the spec (if not done yet)."""
        if self.source is not None:
            return
        from .formatting import build_module  # black: only when a module is rendered

        if self.backend is None:
            from .loader import load_backend

            self.backend = load_backend(self.spec, self.documents)
        self.files = self.backend.files
        self.inputs = inputs_digest(self.files, self.command)
        self.source = build_module(self.backend, self.command)


def plan(spec: str, output: Path | None, fast: bool) -> Job:
    """The job for ``spec``: fresh from its header when ``fast`` allows, else loaded."""
    location = locate(spec)
    if isinstance(location, str):
        raise SpecError([Problem(spec, "", location)])
    if location.builtin is not None and output is None:
        raise UsageError(f"{spec} is a builtin spec: say where its module goes with -o OUT")
    found = find_inputs(spec, output) if fast else None
    backend = None
    if found is None:
        from .loader import load_backend

        backend = load_backend(spec)
        default_output = Path(backend.default_output)
        files = backend.files
    else:
        default_output = found.default_output or Path()
        files = found.files
    target = output if output is not None else default_output
    base = display_base(location.path if location.builtin is None else target)
    output_display = display_path(target, base)
    # Messages name the output as the user gave it: a symlink by its own name.
    if output is not None:
        name = printable(os.fspath(output))
    else:
        as_written = Path(os.path.realpath(target.parent)) / target.name
        name = Path(os.path.relpath(as_written, base)).as_posix()
    if output is None and not _inside(target, base):
        try:  # the value as the spec writes it
            written = default_output.relative_to(location.directory).as_posix()
        except ValueError:  # an absolute path
            written = default_output.as_posix()
        raise UsageError(f"{files[0].display_path}: backend.output {written!r} is outside the project root ({base}); use -o to write there")
    custom = output is not None and os.path.realpath(target) != os.path.realpath(default_output)
    command = regenerate_command(files[0].display_path, output_display if custom or location.builtin else None)
    try:
        current = read_output(target)
    except OutputError as error:
        raise OutputError(f"{name}: {error}") from None
    digest = inputs_digest(files, command)
    job = Job(spec, target, name, command, current, files, digest, fresh=fast and fast_verdict(current, digest),
              documents=None if found is None else found.documents, patch_path=output_display)
    if backend is not None:
        job.backend = backend
    return job


def check_outputs(jobs: list[Job]) -> None:
    """No output may be an input of the run, and no two jobs may share an output."""
    inputs: dict[object, str] = {}
    for job in jobs:
        for spec_file in job.files:
            for identity in _identities(spec_file.identity):
                inputs.setdefault(identity, spec_file.display_path)
    outputs: dict[object, Job] = {}
    for job in jobs:
        identities = _identities(job.output)
        for identity in identities:
            if identity in inputs:
                raise UsageError(f"{job.output_display}: the output of {job.spec} is an input of this run ({inputs[identity]}); refusing to overwrite it")
            if identity in outputs:
                raise UsageError(f"{job.output_display}: both {outputs[identity].spec} and {job.spec} write this output; give each spec its own")
        for identity in identities:
            outputs[identity] = job


def _identities(path: Path | str) -> list[object]:
    """Every name of the file at ``path``: its real path and, when it exists, its
    device and inode (a hard link to an input is that input)."""
    found: list[object] = [os.path.realpath(path)]
    try:
        info = os.stat(path)
    except OSError:
        return found
    return [*found, (info.st_dev, info.st_ino)]


def _inside(path: Path, root: Path) -> bool:
    real = Path(os.path.realpath(path))
    return real == root or root in real.parents


def generate_source(spec: str | Path, output: Path | None = None) -> str:
    """The module ``spec`` generates (for ``output``, by default the spec's own),
    exactly as ``python -m generator`` writes it."""
    job = plan(str(spec), output, fast=False)
    job.load()
    assert job.source is not None
    return job.source
