"""The overrides that put any recipe's rollout on vLLM's CPU build: the README's "Any recipe runs on vLLM on CPU"
line, in one place for the benchmark scripts (tests/test_readme.py checks the README says the same)."""

from __future__ import annotations


def vllm_on_cpu(max_model_len: int) -> list[str]:
    """verl's vLLM rollout on vLLM's CPU platform: float32, no CUDA graphs, no sleep mode, 1 GiB of KV cache."""
    return [
        "actor_rollout_ref.rollout.name=vllm", "actor_rollout_ref.rollout.dtype=float32",
        "actor_rollout_ref.rollout.enforce_eager=true", "+actor_rollout_ref.rollout.enable_sleep_mode=false",
        "actor_rollout_ref.rollout.free_cache_engine=false", f"actor_rollout_ref.rollout.max_model_len={max_model_len}",
        '+ray_kwargs.ray_init.runtime_env.env_vars.VLLM_CPU_KVCACHE_SPACE="1"',
    ]
