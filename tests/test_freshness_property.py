"""One freshness verdict: the fast path (the header alone) and the full path (the
bytes the spec generates) agree on every change to a generated module, a header
line moved, duplicated or deleted included (Note [The header's fixed layout])."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends import BY_NAME
from generator import __version__
from generator.freshness import FRESH, fast_verdict, verdict
from generator.header import read_header
from generator.jobs import plan

SPECS = ("fbgemm", "onednn")


@pytest.fixture(scope="module", params=SPECS)
def generated(request) -> tuple[bytes, str, tuple]:
    """A committed module, what its spec generates, its inputs digest and files."""
    job = plan(str(BY_NAME[request.param].spec), None, fast=False)
    job.load()
    assert job.source is not None and job.current == job.source.encode()
    return job.current, job.inputs, job.files


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


# Mutations, each on the line list or the bytes; header lines are picked more often,
# since that is where a moved or duplicated line could go unnoticed.
HEADER_LINES = 12


def _line_index(draw, lines: list[bytes]) -> int:
    return draw(st.one_of(st.integers(0, HEADER_LINES - 1), st.integers(0, len(lines) - 1)))


@st.composite
def mutations(draw, data: bytes) -> tuple[str, bytes]:
    lines = _lines(data)
    kind = draw(st.sampled_from(["move", "duplicate", "delete", "swap", "byte", "insert", "cut"]))
    if kind in ("move", "duplicate", "delete", "swap"):
        i, j = _line_index(draw, lines), _line_index(draw, lines)
        line = lines[i]
        if kind == "move":
            rest = lines[:i] + lines[i + 1 :]
            rest.insert(min(j, len(rest)), line)
            lines = rest
        elif kind == "duplicate":
            lines.insert(j, line)
        elif kind == "delete":
            del lines[i]
        else:
            lines[i], lines[j] = lines[j], lines[i]
        return f"{kind} line {i} to {j}", b"".join(lines)
    position = draw(st.one_of(st.integers(0, 1200), st.integers(0, len(data) - 1)))
    if kind == "byte":
        value = draw(st.integers(0, 255))
        return f"byte {position} = {value}", data[:position] + bytes([value]) + data[position + 1 :]
    if kind == "insert":
        inserted = draw(st.binary(min_size=1, max_size=3))
        return f"insert {inserted!r} at {position}", data[:position] + inserted + data[position:]
    length = draw(st.integers(1, 80))
    return f"cut {length} at {position}", data[:position] + data[position + length :]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_fast_path_and_the_bytes_agree_on_every_mutation(generated, data):
    original, inputs, files = generated
    description, mutated = data.draw(mutations(original))
    fast = fast_verdict(mutated, inputs)
    full = verdict(mutated, original.decode(), inputs, files) == FRESH
    assert fast == full == (mutated == original), description


@pytest.mark.parametrize("name", SPECS)
def test_a_moved_or_duplicated_header_line_is_a_hand_edit_on_both_paths(name):
    path = BY_NAME[name].generated
    original = path.read_bytes()
    job = plan(str(BY_NAME[name].spec), None, fast=False)
    lines = _lines(original)
    signature = next(i for i, line in enumerate(lines) if line.startswith(b"# Signature:"))
    moved = lines[:signature] + lines[signature + 1 : signature + 4] + [lines[signature]] + lines[signature + 4 :]
    duplicated = lines[: signature + 1] + [lines[signature]] + lines[signature + 1 :]
    for changed in (moved, duplicated):
        data = b"".join(changed)
        assert not fast_verdict(data, job.inputs)
        job.load()
        assert job.source is not None
        assert verdict(data, job.source, job.inputs, job.files) != FRESH


def test_a_module_of_another_version_is_recognized_whatever_its_layout():
    """Modules written by 0.3.0, whose header had another layout, are still ours
    (replaced without --force) and called stale by version."""
    current = f"{__version__} from its spec. DO NOT EDIT.".encode()
    old = Path(BY_NAME["fbgemm"].generated).read_bytes().replace(current, b"0.3.0. DO NOT EDIT: change the spec and regenerate.", 1)
    assert old != Path(BY_NAME["fbgemm"].generated).read_bytes()
    header = read_header(old)
    assert not isinstance(header, str) and header.version == "0.3.0" and not header.signed
