"""Each generated module stands alone: public torch modules and the stdlib only."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap

import pytest

from backends import BACKENDS, IDS, REPO

# Modules a generated module may import: torch's public ones and the stdlib.
ALLOWED_IMPORTS = {"importlib", "operator", "torch", "torch.nn.functional"}
ALLOWED_PREFIXES = ("torch.ao.nn.",)
# Modules names may be imported from, and which: public names only (checked below).
ALLOWED_FROM_IMPORTS = {
    "collections.abc": {"Callable"},
    "typing": {"Any"},
    "torch": {"nn"},
    "torch.ao.quantization.backend_config": {
        "BackendConfig",
        "BackendPatternConfig",
        "DTypeConfig",
        "DTypeWithConstraints",
        "ObservationType",
    },
    "torch.ao.quantization": {"QConfig", "QConfigMapping"},
    "torch.ao.quantization.fake_quantize": None,
    "torch.ao.quantization.observer": None,
    "torch.ao.quantization.fuser_method_mappings": None,
    "torch.ao.quantization.utils": {"MatchAllNode"},
    "torch.nn.utils.fusion": None,
}


def _imports(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                yield node.module, alias.name


@pytest.mark.parametrize("row", BACKENDS, ids=IDS)
def test_imports_are_only_public_torch_modules_and_stdlib(row):
    tree = ast.parse(row.generated.read_text())
    imports = list(_imports(tree))
    assert imports, "the generated module must import torch"
    for module, name in imports:
        if name is None:
            assert module in ALLOWED_IMPORTS or module.startswith(ALLOWED_PREFIXES), module
        else:
            assert module in ALLOWED_FROM_IMPORTS, (module, name)
            allowed = ALLOWED_FROM_IMPORTS[module]
            assert (allowed is None and not name.startswith("_")) or name in allowed, (module, name)
        assert not any(part.startswith("_") for part in module.split(".")), module
    # No private torch name is reached through an attribute either.
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise AssertionError(f"private attribute {ast.unparse(node)}")


@pytest.mark.parametrize("row", BACKENDS, ids=IDS)
def test_dotted_torch_references_are_all_imported(row):
    """Every torch.x.y.Name the code uses has its module imported."""
    tree = ast.parse(row.generated.read_text())
    imported = {module for module, name in _imports(tree) if name is None}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            dotted = ast.unparse(node)
            if dotted.startswith("torch.") and dotted.count(".") >= 2 and dotted.replace(".", "").isidentifier():
                module = dotted.rpartition(".")[0]
                assert any(module == m or m.startswith(module + ".") for m in imported), dotted


BLOCKER = textwrap.dedent(
    """
    import sys

    class Blocker:
        blocked = {"jinja2", "tomllib", "tomli", "generator", "black"}

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.blocked:
                raise ImportError(f"{name} is blocked for this test")
            return None

    sys.meta_path.insert(0, Blocker())
    for name in list(sys.modules):
        if name.split(".")[0] in Blocker.blocked:
            del sys.modules[name]
    """
)


# Runs in a fresh interpreter where the generator's own dependencies cannot be imported:
# first every torch getter (each fails in torch 2.13 while nothing has imported
# backend_config.utils), then every generated module. One interpreter for all backends:
# importing torch is the expensive part.
FRESH_RUN = textwrap.dedent(
    """
    import importlib, importlib.util, json, sys

    for name in ("jinja2", "tomllib", "generator"):
        try:
            __import__(name)
        except ImportError:
            pass
        else:
            raise SystemExit(f"{name} was importable")
    rows = json.loads(sys.argv[1])
    result = {name: {} for name, *_ in rows}
    for name, path, torch_module, getter in rows:
        try:
            getattr(importlib.import_module(torch_module), getter)()
        except AttributeError as error:
            result[name]["torch"] = f"AttributeError: {error}"
        else:
            result[name]["torch"] = "worked"
    for name, path, torch_module, getter in rows:
        spec = importlib.util.spec_from_file_location(f"fresh_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        result[name]["ours"] = len(getattr(module, getter)().configs)
    print(json.dumps(result))
    """
)


@pytest.fixture(scope="session")
def fresh_run() -> dict:
    rows = [[row.name, str(row.generated), row.torch_module, row.getter] for row in BACKENDS]
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER + FRESH_RUN, json.dumps(rows)],
        cwd=REPO / "tests",  # not the repo root: `generator` must not be importable by accident
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("row", BACKENDS, ids=IDS)
def test_works_in_a_fresh_interpreter_where_torchs_own_getter_fails(row, fresh_run):
    """Without jinja2, tomllib or the generator, and where torch 2.13's getter raises."""
    found = fresh_run[row.name]
    assert found["torch"] == "AttributeError: module 'torch.ao.quantization.backend_config' has no attribute 'utils'"
    assert found["ours"] == row.effective
