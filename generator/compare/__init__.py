"""Compare two BackendConfigs pattern by pattern, in spec terms: ``diff`` and ``--verify``.

The pipeline, one module per step:

- ``sides``: load each side (a spec, a generated module, ``MODULE:FUNCTION``, a spec
  at a git revision) into a live BackendConfig (needs torch);
- ``describe``: turn a live BackendConfig into a torch-free ``description``, naming
  every object by its public path (``public_names``) and every callable by what it
  does (``behaviour``);
- ``differ``: compare two descriptions into typed change records (pure, no torch);
- ``text_report``, ``markdown_report``, ``json_report``: lay the records out;
- ``cli``: ``python -m generator diff OLD NEW``; ``generator.verify``: ``--verify``.
"""
