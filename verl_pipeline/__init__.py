"""verl_pipeline: pipelined PPO/GRPO for coding models on top of verl 0.9.1.

This module is imported by every process that imports verl (through the ``verl.plugins``
entry point, see ``verl_pipeline.plugins``), so it must stay import-light: nothing here
imports torch, ray or verl. Heavy names are resolved lazily on first attribute access.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Public names that live in heavy modules; resolved by __getattr__ on first use.
_LAZY = {
    "PipelinedPPOTrainer": "verl_pipeline.pipeline.trainer",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'verl_pipeline' has no attribute {name!r}")
