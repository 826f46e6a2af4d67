"""Reusable worker pieces (import what you need; each submodule documents whether it imports verl/Ray).

- `hf_sampling`: token-in/token-out sampling with a Hugging Face model (no verl, no Ray).
- `hf_rollout`: the CPU rollout server, replica and server adapter registered with verl as rollout `hf`.
- `weight_sync`: the `ray_store` checkpoint engine that pushes trainer weights to a rollout pool on CPU.
"""
