"""Compare two BackendConfigs pattern by pattern, in spec terms: ``diff`` and ``--verify``.

The pipeline, one module per step:

- ``sides``: load each side (a spec, a generated module, ``MODULE:FUNCTION``, a spec
  at a git revision via ``gitrev``) into a live BackendConfig, running generated
  code with stand-ins for symbols the installed torch lacks (``generated_source``);
- ``describe``: turn a live BackendConfig into a torch-free ``description``, naming
  every object by its public path (``public_names``) and every fuser and node
  getter by what it does (``behaviour``);
- ``codec``: descriptions as JSON data and back, exactly: sides are loaded and
  described in a child process (generator/isolation.py, tasks.py), which sends them
  to the parent this way;
- ``differ``: compare two descriptions into typed change records (pure, no torch);
- ``text_report``, ``markdown_report``, ``json_report``: lay the records out;
- ``cli``: ``python -m generator diff OLD NEW``; ``generator/verify.py``: ``--verify``.

Only ``sides``, ``describe``, ``behaviour`` and ``public_names`` import torch.
"""
