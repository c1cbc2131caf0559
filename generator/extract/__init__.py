"""``python -m generator extract``: a spec from an existing BackendConfig (needs torch).

live.py       load MODULE:FUNCTION and the constants of its module
groups.py     the shared op groups, expanded and built to be compared
matching.py   find the runs of live patterns a shared op group expands to (whole or in part)
cover.py      live patterns as op group uses: shared groups, and groups of the spec's own
bases.py      the spec a delta extends: --base, or the nearest builtin spec
delta.py      a live config as the base's patterns plus what differs
faithful.py   whether an extracted spec regenerates the live config exactly
patterns.py   a live pattern config as an explicit pattern entry
callables.py  fusers and node getters: recognized by behaviour, else import paths
dtypes.py     dtype configs and constraints: de-duplicated by value and named
document.py   the spec as TOML (tomlkit)
extractor.py  the whole extraction
cli.py        the command line
"""
