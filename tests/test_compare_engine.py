"""The comparison engine's parts: public names, and a core that needs no torch."""

from __future__ import annotations

import dataclasses
import importlib
import os
import subprocess
import sys
import textwrap

import torch

from conftest import REPO, SPEC
from generator.compare.description import Ref
from generator.compare.public_names import PublicNames
from generator.compare.sides import describe_sides, load_function_side, load_side
from generator.model import Symbol


def test_private_aliases_and_module_paths_get_their_public_names():
    """Objects as torch stores them get a path the spec format accepts (no private
    part, not under torch.nn.modules) that imports the very same object."""
    names = PublicNames()
    for stored in (
        torch._C._nn.gelu,
        torch._C._nn.avg_pool2d,
        torch.nn.modules.conv.Conv2d,
        torch.nn.modules.batchnorm.BatchNorm1d,
        torch.ao.quantization.utils.MatchAllNode,
    ):
        path = names.public_name(stored)
        assert path is not None and not any(part.startswith("_") for part in path.split(".")), path
        assert not path.startswith("torch.nn.modules."), path
        module, _, attribute = path.rpartition(".")
        assert getattr(importlib.import_module(module), attribute) is stored, path
    assert names.public_name(object()) is None


def test_objects_without_a_public_path_are_named_by_where_they_come_from():
    """Dispatcher operators by the path code reaches them by; a closure by the function
    that made it and what it captured (a getter's position tells two apart)."""
    import runpy

    names = PublicNames()
    assert names.name_of(torch.ops.aten.relu.default) == "torch.ops.aten.relu.default"
    assert names.name_of(torch.ops.aten.add.Tensor) == "torch.ops.aten.add.Tensor"
    assert names.name_of(torch.ops.aten.relu) == "torch.ops.aten.relu"
    onednn = runpy.run_path(str(REPO / "generated" / "onednn.py"), run_name="onednn")
    assert names.name_of(onednn["_node_at"](1, 1)) == "onednn._node_at((1, 1))"
    assert names.name_of(onednn["_nodes_at"]((2,))) == "onednn._nodes_at(((2,),))"


def _spec_symbols() -> set[str]:
    from generator.loader import load_backend

    found: set[str] = set()

    def visit(value):
        if isinstance(value, Symbol):
            found.add(value.path)
        elif isinstance(value, tuple):
            for item in value:
                visit(item)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field in dataclasses.fields(value):
                visit(getattr(value, field.name))

    for config in load_backend(SPEC).pattern_configs:
        visit(config)
    return found


def _refs(value, found: set[str]) -> set[str]:
    if isinstance(value, Ref):
        found.add(value.path)
    elif isinstance(value, tuple):
        for item in value:
            _refs(item, found)
    return found


def test_torchs_objects_are_named_as_the_spec_names_them(monkeypatch):
    """torch.avg_pool1d and torch.nn.functional.conv1d are each one object under two
    public paths; the spec picks different modules for them, and so does the report."""
    monkeypatch.chdir(REPO)
    spec_side = load_side("spec/fbgemm.toml")
    torch_side = load_function_side(
        "torch.ao.quantization.backend_config", "get_fbgemm_backend_config", "torch", "function"
    )
    _, theirs = describe_sides(spec_side, torch_side)
    named = set()
    for pattern in theirs.patterns:
        for _, value in pattern.fields:
            _refs(value, named)
    spec_symbols = _spec_symbols()
    assert {"torch.avg_pool1d", "torch.nn.functional.conv1d"} <= spec_symbols
    assert named <= spec_symbols, sorted(named - spec_symbols)
    assert len(named) > 100


def test_the_differ_and_the_reports_need_no_torch():
    """Only loading sides needs torch; comparing and reporting are plain data."""
    code = textwrap.dedent(
        """
        from generator.compare.description import ConfigDescription, PatternDescription, Ref
        from generator.compare.differ import compare
        from generator.compare.json_report import json_report
        from generator.compare.markdown_report import markdown_report
        from generator.compare.text_report import text_report

        def side(name, *paths):
            patterns = tuple(PatternDescription(Ref(p), p, (("pattern", Ref(p)),)) for p in paths)
            return ConfigDescription(name, "test", "b", patterns)

        comparison = compare(side("old", "a.A", "a.B"), side("new", "a.B", "a.C"))
        for report in (text_report, json_report, markdown_report):
            report(comparison)
        print(comparison.counts()["added"], comparison.counts()["removed"])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={"PYTHONPATH": f"{REPO / 'tests' / 'no_torch'}{os.pathsep}{REPO}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1"]
