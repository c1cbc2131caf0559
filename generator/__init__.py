"""Turn PyTorch quantization backend config specs (TOML) into plain, reviewable Python."""

__version__ = "0.4.0"
