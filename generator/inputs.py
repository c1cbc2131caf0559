"""The files a spec reads, found without validating it: the fast path of ``--check``
and of a run with nothing to do.

A module is fresh when its header's inputs digest is the digest of these files
(see header.py); only then is nothing else loaded. So this module reads the spec,
the specs it extends and the files they include exactly as the loader does, and
imports nothing of the loader's: anything unusual returns None, and the full load
says what is wrong. A mistake here can only cost time, never a wrong verdict: a
digest of other files than the header's is not fresh.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from .errors import Reporter
from .sources import MAX_SPEC_BYTES, MAX_TOTAL_BYTES, Document, Location, SpecFile, display_base, locate, read_bounded, read_document

# Bounds the loader enforces with a message; here, exceeding one means "load it".
MAX_EXTENDS = 8
MAX_INCLUDES = 10_000


class Inputs(NamedTuple):  # see Note [No dataclasses on the fast path] in errors.py
    """What a spec's output depends on, found without validating the spec."""

    location: Location
    default_output: Path | None  # backend.output, relative to the spec
    files: tuple[SpecFile, ...]
    documents: dict[str, Document | bytes]  # what was read (specs parsed), for load_backend


class _Read:
    """One spec of the extends chain and the files it includes itself."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.includes: list[tuple[Location, bytes]] = []
        self.base: _Read | None = None


class _Unusual(Exception):
    """Something the full load has to look at."""


def find_inputs(spec: str, output: Path | None) -> Inputs | None:
    """The files ``spec`` reads, in the order the header names them, or None when
    anything is off."""
    location = locate(spec)
    if isinstance(location, str):
        return None
    reader = _ChainReader()
    try:
        chain = reader.chain(location)
    except _Unusual:
        return None
    table = chain[0].doc.data.get("backend")
    raw = table.get("output") if isinstance(table, dict) else None
    if not isinstance(raw, str) or not raw.strip() or "\0" in raw:
        return None
    default_output = location.directory / raw
    target = output if output is not None else default_output
    files = spec_files([(read.doc, read.includes) for read in chain], target)
    return Inputs(location, default_output, files, reader.documents)


Included = tuple[Location, bytes]  # an included file and its content, line endings normalized


def spec_files(chain: list[tuple[Document, list[Included]]], output: Path) -> tuple[SpecFile, ...]:
    """The header's inputs: the spec, the specs it extends, then every include.
    ``chain`` holds each spec of the extends chain, the spec first, with its includes."""
    main = chain[0][0].location
    base = display_base(main.path if main.builtin is None else output)
    found = [SpecFile(main.display(base), chain[0][0].content, "spec", main.real_path)]
    found += [SpecFile(doc.location.display(base), doc.content, "extends", doc.location.real_path) for doc, _ in chain[1:]]
    found += [SpecFile(at.display(base), content, "include", at.real_path) for _, includes in chain for at, content in includes]
    return tuple(found)


class _ChainReader:
    """Reads as Loader.read_spec does: a spec, then the spec it extends (and its
    includes), then the spec's own includes, skipping those a base already made."""

    def __init__(self) -> None:
        self.documents: dict[str, Document | bytes] = {}  # specs parsed, includes only read
        self.included: set[str] = set()
        self.total_bytes = 0  # of every file read: past MAX_TOTAL_BYTES, the loader says so

    def chain(self, location: Location) -> list[_Read]:
        chain = [self.spec(location, [])]
        while (base := chain[-1].base) is not None:
            chain.append(base)
        return chain

    def spec(self, location: Location, below: list[str]) -> _Read:
        doc = self.document(location)
        spec = _Read(doc)
        if "extends" in doc.data:
            reference = doc.data["extends"]
            base = self.locate(reference, location)
            if base.identity in [*below, location.identity] or len(below) >= MAX_EXTENDS:
                raise _Unusual
            spec.base = self.spec(base, [*below, location.identity])
        includes = doc.data.get("include", [])
        if not isinstance(includes, list) or len(includes) > MAX_INCLUDES:
            raise _Unusual
        own: set[str] = set()
        for reference in includes:
            included = self.locate(reference, location)
            identity = included.identity
            if identity in self.included and identity not in own:
                continue  # a file a base spec includes, named again
            if identity in self.documents:
                raise _Unusual  # included twice, or the spec itself: the loader says so
            own.add(identity)
            self.included.add(identity)
            spec.includes.append((included, self.content(included, identity)))
        return spec

    def locate(self, reference: object, relative_to: Location) -> Location:
        if not isinstance(reference, str):
            raise _Unusual
        found = locate(reference, relative_to)
        if isinstance(found, str):
            raise _Unusual
        return found

    def document(self, location: Location) -> Document:
        doc = read_document(location, Reporter())
        if doc is None:
            raise _Unusual
        self.count(doc.size)
        self.documents[location.identity] = doc
        return doc

    def content(self, location: Location, identity: str) -> bytes:
        """An included file's bytes, as the digest covers them. It is not parsed:
        an include names no other file, and its content is all the digest needs."""
        try:
            raw = read_bounded(location.path, MAX_SPEC_BYTES)
        except OSError:
            raise _Unusual from None
        if len(raw) > MAX_SPEC_BYTES:
            raise _Unusual
        self.count(len(raw))
        self.documents[identity] = raw
        return raw.replace(b"\r\n", b"\n")

    def count(self, size: int) -> None:
        self.total_bytes += size
        if self.total_bytes > MAX_TOTAL_BYTES:
            raise _Unusual
