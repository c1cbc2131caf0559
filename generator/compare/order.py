"""Which entries kept their relative order between two sides: the rest moved.

Patterns of a BackendConfig and the entries of a QConfigMapping are keyed, each key
once per side. Of the keys both sides hold, the ones kept in order are a longest
common subsequence; with unique keys that is a longest increasing run of OLD
positions read in NEW's order, found in O(n log n) (patience sorting): a config of
100,000 patterns is compared in a fraction of a second, not in 10^10 steps.

Of two runs as long (two swapped neighbours), the one leaving out the earlier item
of OLD wins: that item is reported as moved, after the other, in every version and
in both reports (tests/test_diff.py pins it). Reading NEW backwards for a
decreasing run gives that choice.
"""

from __future__ import annotations

import bisect
from collections.abc import Hashable, Sequence


def kept_in_order(old: Sequence[Hashable], new: Sequence[Hashable]) -> set[Hashable]:
    """The keys of ``old`` (each once, all in ``new``) that did not move in ``new``."""
    position = {key: index for index, key in enumerate(old)}
    # New's keys backwards, by their old position negated: an increasing run of these
    # is a run in order on both sides.
    sequence = [-position[key] for key in reversed(new)]
    tails: list[int] = []  # the smallest last value of a run of each length
    tail_at: list[int] = []  # where in ``sequence`` that run ends
    previous = [-1] * len(sequence)
    for index, value in enumerate(sequence):
        length = bisect.bisect_left(tails, value)
        if length == len(tails):
            tails.append(value)
            tail_at.append(index)
        else:
            tails[length] = value
            tail_at[length] = index
        previous[index] = tail_at[length - 1] if length else -1
    kept = set()
    index = tail_at[-1] if tail_at else -1
    while index >= 0:
        kept.add(old[-sequence[index]])
        index = previous[index]
    return kept
