"""The work the child process does, one function per command (see Note [User code
runs in a child process] in isolation.py).

Each task takes the task's JSON data and yields its answers, JSON data too. Here
torch and the user's code are imported and run; the parent imports none of this.
A task of several items (``--verify`` and ``--resolve`` over several specs or
symbols) yields ``Begin(n)`` before item ``n``, so that the parent knows which item
was running when the child ended.

Every item starts from the working directory the child started in: code that one
side runs may change it, and the next side is named relative to it.
"""

from __future__ import annotations

import os
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from .user_code import doing


@dataclass(frozen=True)
class Begin:
    index: int


class TaskError(Exception):
    """The task cannot be done at all (torch is not installed); the message says why."""


def diff(task: dict) -> Iterator[Any]:
    """``{"sides": [OLD, NEW]}`` -> ``{"errors": [line, ...]}`` when a side cannot be
    loaded, else ``{"descriptions": [old, new] or None, "sides": [...], "torch": release}``:
    descriptions of the BackendConfigs when both sides hold one, and of each side
    (mapping_sides.side_answer) its QConfigMappings."""
    start = os.getcwd()
    sides = []
    errors: list[str] = []
    for argument in task["sides"]:
        os.chdir(start)
        # Importing torch is part of loading the first side: a time limit that
        # strikes then names it.
        with doing("loading it", subject=argument):
            try:
                from .compare.sides import SideError, load_side
            except ImportError as error:
                yield {"errors": [f"diff needs torch installed ({error})"]}
                return
            try:
                sides.append(load_side(argument))
            except SideError as error:
                errors.extend(error.lines)
    if errors:
        yield {"errors": errors}
        return
    from .compare.codec import encode
    from .compare.mapping_sides import side_answer
    from .compare.public_names import PublicNames
    from .compare.sides import describe_sides, installed_torch

    configs = all(side.config is not None for side in sides)
    names = PublicNames.preferring(*(side.named for side in sides))  # one naming for configs and mappings
    yield {
        "descriptions": [encode(side) for side in describe_sides(*sides, names=names)] if configs else None,
        "sides": [side_answer(side, names) for side in sides],
        "torch": installed_torch(),
    }


def verify(task: dict) -> Iterator[Any]:
    """``{"items": [{"spec": name, "module": SpecModule, "source": module, "torch_getter": path or None,
    "mappings": [{"name", "getter", "torch_getter", "torch_arguments"}, ...]}, ...]}``
    -> for each, one of ``{"build_errors": [...]}`` (the generated module fails),
    ``{"mapping_errors": [...]}`` (a mapping of it cannot be used), ``{"patterns": n,
    "missing": [...]}`` (no torch_getter), ``{"getter_errors": [...]}`` or
    ``{"patterns": n, "descriptions": [spec, torch's]}``; each with ``"torch"``, and
    once the module runs with ``"mappings"`` (verify_mappings)."""
    try:
        from .compare.codec import encode
        from .compare.mapping_sides import verify_mappings
        from .compare.sides import (
            SideBuildError,
            SideError,
            describe_sides,
            installed_torch,
            load_function_side,
            load_spec_module,
        )
        from .compare.spec_module import SpecModule
    except ImportError as error:
        raise TaskError(f"--verify needs torch installed ({error})") from None
    start = os.getcwd()
    for index, job in enumerate(task["items"]):
        yield Begin(index)
        os.chdir(start)
        answer: dict[str, Any] = {"torch": installed_torch()}
        with doing("running its generated module", subject=job["spec"]):
            try:
                ours = load_spec_module(SpecModule.from_json(job["module"]), job["source"], job["spec"], "spec")
            except SideBuildError as error:
                yield {**answer, "build_errors": error.lines}
                continue
            except SideError as error:
                yield {**answer, "mapping_errors": error.lines}
                continue
        assert ours.config is not None
        answer["patterns"] = len(ours.config.configs)
        os.chdir(start)
        answer["mappings"] = list(verify_mappings(ours, job["mappings"]))
        if job["torch_getter"] is None:
            yield {**answer, "missing": [str(missing) for missing in ours.missing]}
            continue
        module, _, function = job["torch_getter"].rpartition(".")
        label = f"{job['torch_getter']}()"
        os.chdir(start)
        with doing("loading it", subject=label):
            try:
                theirs = load_function_side(module, function, label, "torch's own config", installed_torch())
            except SideError as error:
                yield {**answer, "getter_errors": error.lines}
                continue
        if theirs.config is None:
            yield {**answer, "getter_errors": [f"{label} returned a QConfigMapping, not a BackendConfig"]}
            continue
        yield {**answer, "descriptions": [encode(side) for side in describe_sides(ours, theirs)]}


def resolve(task: dict) -> Iterator[Any]:
    """``{"items": [symbol path, ...]}`` -> for each, resolve.resolution(path)."""
    from .resolve import resolution

    start = os.getcwd()
    for index, path in enumerate(task["items"]):
        yield Begin(index)
        os.chdir(start)
        yield resolution(path)


def extract(task: dict) -> Iterator[Any]:
    """``{"target": MODULE:FUNCTION, "spec_display", "stem", "output",
    "output_directory", "getter", "base", "spec_directory"}`` -> ``{"error": line}``,
    or the spec: ``{"text", "warnings", "summary"}`` (summary: one line, what the
    spec says). A function returning a QConfigMapping gets a spec of that mapping
    (extract/mapping_extract.py; ``base`` and ``getter`` do not apply). ``base`` is --base, a path made absolute.
    ``output`` is backend.output, or None for ``output_directory`` + NAME.py, NAME
    being ``stem`` or else named after the config."""
    label = task["target"]
    with doing("loading it", subject=label):
        try:
            from .extract.dtypes import identifier_prefix
            from .extract.extractor import Extractor
            from .extract.live import ExtractError, call_target, target_of
            from .extract.mapping_extract import extract_mapping
            from torch.ao.quantization import QConfigMapping
        except ImportError as error:
            yield {"error": f"extract needs torch installed ({error})"}
            return
    try:
        with doing("loading it", subject=label):
            called = call_target(label)
        if isinstance(called.value, QConfigMapping):
            with doing("extracting its spec", subject=label):
                yield extract_mapping(called, task)
            return
        with doing("loading it", subject=label):
            target = target_of(called)
        with doing("extracting its spec", subject=label):
            name = task["stem"] or identifier_prefix(str(target.config.name))
            output = task["output"] or f"{task['output_directory']}{name}.py"
            extractor = Extractor(target, task["spec_display"], output, task["getter"], task["base"], Path(task["spec_directory"]))
            extraction = extractor.run()
    except ExtractError as problem:
        yield {"error": str(problem)}
        return
    yield {
        "text": extraction.text,
        "warnings": list(extraction.warnings),
        "summary": extraction.summary,
    }


TASKS: dict[str, Callable[[dict], Iterator[Any]]] = {"diff": diff, "verify": verify, "resolve": resolve, "extract": extract}
