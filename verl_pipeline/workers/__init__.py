"""Reusable worker pieces, importable by other projects:

    from verl_pipeline.workers import HFReplica, HFRolloutServer, HFServerAdapter, RayStoreCheckpointEngine

- `hf_sampling`: token-in/token-out sampling with a Hugging Face model (no verl, no Ray).
- `hf_rollout`: the CPU rollout server, replica and server adapter, registered with verl as rollout `hf`.
- `weight_sync`: the `ray_store` checkpoint engine that pushes trainer weights to a separate rollout pool.

Only workers live here: the trainer is `verl_pipeline.pipeline.trainer.PipelinedPPOTrainer` and the agent-loop
manager `verl_pipeline.pipeline.agent_loop.TimestampedAgentLoopManager`. Names resolve lazily, so importing this package costs nothing until a name is used.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "SamplingParams": "verl_pipeline.workers.hf_sampling",
    "sample_batch": "verl_pipeline.workers.hf_sampling",
    "HFRolloutServer": "verl_pipeline.workers.hf_rollout",
    "HFReplica": "verl_pipeline.workers.hf_rollout",
    "HFServerAdapter": "verl_pipeline.workers.hf_rollout",
    "RayStoreCheckpointEngine": "verl_pipeline.workers.weight_sync",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'verl_pipeline.workers' has no attribute {name!r}")
