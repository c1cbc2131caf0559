"""Used from another repository, as the README walks through it: the wheel installed
in a fresh environment, a ten-line spec that starts from the packaged FBGEMM spec,
a module that passes the linters such repositories run, and the pre-commit hooks
installed from a git revision of this project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from generator import __version__


def _readme_block(after: str, language: str) -> str:
    """The README's first ```language block after the line ``after``."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rest = readme.split(after, 1)[1]
    return rest.split(f"```{language}\n", 1)[1].split("```\n", 1)[0]


# What the README's "Customizing a backend" section shows, word for word.
TEN_LINE_SPEC = _readme_block("`spec/my_fbgemm.toml`, the whole spec:", "toml")
PRE_COMMIT_CONFIG = _readme_block("`.pre-commit-config.yaml`:", "yaml")

GELU_TYPO = """
[[backend.op_groups]]
name = "gelu"
dtype_configs = ["fbgemm_default_op_quint8_dtype_config"]

[op_groups.gelu]
[[op_groups.gelu.sections]]
[[op_groups.gelu.sections.patterns]]
pattern = "torch.nn.GELUU"
"""


def run(*args: str | Path, cwd: Path, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=timeout
    )


def git(*args: str, cwd: Path) -> str:
    result = run("git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def project_at_a_revision(tmp_path_factory) -> tuple[Path, str]:
    """This project's files (tracked and new, as in the working tree) committed to a
    repository of their own: what a user's `repo:` and `rev:` point at."""
    clone = tmp_path_factory.mktemp("backendconfig-gen")
    files = git("ls-files", "--cached", "--others", "--exclude-standard", cwd=REPO).splitlines()
    for name in files:
        source = REPO / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    git("init", "-q", cwd=clone)
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", "snapshot", cwd=clone)
    # Tagged from the version, as releases are: the README's `rev:` names the tag.
    git("tag", "-a", f"v{__version__}", "-m", "release", cwd=clone)
    return clone, f"v{__version__}"


@pytest.fixture(scope="module")
def installed_wheel(project_at_a_revision, tmp_path_factory) -> Path:
    """A fresh virtual environment with only the built wheel (and what it needs)."""
    clone, _ = project_at_a_revision
    work = tmp_path_factory.mktemp("wheel")
    built = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", work, clone, cwd=work)
    assert built.returncode == 0, built.stderr
    (wheel,) = work.glob("*.whl")
    venv = work / "venv"
    assert run(sys.executable, "-m", "venv", venv, cwd=work).returncode == 0
    installed = run(venv / "bin" / "pip", "install", "-q", wheel, cwd=work)
    assert installed.returncode == 0, installed.stderr
    return venv


def test_a_ten_line_spec_from_the_packaged_fbgemm_spec_gives_a_lint_clean_module(installed_wheel, tmp_path):
    user = tmp_path / "user"
    (user / "spec").mkdir(parents=True)
    git("init", "-q", cwd=user)
    spec = user / "spec" / "my_fbgemm.toml"
    spec.write_text(TEN_LINE_SPEC)
    assert len(TEN_LINE_SPEC.splitlines()) <= 10

    result = run(installed_wheel / "bin" / "backendconfig-gen", "spec/my_fbgemm.toml", cwd=user)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "wrote: my_project/fbgemm_backend_config.py\n"  # quiet: no warning
    module = user / "my_project" / "fbgemm_backend_config.py"
    text = module.read_text()
    assert "# Extends: builtin:fbgemm.toml (sha256:" in text
    assert "# Include: builtin:op_groups/common.toml (sha256:" in text
    assert "nn.LSTM" not in text and "nn.Embedding," not in text

    # It builds torch's FBGEMM config minus those two groups (torch from this test's environment).
    build = run(sys.executable, "-c", f"import runpy; m = runpy.run_path({str(module)!r}); "
                "print(len(m['get_my_fbgemm_backend_config']().configs))", cwd=user)
    assert build.returncode == 0, build.stderr
    assert int(build.stdout) == 192 - 5 - 4  # 5 RNN patterns, 4 embedding patterns

    # The linters a vendoring repository runs accept it as is.
    ruff = Path(sys.executable).with_name("ruff")
    for selection in ([], ["--select", "E,F,W,I,UP,B,SIM", "--line-length", "79"]):
        lint = run(ruff, "check", "--isolated", *selection, module, cwd=user)
        assert lint.returncode == 0, lint.stdout
    before = module.read_bytes()
    assert run(ruff, "check", "--isolated", "--fix", module, cwd=user).returncode == 0
    assert module.read_bytes() == before
    assert run(installed_wheel / "bin" / "backendconfig-gen", "--check", "spec/my_fbgemm.toml", cwd=user).returncode == 0
    # mypy --strict, with torch's types from this test's environment.
    mypy = run(Path(sys.executable).with_name("mypy"), "--strict", "--cache-dir", tmp_path / "mypy-cache", module, cwd=user)
    assert mypy.returncode == 0 and "Success: no issues found in 1 source file" in mypy.stdout, mypy.stdout


def test_pre_commit_hooks_from_a_git_revision_regenerate_and_check(project_at_a_revision, tmp_path):
    clone, revision = project_at_a_revision
    user = tmp_path / "user"
    (user / "spec").mkdir(parents=True)
    (user / "spec" / "my_fbgemm.toml").write_text(TEN_LINE_SPEC)
    assert f"rev: {revision}\n" in PRE_COMMIT_CONFIG
    (user / ".pre-commit-config.yaml").write_text(
        PRE_COMMIT_CONFIG.replace("<URL or path of a clone of this repository>", str(clone))
    )
    git("init", "-q", cwd=user)
    git("add", "-A", cwd=user)
    # The environment activated (the resolve hook runs its python, which has torch).
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PATH": path}
    pre_commit = Path(sys.executable).with_name("pre-commit")

    # The module does not exist yet: the regenerate hook writes it, and fails the run.
    first = run(pre_commit, "run", "--all-files", cwd=user, env=env)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "wrote: my_project/fbgemm_backend_config.py" in first.stdout
    module = user / "my_project" / "fbgemm_backend_config.py"
    assert module.exists()
    git("add", "-A", cwd=user)
    second = run(pre_commit, "run", "--all-files", cwd=user, env=env)
    assert second.returncode == 0, second.stdout

    # A spec change: regenerated by the hook, reviewable as a diff, then fresh again.
    spec = user / "spec" / "my_fbgemm.toml"
    spec.write_text(spec.read_text().replace('"embedding_op"]', '"embedding_op", "bn"]'))
    git("add", "-A", cwd=user)
    third = run(pre_commit, "run", "--all-files", cwd=user, env=env)
    assert third.returncode == 1 and "files were modified by this hook" in third.stdout, third.stdout
    assert '"pattern": nn.BatchNorm2d,' not in module.read_text()  # the bn group's own pattern is gone
    git("add", "-A", cwd=user)
    assert run(pre_commit, "run", "--all-files", cwd=user, env=env).returncode == 0

    # A typo in a symbol generates; the resolve hook names it, with file and key.
    git("add", "-A", cwd=user)
    spec.write_text(spec.read_text() + GELU_TYPO)
    resolve = run(pre_commit, "run", "backendconfig-gen-resolve", "--all-files", cwd=user, env=env)
    assert resolve.returncode == 1, resolve.stdout
    assert ("error: spec/my_fbgemm.toml: op_groups.gelu.sections[0].patterns[0]: torch.nn.GELUU: "
            "torch.nn has no attribute 'GELUU'") in resolve.stdout
    spec.write_text(spec.read_text().replace(GELU_TYPO, ""))

    # The check hook alone fails on a hand edit and changes nothing.
    module.write_text(module.read_text().replace("nn.Conv1d,", "nn.Conv2d,", 1))
    edited = module.read_bytes()
    check = run(pre_commit, "run", "backendconfig-gen-check", "--all-files", cwd=user, env=env)
    assert check.returncode == 1 and "hand-edited" in check.stdout
    assert module.read_bytes() == edited


def test_the_sdist_builds_the_same_wheel_and_leaves_the_tests_out(project_at_a_revision, tmp_path):
    """The tests need a git checkout, so the sdist leaves them out on purpose
    (MANIFEST.in); what it carries builds the wheel a checkout builds."""
    import tarfile
    import zipfile

    clone, _ = project_at_a_revision
    built = run(sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", tmp_path / "dist", clone, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    (sdist,) = (tmp_path / "dist").glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
        archive.extractall(tmp_path / "unpacked", filter="data")
    assert not any(name.startswith(("tests/", "benchmarks/")) for name in names), sorted(names)
    assert {"LICENSE", "README.md", "spec/fbgemm.toml", "spec/op_groups/common.toml", "templates/backend_config.py.j2",
            "spec/backendconfig-spec.schema.json", "spec/qconfigs/common.toml", "templates/qconfig_mapping.py.j2"} <= names

    def wheel_files(source: Path, out: Path) -> dict[str, bytes]:
        result = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out, source, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        (wheel,) = out.glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            return {name: archive.read(name) for name in archive.namelist() if ".dist-info/" not in name}

    (unpacked,) = (tmp_path / "unpacked").iterdir()
    from_sdist = wheel_files(unpacked, tmp_path / "from-sdist")
    from_checkout = wheel_files(clone, tmp_path / "from-checkout")
    assert from_sdist == from_checkout
    assert "generator/specs/op_groups/common.toml" in from_sdist
    assert "generator/specs/qconfigs/common.toml" in from_sdist
