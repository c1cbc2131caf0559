"""Adopting backendconfig-gen in another repository, exactly as the README's front
page tells a user to: install from a fresh clone of main (no tags), generate a
module from a spec that extends a shipped one, configure the specs in
pyproject.toml, pin pre-commit to a commit of main, commit; then review a change.

Every command and file comes from the README (tests/user_side.py reads it); the
test adds only what a user already has: an environment with torch and a git
repository (Note [What the user-side tests stand in for])."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from backends import REPO
from user_side import TOOLS, TYPO, TYPO_ERROR, git, readme_section, run, walk

# The README's walkthrough, in order; "Install" ran in the user_environment fixture.
WALKTHROUGH = ("Generate your backend's module", "Keep modules fresh", "Review a torch upgrade or a spec change")
MODULE = "my_project/fbgemm_backend_config.py"


@pytest.fixture(scope="module")
def adopted(published_main, user_environment, tmp_path_factory):
    """A user's repository after every step of the README's walkthrough, and what
    each step printed."""
    repository = tmp_path_factory.mktemp("my-project")
    git("init", "-q", cwd=repository)
    done = []
    for title in WALKTHROUGH:
        done += walk(readme_section(title), repository, user_environment, published_main)
    return repository, done


def test_the_readme_walkthrough_works_on_a_fresh_clone_of_main(adopted, published_main):
    repository, done = adopted
    commands = [step.text for step, _ in done if step.kind == "command"]
    assert "backendconfig-gen spec/my_fbgemm.toml" in commands and "backendconfig-gen --check" in commands
    # pre-commit pinned rev to the commit main is at: there is no tag to name.
    assert git("tag", "-l", cwd=published_main.path) == ""
    config = (repository / ".pre-commit-config.yaml").read_text()
    assert f"    rev: {published_main.commit}\n" in config and "rev: main" not in config
    # The commit ran the three hooks, which passed, and left nothing behind.
    (committed,) = [printed for step, printed in done if step.text.startswith("git commit")]
    for hook in ("regenerate BackendConfig modules", "BackendConfig modules are fresh",
                 "BackendConfig spec symbols exist in the installed torch"):
        assert any(line.startswith(hook) and line.endswith("Passed") for line in committed.splitlines()), committed
    assert git("status", "--porcelain", cwd=repository) == ""
    assert len(git("log", "--oneline", cwd=repository).splitlines()) == 1

    module = (repository / MODULE).read_text()
    assert "# Extends: builtin:fbgemm.toml (sha256:" in module
    assert "# Regenerate: backendconfig-gen spec/my_fbgemm.toml\n" in module
    assert "nn.LSTM" not in module and "nn.Embedding," not in module
    # The linters a vendoring repository runs accept it as is (mypy: tests/test_lint.py).
    for selection in ([], ["--select", "E,F,W,I,UP,B,SIM", "--line-length", "79"]):
        lint = run(TOOLS / "ruff", "check", "--isolated", "--no-cache", *selection, MODULE, cwd=repository)
        assert lint.returncode == 0, lint.stdout


def test_after_the_walkthrough_a_change_is_reviewed_and_stopped_once(adopted, user_environment):
    """What the README says happens next: a spec change stops the commit once, for
    the regenerated module; a typo'd symbol and a hand edit fail their hooks."""
    repository, _ = adopted
    variables = user_environment.variables()

    def commit(message: str) -> tuple[int, str]:
        git("add", "-A", cwd=repository)
        result = run("git", "commit", "-q", "-m", message, cwd=repository, env=variables)
        return result.returncode, result.stdout + result.stderr  # git shows the hooks' output on stderr

    spec = repository / "spec" / "my_fbgemm.toml"
    spec.write_text(spec.read_text().replace('"embedding_op"]', '"embedding_op", "bn"]'))
    check = run("backendconfig-gen", "--check", cwd=repository, env=variables)
    assert check.returncode == 1 and check.stderr == (
        f"{MODULE}: stale (spec/my_fbgemm.toml changed since it was generated); "
        "regenerate with: backendconfig-gen spec/my_fbgemm.toml\n1 stale, 0 fresh\n")
    # docs/command-line.md pastes this output.
    assert f"```\n{check.stderr}```" in (REPO / "docs" / "command-line.md").read_text(encoding="utf-8")
    status, printed = commit("Quantize no batch norm on its own")
    assert status == 1 and "files were modified by this hook" in printed and f"wrote: {MODULE}" in printed, printed
    assert '"pattern": nn.BatchNorm2d,' not in (repository / MODULE).read_text()
    assert commit("Quantize no batch norm on its own")[0] == 0

    spec.write_text(spec.read_text() + TYPO)
    status, printed = commit("A typo")
    assert status == 1
    assert TYPO_ERROR in printed, printed
    git("reset", "-q", "--hard", cwd=repository)

    module = repository / MODULE
    module.write_text(module.read_text().replace("nn.Conv1d,", "nn.Conv2d,", 1))
    edited = module.read_bytes()
    check = run("pre-commit", "run", "backendconfig-gen-check", "--all-files", cwd=repository, env=variables)
    assert check.returncode == 1 and "hand-edited" in check.stdout, check.stdout
    assert module.read_bytes() == edited


def test_the_sdist_builds_the_same_wheel_and_leaves_the_tests_out(published_main, tmp_path):
    """The tests need a git checkout, so the sdist leaves them out on purpose
    (MANIFEST.in); what it carries builds the wheel a checkout builds, and its long
    description is the README's front page."""
    import tarfile
    import zipfile

    clone = published_main.path
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
        result = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out, source,
                     cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        (wheel,) = out.glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    (unpacked,) = (tmp_path / "unpacked").iterdir()
    from_sdist = wheel_files(unpacked, tmp_path / "from-sdist")
    from_checkout = wheel_files(clone, tmp_path / "from-checkout")
    assert from_sdist == from_checkout  # metadata (the long description) included
    assert "generator/specs/op_groups/common.toml" in from_sdist
    (metadata,) = [data for name, data in from_checkout.items() if name.endswith(".dist-info/METADATA")]
    description = metadata.decode("utf-8").split("\n\n", 1)[1]
    assert description.startswith("# backendconfig-gen\n")
    assert description.rstrip("\n") == (clone / "README.md").read_text(encoding="utf-8").rstrip("\n")
    assert len(metadata) < 20_000  # the front page, not the 63 kB of every reference
    assert "generator/specs/qconfigs/common.toml" in from_sdist
