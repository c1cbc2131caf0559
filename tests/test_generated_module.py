"""The generated module stands alone: public torch modules and the stdlib only."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

from conftest import GENERATED, REPO

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


def test_imports_are_only_public_torch_modules_and_stdlib():
    tree = ast.parse(GENERATED.read_text())
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


def test_dotted_torch_references_are_all_imported():
    """Every torch.x.y.Name the code uses has its module imported."""
    tree = ast.parse(GENERATED.read_text())
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


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER + textwrap.dedent(code)],
        cwd=REPO / "tests",  # not the repo root: `generator` must not be importable by accident
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_imports_in_fresh_interpreter_without_generator_dependencies():
    result = _run(
        f"""
        import importlib.util
        for name in ("jinja2", "tomllib", "generator"):
            try:
                __import__(name)
            except ImportError:
                pass
            else:
                raise SystemExit(f"{{name}} was importable")
        spec = importlib.util.spec_from_file_location("fbgemm", {str(GENERATED)!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        config = module.get_fbgemm_backend_config()
        print(len(config.configs))
        """
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) > 0


def test_works_where_torchs_own_getter_fails():
    """In a fresh interpreter torch 2.13's getter raises; the generated one does not."""
    result = _run(
        f"""
        from torch.ao.quantization.backend_config import get_fbgemm_backend_config
        try:
            get_fbgemm_backend_config()
        except AttributeError as error:
            print("torch failed:", error)
        import importlib.util
        spec = importlib.util.spec_from_file_location("fbgemm", {str(GENERATED)!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print("ours:", len(module.get_fbgemm_backend_config().configs))
        """
    )
    assert result.returncode == 0, result.stderr
    assert "ours: " in result.stdout
    print(result.stdout)
