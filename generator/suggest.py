"""Did-you-mean messages for a name that is not among the known ones.

Used wherever a spec names something (a key, a dtype, an op group, a builtin
file): every such message lists what was expected and the closest match.
"""

from __future__ import annotations

import difflib
import functools
from typing import Collection

# Choices listed in a message, and compared with a misspelled name.
LISTED_CHOICES = 40
FEW_CHOICES = 64
MAX_CANDIDATES = 24


def one_of(choices: Collection[str], got: str, ordered: bool = False) -> str:
    """"did you mean ...? expected one of: ..." for a name not among ``choices``
    (listed sorted when ``ordered``, else in their own order).

    Its cost does not grow with the number of choices: a spec with thousands of
    names and thousands of misspellings stays linear. Many choices are indexed
    once (per collection, while it is unchanged) and a name is compared only with
    those of about its length that share its first or last two characters."""
    if len(choices) <= FEW_CHOICES:
        return _few(tuple(choices), got, ordered)
    index = _index(choices, ordered)
    if got not in index.answers:
        if len(index.answers) >= 4096:
            index.answers.clear()
        index.answers[got] = _hint(got, index.candidates(got)) + f"expected one of: {index.listed}"
    return index.answers[got]


@functools.lru_cache(maxsize=4096)
def _few(choices: tuple[str, ...], got: str, ordered: bool) -> str:
    names = sorted(choices) if ordered else list(choices)
    return _hint(got, names) + f"expected one of: {_listed(names, len(names))}"


def _hint(got: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(got, candidates, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def _listed(names: list[str], total: int) -> str:
    return ", ".join(names[:LISTED_CHOICES]) + (", ..." if total > LISTED_CHOICES else "")


class _ChoiceIndex:
    def __init__(self, source: Collection[str], ordered: bool):
        self.source = source  # held, so its id is not reused while it is cached
        self.size = len(source)
        self.ordered = ordered
        names = sorted(source) if ordered else list(source)
        self.listed = _listed(names, len(names))
        self.answers: dict[str, str] = {}
        self.buckets: dict[tuple[str, str, int], list[str]] = {}
        for name in names:
            for key in (("start", name[:2], len(name)), ("end", name[-2:], len(name))):
                bucket = self.buckets.setdefault(key, [])
                if len(bucket) < MAX_CANDIDATES:
                    bucket.append(name)

    def candidates(self, got: str) -> list[str]:
        found: dict[str, None] = {}
        for length in sorted(range(len(got) - 2, len(got) + 3), key=lambda n: abs(n - len(got))):
            for key in (("start", got[:2], length), ("end", got[-2:], length)):
                found.update(dict.fromkeys(self.buckets.get(key, ())))
            if len(found) >= MAX_CANDIDATES:
                break
        return list(found)[:MAX_CANDIDATES]


_INDEXES: dict[int, _ChoiceIndex] = {}


def _index(choices: Collection[str], ordered: bool) -> _ChoiceIndex:
    found = _INDEXES.get(id(choices))
    if found is None or found.source is not choices or found.size != len(choices) or found.ordered != ordered:
        found = _ChoiceIndex(choices, ordered)
        if len(_INDEXES) >= 16:
            _INDEXES.pop(next(iter(_INDEXES)))
        _INDEXES[id(choices)] = found
    return found
